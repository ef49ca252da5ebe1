"""The Gatys objective: weighted style, content and smoothness losses of an image, each made scale-free.

Each layer's Gram distance is divided by the mean square of its target Gram, and the content distance
by the mean square of the photo's features. Raw magnitudes differ by orders of magnitude between
layers, VGG weights and pooling modes; normalised, the same default weights work for all of them and
per-layer weights mean shares of attention.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

from realtime.gatys.settings import GatysSettings
from realtime.perceptual.losses import content_loss, style_loss, total_variation
from realtime.perceptual.vgg import VGGFeatures


@dataclass(frozen=True)
class LossTerms:
    """The objective's parts, each already multiplied by its weight; `total` is their sum."""

    total: float
    style: float
    content: float
    tv: float


def objective(
    vgg: VGGFeatures, settings: GatysSettings, photo: Tensor, targets: Mapping[str, Tensor]
) -> Callable[[Tensor], Tensor]:
    """image → stacked (total, style, content, tv), each weighted; normalisers are fixed per level."""
    s = settings
    layers = list(dict.fromkeys((*s.style_layers, s.content_layer)))
    with torch.no_grad():
        content_target = vgg(photo, [s.content_layer])[s.content_layer]
    content_scale = s.content_weight / content_target.float().pow(2).mean().clamp_min(1e-12)
    gram_weights = {
        name: share * s.style_weight / targets[name].pow(2).mean().clamp_min(1e-12).item()
        for name, share in s.layer_weights().items()
    }

    def evaluate(image: Tensor) -> Tensor:
        features = vgg(image, layers)
        style = style_loss({name: features[name] for name in s.style_layers}, targets, gram_weights)
        content = content_loss(features[s.content_layer], content_target) * content_scale
        tv = total_variation(image / 255) * s.tv_weight
        return torch.stack([style + content + tv, style, content, tv])

    return evaluate
