"""Edge-aware upsampling: a picture made at a small size, enlarged along the edges of the full-size photo.

The generator runs at a small working size when the CPU cannot afford the display size; enlarging its
output with plain interpolation gives soft, stair-stepped edges. The fast guided filter (He & Sun 2015,
after He et al.'s guided filter) instead fits, in each small window, the stylised picture as a linear
function of the photo's brightness; those coefficients are smooth, so they enlarge without harm, and applied
to the full-size photo they put the stylisation back on sharp edges. Everything is a few box filters and
resizes on the host (OpenCV), well under the generator's time.
"""

from __future__ import annotations

import cv2
import numpy as np

# Window radius at the small size, and regularisation in (0–255)² units: a larger one keeps more of the
# stylisation's own texture and takes fewer of the photo's edges.
GUIDE_RADIUS = 2
GUIDE_EPS = 12.0**2


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(image, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def _brightness(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)


def guided_upsample(
    stylized: np.ndarray,
    photo_small: np.ndarray,
    photo: np.ndarray,
    radius: int = GUIDE_RADIUS,
    eps: float = GUIDE_EPS,
) -> np.ndarray:
    """`stylized` (h×w×3 uint8, made from `photo_small`, the same size) enlarged to `photo`'s H×W, guided by it."""
    if stylized.shape != photo_small.shape:
        raise ValueError(f"stylised {stylized.shape} and small photo {photo_small.shape} frames differ in size")
    guide_small, guide = _brightness(photo_small), _brightness(photo)
    p = stylized.astype(np.float32)
    mean_i = _box(guide_small, radius)[..., None]
    var_i = _box(guide_small * guide_small, radius)[..., None] - mean_i * mean_i
    mean_p = _box(p, radius)
    cov_ip = _box(p * guide_small[..., None], radius) - mean_i * mean_p
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    size = (photo.shape[1], photo.shape[0])
    a = cv2.resize(_box(a, radius), size, interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(_box(b, radius), size, interpolation=cv2.INTER_LINEAR)
    out = a * guide[..., None] + b
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
