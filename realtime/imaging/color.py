"""Colour-space helpers for the preserve-colour option: keep the photo's chroma, take the style's luminance."""

from __future__ import annotations

import torch
from torch import Tensor

# ITU-R BT.601 full-range YCbCr, on 0–255 RGB.
_TO_YCBCR = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_TO_RGB = torch.linalg.inv(_TO_YCBCR)
_CHROMA_OFFSET = torch.tensor([0.0, 128.0, 128.0])


def rgb_to_ycbcr(rgb: Tensor) -> Tensor:
    matrix = _TO_YCBCR.to(rgb)
    return torch.einsum("ij,bjhw->bihw", matrix, rgb) + _CHROMA_OFFSET.to(rgb).view(1, 3, 1, 1)


def ycbcr_to_rgb(ycbcr: Tensor) -> Tensor:
    matrix = _TO_RGB.to(ycbcr)
    return torch.einsum("ij,bjhw->bihw", matrix, ycbcr - _CHROMA_OFFSET.to(ycbcr).view(1, 3, 1, 1))


def luma(rgb: Tensor) -> Tensor:
    """The Y of YCbCr (B×1×H×W) of B×3×H×W RGB; plain arithmetic, so NumPy arrays work too."""
    return 0.299 * rgb[:, 0:1] + 0.587 * rgb[:, 1:2] + 0.114 * rgb[:, 2:3]


def keep_colors(stylized: Tensor, photo: Tensor) -> Tensor:
    """The stylised image's luminance with the photo's chroma (Gatys et al. 2016, 'Preserving colour').

    In YCbCr that is the stylised Y with the photo's Cb and Cr; back in RGB, where Y adds to every channel
    with weight 1, it is the photo shifted by the difference in Y. Written with operators only, it serves
    PyTorch tensors, NumPy arrays and the exported CPU graph alike.
    """
    return photo + (luma(stylized) - luma(photo))
