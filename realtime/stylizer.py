"""Frame in, stylised frame out: the Python API behind `realtime image` (and the live and video paths)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .color import keep_colors
from .device import resolve_device
from .errors import RealtimeError
from .frames import frame_to_tensor, pad_for_generator, tensor_to_frame
from .targets import DEFAULT_STYLE_SIZE, StyleSpec, StyleTargets
from .weights import Weights, default_weights_path, load_weights, untrained_weights


class UntrainedWeightsWarning(UserWarning):
    """Raised while no trained weights ship: outputs depend on the style but are not paintings."""


class Stylizer:
    """A generator on a device plus the current style target, strength and colour mode.

    `strength` blends the stylised image with the photo in pixel space (0 = photo, 1 = full style),
    which behaves the same for every style and costs nothing extra per frame.
    """

    def __init__(
        self,
        weights: Weights,
        device: torch.device | str = "cpu",
        style_size: int = DEFAULT_STYLE_SIZE,
    ) -> None:
        self.device = torch.device(device)
        self.model = weights.model.to(self.device).eval().requires_grad_(False)
        self.weights = weights
        self.styles = StyleTargets(self.model, weights.bank, self.device, style_size)
        self.target: Tensor | None = None
        self.strength = 1.0
        self.preserve_color = False

    @classmethod
    def load(
        cls,
        weights: str | Path | None = None,
        device: str = "auto",
        style_size: int = DEFAULT_STYLE_SIZE,
    ) -> Stylizer:
        """Load a weights file (default: the shipped one) onto `auto`, `cpu` or `cuda`."""
        torch_device = resolve_device(device)
        path = weights if weights is not None else default_weights_path()
        if path is None:
            warnings.warn(
                "no trained weights ship with this version yet: using an untrained generator (seed 0);"
                " outputs follow the style image but do not look like paintings",
                UntrainedWeightsWarning,
                stacklevel=2,
            )
            loaded = untrained_weights()
        else:
            loaded = load_weights(path)
        return cls(loaded, torch_device, style_size)

    @property
    def strength(self) -> float:
        return self._strength

    @strength.setter
    def strength(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise RealtimeError(f"strength must be between 0 and 1, got {value}")
        self._strength = float(value)

    def set_style(self, specs: Sequence[StyleSpec | str]) -> None:
        """Blend one or more styles into the current target (cached, so re-selecting is free)."""
        parsed = [s if isinstance(s, StyleSpec) else StyleSpec.parse(s) for s in specs]
        self.target = self.styles.blend(parsed)

    @torch.inference_mode()
    def stylize_tensor(self, content: Tensor, target: Tensor | None = None) -> Tensor:
        """B×3×H×W float (0–255) on this device → same shape; any H and W (padded, then cropped back).

        `target` overrides the current style for this call: C×C for all, or B×C×C (one per sample),
        which lets a batch of video frames straddle a style change.
        """
        target = self.target if target is None else target
        if target is None:
            raise RealtimeError("no style selected")
        h, w = content.shape[-2:]
        out = self.model(pad_for_generator(content), target)[..., :h, :w]
        if self.preserve_color:
            out = keep_colors(out, content)
        if self._strength != 1.0:
            out = torch.lerp(content, out, self._strength)
        return out.clamp(0, 255)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 RGB → stylised frame of the same size."""
        return tensor_to_frame(self.stylize_tensor(frame_to_tensor(frame, self.device)))
