"""The live loop's time: the wall clock live, the stream's own timeline offline.

Everything time-based in a session (morph progress, recording timestamps, the REC timer) reads the
session's clock, and the clock also says whether the loop may wait for what it needs: offline it
waits for the next frame, a selected style's target and the encoder, so a run is lossless and
reproducible; live it never blocks for long, so the picture stays current.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from realtime.sources.capture import Frame

# Live, a read waits briefly for a new frame: with a window, short enough to keep polling its keys;
# headless, long enough not to spin.
_READ_TIMEOUT_WINDOW_S = 0.005
_READ_TIMEOUT_HEADLESS_S = 0.1


class Clock(Protocol):
    waits: bool  # whether the loop waits for style targets and the encoder instead of moving on

    def see(self, frame: Frame) -> None:
        """Note a newly captured frame."""

    def now(self) -> float:
        """Seconds on this clock's timeline."""

    def read_timeout(self, window: bool) -> float | None:
        """How long to wait for the next frame (None: until it comes)."""


class WallClock:
    """Live: the wall clock; nothing waits for long."""

    waits = False

    def see(self, frame: Frame) -> None:
        pass

    def now(self) -> float:
        return time.perf_counter()

    def read_timeout(self, window: bool) -> float | None:
        return _READ_TIMEOUT_WINDOW_S if window else _READ_TIMEOUT_HEADLESS_S


class StreamClock:
    """Offline: the time of the newest frame in the stream; everything waits."""

    waits = True

    def __init__(self) -> None:
        self._now = 0.0

    def see(self, frame: Frame) -> None:
        self._now = frame.time_s

    def now(self) -> float:
        return self._now

    def read_timeout(self, window: bool) -> float | None:
        return None


def clock_for(realtime: bool) -> Clock:
    """The wall clock for a live session, the stream's clock for an offline one."""
    return WallClock() if realtime else StreamClock()
