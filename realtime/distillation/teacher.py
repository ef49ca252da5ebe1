"""The teacher as the student's loss sees it: its targets of the picture set's styles, and its trunk's features."""

from __future__ import annotations

import torch
from torch import Tensor

from realtime.distillation.pictures import PictureStyle
from realtime.model.weights import Weights


class Teacher:
    """Frozen weights whose targets are computed once per style: as it painted the pictures, a built-in by its
    bank entry and a painting through its style head."""

    def __init__(
        self, weights: Weights, styles: list[PictureStyle], style_images: list[Tensor], device: torch.device
    ) -> None:
        self.weights = weights
        self.model = weights.model.to(device).eval().requires_grad_(False)
        self.styles, self.style_images, self.device = styles, style_images, device
        self._targets: dict[int, Tensor] = {}

    @torch.no_grad()
    def targets(self, style_ids: list[int]) -> Tensor:
        """B×C×C: the targets of the samples' styles."""
        for i in style_ids:
            if i not in self._targets:
                style = self.styles[i]
                self._targets[i] = (
                    self.weights.bank[style.name].to(self.device)
                    if style.builtin
                    else self.model.encode_style(self.style_images[i])[0]
                )
        return torch.stack([self._targets[i] for i in style_ids])

    @torch.no_grad()
    def trunk(self, photos: Tensor, style_ids: list[int]) -> Tensor:
        """The features its output layers paint from, for the student's feature term."""
        return self.model.trunk(photos, self.targets(style_ids))
