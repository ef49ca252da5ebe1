"""Gram matrices: the style statistic both the Inspiration layer and the perceptual losses are built on."""

from __future__ import annotations

import torch
from torch import Tensor


def gram_matrix(features: Tensor) -> Tensor:
    """Channel correlations normalised by C·H·W, so targets from different image sizes compare."""
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)
