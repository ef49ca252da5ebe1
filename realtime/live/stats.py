"""The live loop's numbers: smoothed for the HUD, totals and means for the summary printed at the end."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from realtime.live.recorder import Recording

_EMA = 0.1  # weight of the newest frame in the smoothed HUD numbers
_KEPT = 4096  # recent frames kept for means and percentiles


class LoopStats:
    """Per-frame numbers: smoothed for the HUD, totals for the summary, recent latencies for percentiles."""

    def __init__(self) -> None:
        self.frames = 0
        self.fps = 0.0
        self.generator_ms = 0.0
        self.latency_ms = 0.0
        self.latencies: deque[float] = deque(maxlen=_KEPT)
        self.generator_times: deque[float] = deque(maxlen=_KEPT)
        self._first: float | None = None
        self._last: float | None = None

    def add(self, now: float, generator_ms: float, latency_ms: float) -> None:
        if self._last is not None and now > self._last:
            rate = 1.0 / (now - self._last)
            self.fps = rate if self.frames == 1 else self.fps + _EMA * (rate - self.fps)
        self._first = now if self._first is None else self._first
        self._last = now
        first = self.frames == 0
        self.generator_ms = generator_ms if first else self.generator_ms + _EMA * (generator_ms - self.generator_ms)
        self.latency_ms = latency_ms if first else self.latency_ms + _EMA * (latency_ms - self.latency_ms)
        self.latencies.append(latency_ms)
        self.generator_times.append(generator_ms)
        self.frames += 1

    @property
    def seconds(self) -> float:
        return 0.0 if self._first is None or self._last is None else self._last - self._first

    @property
    def mean_fps(self) -> float:
        return (self.frames - 1) / self.seconds if self.frames > 1 and self.seconds > 0 else 0.0

    @property
    def mean_generator_ms(self) -> float:
        return sum(self.generator_times) / len(self.generator_times) if self.generator_times else 0.0

    @property
    def mean_latency_ms(self) -> float:
        return sum(self.latencies) / len(self.latencies) if self.latencies else 0.0


@dataclass(frozen=True)
class LiveSummary:
    """How a run went, for the line printed at its end and the exit code."""

    frames: int
    seconds: float
    fps: float
    generator_ms: float
    latency_ms: float
    dropped: int
    stop_reason: str
    recordings: list[Recording] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
