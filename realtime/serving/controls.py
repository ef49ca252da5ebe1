"""One viewer's picture settings and the control messages that change them, checked field by field.

The page sends `{"set": {...}}` on the connection's data channel (or in the offer, as `"settings"`); any
WebRTC client may, so every value is checked and a bad one is a one-line error, never a crash.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from realtime.errors import RealtimeError
from realtime.runtimes.settings import DEFAULT_STROKE, MAX_STROKE
from realtime.serving.settings import MIN_WORKING_SIZE

# The working sizes `[` and `]` step through, up to the server's own (the largest a viewer may ask for).
SIZE_STEPS = (64, 96, 128, 160, 192, 256, 320, 384, 480, 640, 800, 960, 1280, 1600, 1920)
_FLAGS = ("preserve_color", "mirror", "compare", "paused")
KNOWN = frozenset({"style", "morph", "strength", "stroke", "size", "size_step", *_FLAGS})


def parse_message(text: str | bytes) -> dict[str, object]:
    """A data-channel message → a dict with one of `set` or `ping`; anything else is a `RealtimeError`."""
    try:
        message = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise RealtimeError('messages are JSON: {"set": {...}} or {"ping": T}') from None
    if not isinstance(message, dict) or not ({"set", "ping"} & message.keys()):
        raise RealtimeError('messages are JSON objects with "set" or "ping"')
    if "set" in message:
        check_changes(message["set"])
    return message


def check_changes(changes: object) -> Mapping[str, object]:
    if not isinstance(changes, dict):
        raise RealtimeError('settings are an object, e.g. {"strength": 0.5}')
    unknown = sorted(set(changes) - KNOWN)
    if unknown:
        raise RealtimeError(f"unknown setting {unknown[0]!r}; settings: {', '.join(sorted(KNOWN))}")
    return changes


def _clamped(name: str, value: object, highest: float) -> float:
    """A number setting, kept within 0–`highest` (a slider or a key may overshoot); anything else is an error."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RealtimeError(f"{name} must be a number between 0 and {highest:g}, got {value!r}")
    return min(highest, max(0.0, float(value)))


@dataclass
class ViewerSettings:
    """What one viewer sees: its style (an id of the gallery's), strength, stroke, colour mode, mirror, compare,
    pause, size."""

    style: str
    size: int
    max_size: int
    strength: float = 1.0
    stroke: float = DEFAULT_STROKE
    preserve_color: bool = False
    mirror: bool = False
    compare: bool = False
    paused: bool = False

    def apply(self, changes: Mapping[str, object]) -> None:
        """Apply every field but `style` and `morph` (the viewer resolves those); all are checked before any is set."""
        check_changes(changes)
        update: dict[str, object] = {}
        for name, highest in (("strength", 1.0), ("stroke", MAX_STROKE)):
            if name in changes:
                update[name] = _clamped(name, changes[name], highest)
        for flag in _FLAGS:
            if flag in changes:
                if not isinstance(changes[flag], bool):
                    raise RealtimeError(f"{flag} must be true or false, got {changes[flag]!r}")
                update[flag] = changes[flag]
        if "size" in changes:
            update["size"] = self._checked_size(changes["size"])
        if "size_step" in changes:
            update["size"] = self._stepped(changes["size_step"])
        for name, value in update.items():
            setattr(self, name, value)

    def as_json(self) -> dict[str, object]:
        return asdict(self)

    def _checked_size(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_WORKING_SIZE <= value <= self.max_size:
            raise RealtimeError(
                f"size must be a whole number from {MIN_WORKING_SIZE} to {self.max_size}, got {value!r}"
            )
        return value

    def _stepped(self, direction: object) -> int:
        if direction not in (1, -1) or isinstance(direction, bool):
            raise RealtimeError(f"size_step must be 1 or -1, got {direction!r}")
        sizes = sorted({s for s in SIZE_STEPS if s < self.max_size} | {self.max_size})
        if direction > 0:
            return next((s for s in sizes if s > self.size), self.size)
        return next((s for s in reversed(sizes) if s < self.size), self.size)
