"""A painting's palette, and the colour map that gives a stylised picture that palette.

MSG-Net follows a painting it never trained on in strokes sooner than in colours: a pencil sketch comes out
coloured, a red-and-black ink drawing brown. The linear Monge–Kantorovich colour transfer (Pitié & Kokaram
2007) moves the stylised picture's colour distribution onto the painting's — the mean and the 3×3
covariance of its RGB pixels — with one affine map per picture, found from a sample of its pixels and
applied in one pass, far cheaper than the generator, leaving its strokes and shapes where they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import Tensor

# Pixels the statistics are taken from: a sample this size pins a picture's mean and covariance to well under
# a grey level, at a cost that does not grow with the picture.
SAMPLE_PIXELS = 16_384
# Largest stretch along any colour axis: a near-flat picture (a covered camera) is not blown up to the
# painting's full contrast, which would turn sensor noise into coloured speckle.
MAX_GAIN = 4.0
# Added to a picture's covariance (grey levels²) so a flat colour channel still has an inverse.
RIDGE = 1.0


@dataclass(frozen=True)
class Palette:
    """A painting's colour statistics: `mean` (3) and second moment `moment` (3×3, E[xxᵀ]) of its RGB pixels
    (0–255), and the `amount` of it to apply (0 = the generator's own colours, 1 = the painting's).

    Moments rather than covariances, so that a blend of styles has the palette of their pixels pooled: a
    weighted sum of moments (`mix`), the same rule that blends style targets.
    """

    mean: np.ndarray
    moment: np.ndarray
    amount: float = 1.0

    @classmethod
    def of(cls, picture: np.ndarray) -> Palette:
        """The palette of an H×W×3 uint8 picture."""
        return cls(*(moment.numpy() for moment in _moments(_sample(picture))))

    @staticmethod
    def mix(palettes: Sequence[Palette | None], weights: Sequence[float]) -> Palette | None:
        """The palette of a blend: styles without one (built-ins, whose colours the generator learnt) count as
        the generator's own colours, so a half-and-half blend takes half the painting's palette."""
        present = [(p, w) for p, w in zip(palettes, weights) if p is not None and w > 0]
        total = float(sum(weights))
        if not present or total <= 0:
            return None
        share = sum(w for _, w in present)
        return Palette(
            sum(p.mean * w for p, w in present) / share,
            sum(p.moment * w for p, w in present) / share,
            sum(p.amount * w for p, w in present) / total,
        )

    @staticmethod
    def lerp(start: Palette | None, end: Palette | None, progress: float) -> Palette | None:
        """The palette `progress` (0–1) of the way through a cross-fade from `start` to `end`."""
        return Palette.mix([start, end], [1.0 - progress, progress])

    def affine(self, mean: Tensor, moment: Tensor) -> Tensor:
        """The 3×4 affine map (matrix | offset) taking pixels with this `mean` and `moment` (float64 tensors)
        to this palette, on their device: frames on a GPU are recoloured there, with no host round trip."""
        like = {"dtype": torch.float64, "device": mean.device}
        eye = torch.eye(3, **like)
        mean_to = torch.as_tensor(self.mean, **like)
        source = moment - torch.outer(mean, mean) + RIDGE * eye
        target = torch.as_tensor(self.moment, **like) - torch.outer(mean_to, mean_to) + RIDGE * eye
        root, inverse_root = _roots(source)
        transfer = inverse_root @ _roots(root @ target @ root)[0] @ inverse_root
        values, vectors = torch.linalg.eigh(transfer)
        transfer = (vectors * values.clamp(0.0, MAX_GAIN)) @ vectors.T
        matrix = (1.0 - self.amount) * eye + self.amount * transfer
        offset = self.amount * (mean_to - transfer @ mean)
        return torch.cat([matrix, offset[:, None]], dim=1)


def recolor_frames(frames: np.ndarray, palettes: Sequence[Palette | None]) -> np.ndarray:
    """B×H×W×3 uint8 stylised frames, each given its palette (None: left as it is); new array, saturating."""
    out = frames.copy()
    for index, palette in enumerate(palettes):
        if palette is not None:
            affine = palette.affine(*_moments(_sample(frames[index])))
            cv2.transform(frames[index], affine.numpy().astype(np.float32), dst=out[index])
    return out


def recolor_tensor(images: Tensor, palettes: Sequence[Palette | None]) -> Tensor:
    """B×3×H×W float (0–255) stylised images, each given its palette (None: left as it is); unclamped."""
    out = []
    for image, palette in zip(images, palettes):
        if palette is None:
            out.append(image)
            continue
        affine = palette.affine(*_moments(_sample(image.detach().permute(1, 2, 0)))).to(image.dtype)
        out.append(torch.einsum("ij,jhw->ihw", affine[:, :3], image) + affine[:, 3, None, None])
    return torch.stack(out)


def _sample(picture: np.ndarray | Tensor) -> np.ndarray | Tensor:
    """About `SAMPLE_PIXELS` of an H×W×3 picture's pixels, evenly spread, as N×3."""
    step = max(1, int((picture.shape[0] * picture.shape[1] / SAMPLE_PIXELS) ** 0.5))
    return picture[::step, ::step].reshape(-1, 3)


def _moments(pixels: np.ndarray | Tensor) -> tuple[Tensor, Tensor]:
    """Mean and second moment of N×3 pixels, as float64 tensors where the pixels are."""
    x = torch.as_tensor(pixels).double()
    return x.mean(dim=0), x.T @ x / len(x)


def _roots(matrix: Tensor) -> tuple[Tensor, Tensor]:
    """The square root of a symmetric positive definite matrix, and its inverse."""
    values, vectors = torch.linalg.eigh(matrix)
    values = values.clamp_min(1e-6) ** 0.5
    return (vectors * values) @ vectors.T, (vectors / values) @ vectors.T
