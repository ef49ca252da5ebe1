"""What a video run can be asked for, and its defaults: torch- and FFmpeg-free, so the command line can parse it."""

from __future__ import annotations

from dataclasses import dataclass

from realtime.model.style_spec import StyleSpec, number_suffix

DEFAULT_CODEC = "libx264"
DEFAULT_FADE = 0.5  # seconds a scheduled style change takes to blend in
# Weight of the previous frame, carried along the motion, where the motion is trusted: `--stabilize` with no
# value, and live's default. Most flicker gone, motion still crisp.
STABILIZE_STRENGTH = 0.6


@dataclass(frozen=True)
class TimedStyle:
    """One `--style` entry of a video: `NAME|PATH[:WEIGHT][@SECONDS]` (no `@` means from the start)."""

    spec: StyleSpec
    start: float = 0.0

    @classmethod
    def parse(cls, text: str) -> TimedStyle:
        head, start = number_suffix(text, "@", "style start time", "0 or more seconds", lambda t: t >= 0, unit="s")
        return cls(StyleSpec.parse(head)) if start is None else cls(StyleSpec.parse(head), start)
