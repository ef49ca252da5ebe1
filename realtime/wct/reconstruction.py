"""How well a decoder inverts its level: encode a photo, decode it with no transform, compare (PSNR).

The decoders' yardstick in training (validation), in the model card and in the benchmarks. Photos
default to scikit-image's bundled samples, which no training set here contains.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from realtime.imaging.frames import center_crop, frames_to_tensor, pad_to_multiple
from realtime.imaging.images import read_image
from realtime.perceptual.vgg import VGGFeatures
from realtime.wct.decoder import Decoder

HELD_OUT_PHOTOS = ("sample:astronaut", "sample:coffee", "sample:chelsea", "sample:rocket")


def psnr(images: Tensor, references: Tensor) -> Tensor:
    """Per-image (B,) peak signal-to-noise ratio in dB of 0–255 images, after rounding to 8 bits as a file would."""
    error = (images.clamp(0, 255).round() - references).float().div(255).pow(2).mean(dim=(1, 2, 3))
    return -10 * torch.log10(error.clamp_min(1e-10))


def held_out_photos(size: int, sources: Sequence[str] = HELD_OUT_PHOTOS) -> list[np.ndarray]:
    """The held-out photos as size×size centre crops (size 0: whole, as they are)."""
    frames = [read_image(source) for source in sources]
    return [center_crop(frame, size) for frame in frames] if size else frames


@torch.no_grad()
def reconstruction_psnr(decoder: Decoder, vgg: VGGFeatures, photos: Sequence[np.ndarray]) -> float:
    """Mean PSNR (dB) of the decoder's reconstructions of the photos from their own features, in float32."""
    device = next(decoder.parameters()).device
    scores = []
    for photo in photos:  # one at a time: the photos may differ in size
        image = frames_to_tensor([photo], device)
        h, w = image.shape[-2:]
        padded = pad_to_multiple(image, 8)
        decoded = decoder(vgg(padded, [decoder.level])[decoder.level])[..., :h, :w]
        scores.append(psnr(decoded, image))
    return float(torch.cat(scores).mean())
