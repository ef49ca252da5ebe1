"""What shapes a Gatys render, and its defaults: torch-free, so the command line can offer them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from realtime.errors import RealtimeError
from realtime.perceptual.layers import STYLE_LAYERS

if TYPE_CHECKING:
    from realtime.gatys.network import LossNetwork

DEFAULT_SIZE = 512
DEFAULT_STEPS = 300
# Gatys et al. match content at conv4_2: deep enough that the style may repaint edges and texture.
DEFAULT_CONTENT_LAYER = "relu4_2"
DEFAULT_STYLE_WEIGHT = 100.0
DEFAULT_TV_WEIGHT = 1.0
DEFAULT_ADAM_LR = 0.05
OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise", "msgnet")
POOLS = ("max", "avg")
# Automatic coarse-to-fine starts at about this long side, and no level's short side goes below MIN_LEVEL_SIDE.
COARSEST_SIDE = 256
MIN_LEVEL_SIDE = 32
# Three poolings before relu4_x leave 2 px of a 16 px photo.
MIN_PHOTO_SIDE = 16


def parse_weight_list(text: str) -> tuple[float, ...]:
    """`0.05,0.05,0.2,0.3,0.4` → floats; non-negative, not all zero."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise RealtimeError(f"expected comma-separated numbers like 0.2,0.3,0.5, got '{text}'") from None
    if any(not math.isfinite(v) or v < 0 for v in values) or not any(values):
        raise RealtimeError(f"layer weights must be non-negative numbers, not all zero, got '{text}'")
    return values


def parse_layer_list(text: str) -> tuple[str, ...]:
    """`relu1_2, relu2_2` → layer names; empty parts are ignored, no names at all is an error."""
    layers = tuple(part.strip() for part in text.split(",") if part.strip())
    if not layers:
        raise RealtimeError("expected comma-separated VGG layer names like relu1_2,relu2_2")
    return layers


@dataclass(frozen=True)
class GatysSettings:
    """Everything that shapes a render; weights are relative (style layer weights are normalised to sum 1)."""

    size: int = DEFAULT_SIZE
    steps: int = DEFAULT_STEPS
    optimizer: str = "lbfgs"
    style_layers: tuple[str, ...] = STYLE_LAYERS
    style_layer_weights: tuple[float, ...] | None = None
    content_layer: str = DEFAULT_CONTENT_LAYER
    content_weight: float = 1.0
    style_weight: float = DEFAULT_STYLE_WEIGHT
    tv_weight: float = DEFAULT_TV_WEIGHT
    # Coarse-to-fine levels, each twice the previous size; 0 picks enough to start near COARSEST_SIDE.
    levels: int = 0
    # Long side of style images at the final level; 0 = the render's long side. Levels scale it alike.
    style_size: int = 0
    adam_lr: float = DEFAULT_ADAM_LR
    seed: int = 0
    preserve_color: bool = False

    def check(self, network: LossNetwork) -> None:
        """Fail before any work on settings this network cannot honour."""
        if self.optimizer not in OPTIMIZERS:
            raise RealtimeError(f"unknown optimizer '{self.optimizer}'; use one of {', '.join(OPTIMIZERS)}")
        for ok, message in self._value_checks():
            if not ok:
                raise RealtimeError(message)
        self._check_layers(network)

    def _value_checks(self) -> list[tuple[bool, str]]:
        return [
            (self.size >= MIN_LEVEL_SIDE, f"size must be at least {MIN_LEVEL_SIDE}, got {self.size}"),
            (self.steps >= 1, f"steps must be 1 or more, got {self.steps}"),
            (min(self.levels, self.style_size) >= 0, "levels and style size must be 0 or more"),
            (
                all(math.isfinite(w) and w >= 0 for w in (self.content_weight, self.style_weight, self.tv_weight)),
                "loss weights (content, style, total variation) must be 0 or more",
            ),
            (
                self.style_weight > 0 or self.content_weight > 0,
                "style and content weights are both 0: nothing to optimise",
            ),
            (
                math.isfinite(self.adam_lr) and self.adam_lr > 0,
                f"the Adam learning rate must be above 0, got {self.adam_lr}",
            ),
        ]

    def _check_layers(self, network: LossNetwork) -> None:
        available = network.vgg.layers
        missing = [name for name in (*self.style_layers, self.content_layer) if name not in available]
        if missing:
            raise RealtimeError(
                f"layer(s) {', '.join(missing)} not in the loss network ({network.describe()}); "
                f"available: {', '.join(available)}"
            )
        if len(set(self.style_layers)) != len(self.style_layers):
            raise RealtimeError(f"style layers repeat: {', '.join(self.style_layers)}")
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(self.style_layers):
            raise RealtimeError(
                f"{len(self.style_layer_weights)} style layer weights for {len(self.style_layers)} style layers "
                f"({', '.join(self.style_layers)}); give one weight per layer"
            )

    def layer_weights(self) -> dict[str, float]:
        """Each style layer's share of the style loss, summing to 1."""
        weights = self.style_layer_weights or (1.0,) * len(self.style_layers)
        total = sum(weights)
        return {name: w / total for name, w in zip(self.style_layers, weights)}
