"""Stroke size: the generator's brush strokes kept in proportion to the picture, at any picture size.

A generator is fully convolutional, so its strokes have a fixed size in pixels: on a 1024 px still they
are half as large, relative to the picture, as on a 512 px one, and a large picture becomes fine hatching
over the photo rather than a painting. MSG-Net's paper sets the brush size through the style image's scale,
which needs the style image; built-in styles are trained targets. Here the picture is scaled instead: it
is painted at a long side of `STROKE_REFERENCE / stroke`, enlarged, and the fine texture of a pass at its
own size is put back (a Laplacian split: that pass minus its own blurred copy), so the large strokes keep
crisp edges. Pictures no larger than that are painted once, as they are: enlarging them first would only
make their strokes finer, at a higher cost.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

from realtime.imaging.frames import fit_size, resize, resize_frame
from realtime.runtimes.settings import STROKE_REFERENCE


def paint_size(height: int, width: int, stroke: float) -> tuple[int, int] | None:
    """The (height, width) to paint a picture at for `stroke`, or None when that is its own size."""
    if stroke <= 0:
        return None
    side = round(STROKE_REFERENCE / stroke)
    return None if side >= max(height, width) else fit_size(height, width, side)


def effective_stroke(height: int, width: int, stroke: float) -> float:
    """The stroke a picture of this size is actually painted with: larger than `stroke` when the picture is
    smaller than the stroke's painting size (it is painted at its own size)."""
    paint = paint_size(height, width, stroke)
    return STROKE_REFERENCE / max(paint or (height, width))


def add_strokes(coarse: Tensor, fine: Tensor) -> Tensor:
    """B×3×h×w strokes painted small and B×3×H×W the same painted at full size → the strokes at full size,
    with the full-size pass's detail (float 0–255, unclamped)."""
    size, small = fine.shape[-2:], coarse.shape[-2:]
    return resize(coarse, size) + fine - resize(resize(fine, small), size)


def add_stroke_frames(coarse: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """`add_strokes` for B×h×w×3 and B×H×W×3 uint8 frames on the host → B×H×W×3 uint8."""
    size, small = fine.shape[1:3], coarse.shape[1:3]
    out = np.empty_like(fine)
    for i, (strokes, detail) in enumerate(zip(coarse, fine)):
        blurred = resize_frame(resize_frame(detail, small), size).astype(np.float32)
        mixed = resize_frame(strokes, size).astype(np.float32) + detail - blurred
        out[i] = np.clip(mixed + 0.5, 0, 255)
    return out
