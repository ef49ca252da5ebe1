"""A video's styles over time: `--style a@0 --style b@4.5` as one target and palette per frame time."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.imaging.palette import Palette
from realtime.model.style_spec import StyleSpec
from realtime.runtimes.look import Look
from realtime.runtimes.settings import DEFAULT_STROKE
from realtime.video.settings import DEFAULT_FADE, TimedStyle

_T = TypeVar("_T")


class StyleSchedule:
    """Style targets and palettes over time: entries sharing a start time blend; each change cross-fades over
    `fade` s.

    The earliest entry also covers the time before it. A change that arrives mid-fade starts from the
    blend reached so far, so the target never jumps. `palette` resolves a blend's palette (none: every
    frame keeps the generator's colours); `strength`, `stroke` and `preserve_color` hold for every frame.
    """

    def __init__(
        self,
        styles: Sequence[TimedStyle],
        resolve: Callable[[list[StyleSpec]], Tensor],
        fade: float = DEFAULT_FADE,
        palette: Callable[[list[StyleSpec]], Palette | None] | None = None,
        strength: float = 1.0,
        stroke: float = DEFAULT_STROKE,
        preserve_color: bool = False,
    ) -> None:
        if not styles:
            raise RealtimeError("no style given")
        if fade < 0:
            raise RealtimeError(f"fade must be 0 or more seconds, got {fade}")
        starts = sorted({s.start for s in styles})
        self.keyframes = [(t, [s.spec for s in styles if s.start == t]) for t in starts]
        self._targets = [resolve(specs) for _, specs in self.keyframes]
        self._palettes = [palette(specs) if palette else None for _, specs in self.keyframes]
        self.fade = fade
        self._finish = Look(self._targets[0], None, strength, stroke, preserve_color)  # checked once, here

    def look_at(self, times: Sequence[float]) -> Look:
        """The look for a batch of frames shown `times` seconds after the first frame (one target and
        palette per frame)."""
        targets = torch.stack([self.target_at(t) for t in times])
        return self._finish.with_changes(target=targets, palette=tuple(self.palette_at(t) for t in times))

    def target_at(self, seconds: float) -> Tensor:
        """The C×C target for a frame shown `seconds` after the first frame."""
        return self._at(self._targets, seconds, torch.lerp)

    def palette_at(self, seconds: float) -> Palette | None:
        """The palette for a frame shown `seconds` after the first frame, faded as the target is."""
        return self._at(self._palettes, seconds, Palette.lerp)

    def _at(self, values: list[_T], seconds: float, lerp: Callable[[_T, _T, float], _T]) -> _T:
        start_value, value, start = values[0], values[0], -math.inf
        for (begin, _), next_value in zip(self.keyframes[1:], values[1:]):
            if begin > seconds:
                break
            start_value = lerp(start_value, value, self._progress(begin - start))
            value, start = next_value, begin
        progress = self._progress(seconds - start)
        return value if progress == 1.0 else lerp(start_value, value, progress)

    def _progress(self, elapsed: float) -> float:
        return 1.0 if self.fade == 0 else min(1.0, max(0.0, elapsed / self.fade))
