"""Colour-space helpers for the preserve-colour option: keep the photo's chroma, take the style's luminance."""

from __future__ import annotations

from torch import Tensor


def luma(rgb: Tensor) -> Tensor:
    """The Y of full-range BT.601 YCbCr (B×1×H×W) of B×3×H×W RGB; plain arithmetic, so NumPy arrays work too."""
    return 0.299 * rgb[:, 0:1] + 0.587 * rgb[:, 1:2] + 0.114 * rgb[:, 2:3]


def keep_colors(stylized: Tensor, photo: Tensor) -> Tensor:
    """The stylised image's luminance with the photo's chroma (Gatys et al. 2016, 'Preserving colour').

    In YCbCr that is the stylised Y with the photo's Cb and Cr; back in RGB, where Y adds to every channel
    with weight 1, it is the photo shifted by the difference in Y. Written with operators only, it serves
    PyTorch tensors, NumPy arrays and the exported CPU graph alike.
    """
    return photo + (luma(stylized) - luma(photo))
