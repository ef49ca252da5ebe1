"""Perceptual losses on VGG activations, shared by MSG-Net training and Gatys optimisation."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from realtime.model.gram import gram_matrix
from realtime.perceptual.layers import CONTENT_LAYER, STYLE_LAYERS

__all__ = ["CONTENT_LAYER", "STYLE_LAYERS", "content_loss", "style_grams", "style_loss", "total_variation"]


def style_grams(features: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Gram matrices of each layer's activations, in float32 (bf16 Grams lose the small entries)."""
    return {name: gram_matrix(f.float()) for name, f in features.items()}


def style_loss(
    features: Mapping[str, Tensor],
    targets: Mapping[str, Tensor],
    layer_weights: Mapping[str, float] | None = None,
) -> Tensor:
    """Weighted sum over layers of the mean squared Gram distance; targets are B×C×C or C×C."""
    grams = style_grams(features)
    total = torch.zeros((), device=next(iter(grams.values())).device)
    for name, gram in grams.items():
        weight = 1.0 if layer_weights is None else layer_weights[name]
        target = targets[name].to(gram)
        total = total + weight * F.mse_loss(gram, target.expand_as(gram), reduction="mean")
    return total


def content_loss(features: Tensor, target: Tensor) -> Tensor:
    return F.mse_loss(features.float(), target.float())


def total_variation(images: Tensor) -> Tensor:
    """Mean absolute difference between neighbouring pixels: penalises ripples and high-frequency noise."""
    dh = (images[..., 1:, :] - images[..., :-1, :]).abs().mean()
    dw = (images[..., :, 1:] - images[..., :, :-1]).abs().mean()
    return dh + dw
