"""What a picture is painted with, as one frozen value: the style target, its palette, strength, strokes, colours.

A `Stylizer` holds networks; everything that varies from one picture (or one viewer, or one keyframe) to
the next travels with the call as a `Look`. A thread that paints with a look can never see another thread
change it halfway: changing a setting makes a new look (`with_changes`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.imaging.palette import Palette
from realtime.runtimes.settings import DEFAULT_STROKE, MAX_STRENGTH, MAX_STROKE


@dataclass(frozen=True, eq=False)
class Look:
    """`target`: C×C for every sample, or B×C×C (one per sample: a batch may straddle a style change).
    `palette`: the painting's colours for every sample, one per sample, or None (the generator's own).
    `strength`: 0 = the photo, 1 = the style as trained, up to `MAX_STRENGTH` = bolder than the painting.
    `stroke`: brush-stroke size relative to the picture (`realtime.runtimes.strokes`; 0 = finest).
    `preserve_color`: keep the photo's colours (the palette is then not applied)."""

    target: Tensor
    palette: Palette | tuple[Palette | None, ...] | None = None
    strength: float = 1.0
    stroke: float = DEFAULT_STROKE
    preserve_color: bool = False

    def __post_init__(self) -> None:
        _in_range("strength", self.strength, MAX_STRENGTH)
        _in_range("stroke", self.stroke, MAX_STROKE)
        if isinstance(self.palette, list):
            object.__setattr__(self, "palette", tuple(self.palette))

    def with_changes(self, **changes: object) -> Look:
        """This look with some fields changed (checked as a new look is)."""
        return dataclasses.replace(self, **changes)

    def palettes(self, count: int) -> list[Palette | None] | None:
        """One palette per sample of a batch of `count`, or None when no sample is recoloured."""
        if self.preserve_color or self.palette is None:
            return None
        palettes = [self.palette] * count if isinstance(self.palette, Palette) else list(self.palette)
        return palettes if any(p is not None for p in palettes) else None


def _in_range(name: str, value: float, highest: float) -> None:
    if not 0.0 <= value <= highest:
        raise RealtimeError(f"{name} must be between 0 and {highest:g}, got {value}")


def per_sample(looks: Sequence[Look]) -> Look:
    """One look for a batch whose samples each have their own target and palette (same strength, stroke and
    colour mode: those are applied to the batch as a whole)."""
    first = looks[0]
    shared = (first.strength, first.stroke, first.preserve_color)
    if any((look.strength, look.stroke, look.preserve_color) != shared for look in looks):
        raise ValueError("looks batched together must share strength, stroke and colour mode")
    palettes = tuple(look.palette for look in looks)
    if any(not isinstance(p, Palette | None) for p in palettes):
        raise ValueError("per-sample looks take one palette each")
    return first.with_changes(target=torch.stack([look.target for look in looks]), palette=palettes)
