"""What a Gatys render aims for: the blended VGG Gram targets of one or more weighted styles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.gatys.network import LossNetwork
from realtime.gatys.settings import MIN_LEVEL_SIDE
from realtime.imaging.frames import fit_long_side, frame_to_tensor
from realtime.imaging.images import is_image_source, read_image
from realtime.model.style_spec import StyleSpec
from realtime.model.targets import unknown_style_message
from realtime.model.weights import Weights
from realtime.perceptual.layers import STYLE_LAYERS
from realtime.perceptual.losses import style_grams


class StyleGrams:
    """The blended per-layer Gram targets of one or more weighted styles: what a render aims for.

    Style images are kept, not just their Grams, so every coarse-to-fine level measures the style at
    the same scale relative to the image; built-in styles arrive as fixed Grams from a weights file.
    Blending targets is exactly Gatys's weighted sum of per-style losses, up to a constant.
    """

    def __init__(
        self,
        network: LossNetwork,
        layers: Sequence[str],
        parts: Sequence[tuple[float, np.ndarray | Mapping[str, Tensor]]],
        style_size: int = 0,
    ) -> None:
        if not parts:
            raise RealtimeError("no style given")
        self.network = network
        self.layers = tuple(layers)
        self.style_size = style_size
        total = sum(weight for weight, _ in parts)
        self._parts = [(weight / total, source) for weight, source in parts]
        self._cache: dict[tuple, dict[str, Tensor]] = {}

    @classmethod
    def from_specs(
        cls,
        specs: Sequence[StyleSpec | str],
        network: LossNetwork,
        layers: Sequence[str] = STYLE_LAYERS,
        weights: Weights | None = None,
        style_size: int = 0,
    ) -> StyleGrams:
        """Image paths and `sample:NAME` always work; built-in names need a weights file with VGG targets."""
        parts: list[tuple[float, np.ndarray | Mapping[str, Tensor]]] = []
        for spec in StyleSpec.parse_all(specs):
            if is_image_source(spec.source):
                parts.append((spec.weight, read_image(spec.source)))
            else:
                parts.append((spec.weight, builtin_grams(spec.source, weights, network, layers)))
        return cls(network, layers, parts, style_size)

    def at(self, render_side: int, level_side: int, device: torch.device) -> dict[str, Tensor]:
        """Targets for a level whose long side is `level_side` of a render whose final long side is `render_side`."""
        style_side = round((self.style_size or render_side) * level_side / render_side)
        key = (style_side, str(device))
        if key not in self._cache:
            blended: dict[str, Tensor] = {}
            for weight, source in self._parts:
                grams = self._grams(source, style_side, device)
                for name in self.layers:
                    blended[name] = blended.get(name, 0) + weight * grams[name]
            self._cache = {key: blended}
        return self._cache[key]

    @torch.no_grad()
    def _grams(
        self, source: np.ndarray | Mapping[str, Tensor], side: int, device: torch.device
    ) -> Mapping[str, Tensor]:
        if not isinstance(source, np.ndarray):
            return {name: source[name].to(device, torch.float32) for name in self.layers}
        style = frame_to_tensor(fit_long_side(source, max(side, MIN_LEVEL_SIDE)), device)
        return style_grams(self.network.vgg(style, self.layers))


def builtin_grams(name: str, weights: Weights | None, network: LossNetwork, layers: Sequence[str]) -> dict[str, Tensor]:
    """A built-in style's VGG Gram targets, checked against the network and layers they will meet."""
    bank_names = weights.bank.names() if weights is not None else []
    by_lower = {n.lower(): n for n in bank_names}
    if weights is None or name.lower() not in by_lower:
        raise RealtimeError(unknown_style_message(name, bank_names))
    builtin = by_lower[name.lower()]
    info = weights.vgg_bank_info
    if not weights.vgg_bank:
        raise RealtimeError(
            f"built-in style '{builtin}' has no VGG targets in {weights.source} (exported without them); "
            "pass the style image instead"
        )
    theirs = {"network": info.get("network", "?"), "pool": info.get("pool", "max")}
    if theirs != network.info():
        raise RealtimeError(
            f"the built-in VGG targets in {weights.source} were computed with {theirs['network']}/{theirs['pool']} "
            f"pooling, this render uses {network.arch}/{network.pool}: use --vgg-arch {theirs['network']} "
            f"--pool {theirs['pool']}, or pass the style image"
        )
    missing = [layer for layer in layers if layer not in weights.vgg_bank]
    if missing:
        raise RealtimeError(
            f"the built-in VGG targets in {weights.source} cover {', '.join(weights.vgg_bank)} only, not "
            f"{', '.join(missing)}: choose --style-layers among them, or pass the style image"
        )
    row = bank_names.index(builtin)
    return {layer: weights.vgg_bank[layer][row] for layer in layers}
