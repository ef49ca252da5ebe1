"""Yardsticks for a stylisation, per image: how far its style is from a target, and how far its content moved.

The headline number is the style-distance ratio, an output's Gram distance to the style divided by the
unstylised photo's: below 1 the output moved toward the style, 0 would match it exactly (a 300-step Gatys
render reaches about 0.004–0.06). Distances use the training loss's own terms (`losses.py`), so the
training style loss is the batch mean of `style_distance`.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from realtime.perceptual.losses import style_grams


def layer_distances(features: Mapping[str, Tensor], target_grams: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Per layer, the per-image (B,) mean squared Gram difference; targets are B×C×C or C×C."""
    return {
        name: (gram - target_grams[name].to(gram).expand_as(gram)).pow(2).mean(dim=(1, 2))
        for name, gram in style_grams(features).items()
    }


def sum_layers(distances: Mapping[str, Tensor], layer_weights: Mapping[str, float] | None = None) -> Tensor:
    """`layer_distances` summed over layers, each weighted (1 when `layer_weights` is None)."""
    if not distances:
        raise ValueError("no feature layers given")
    weights = layer_weights or dict.fromkeys(distances, 1.0)
    return sum(weights[name] * distance for name, distance in distances.items())


def style_distance(
    features: Mapping[str, Tensor],
    target_grams: Mapping[str, Tensor],
    layer_weights: Mapping[str, float] | None = None,
) -> Tensor:
    """Per-image (B,) sum over layers of the mean squared Gram difference; targets are B×C×C or C×C."""
    return sum_layers(layer_distances(features, target_grams), layer_weights)


def content_change(features: Tensor, reference: Tensor) -> Tensor:
    """Per-image (B,) squared change of the content features relative to the photo's own: ‖F−F₀‖² / ‖F₀‖²."""
    reference = reference.float()
    change = (features.float() - reference).pow(2).sum(dim=(1, 2, 3))
    return change / reference.pow(2).sum(dim=(1, 2, 3)).clamp_min(1e-12)
