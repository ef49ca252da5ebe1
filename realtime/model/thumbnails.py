"""Styles' thumbnails for a gallery (`realtime serve`'s, the exported site's): a style picture made small, and
for a built-in style, which is a trained target with no painting of its own, a photo painted in it."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from realtime.imaging.frames import fit_long_side, frame_to_tensor, pad_for_generator, tensor_to_frame
from realtime.imaging.images import sample_image
from realtime.model.msgnet import MSGNet

THUMBNAIL_SIDE = 160
PREVIEW_PHOTO = "chelsea"


@torch.inference_mode()
def builtin_preview(model: MSGNet, target: Tensor) -> np.ndarray:
    """The preview photo painted with `target` by the eager model (a fast path belongs to whichever thread runs
    frames), at twice the thumbnail's size: brush strokes show there, and shrinking keeps them."""
    photo = fit_long_side(sample_image(PREVIEW_PHOTO), 2 * THUMBNAIL_SIDE)
    parameter = next(model.parameters())
    content = frame_to_tensor(photo, parameter.device).to(parameter.dtype)
    h, w = content.shape[-2:]
    return tensor_to_frame(model(pad_for_generator(content), target.to(parameter.dtype))[..., :h, :w].float())


def thumbnail_jpeg(picture: np.ndarray) -> bytes:
    """An H×W×3 uint8 picture as a JPEG of `THUMBNAIL_SIDE` on its long side."""
    buffer = io.BytesIO()
    Image.fromarray(fit_long_side(picture, THUMBNAIL_SIDE)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
