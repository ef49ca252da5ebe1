"""The video a viewer gets back: its own camera's newest frame, stylised, on the same peer connection.

A reader task drains the incoming track as fast as frames arrive and keeps only the newest in a one-slot
box; `recv()` (called by aiortc's sender whenever it can send again) stylises whatever is newest. A slow
generator therefore drops frames, it never builds lag. The same pattern as aiortc's server example, but
its transform track awaits every frame in turn, so it falls behind once the transform is slower than the camera.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import time
from collections.abc import Awaitable, Callable

import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

CLOCK_RATE = 90_000  # RTP's video clock
_EMA = 0.1  # weight of the newest frame in the smoothed numbers

Render = Callable[[np.ndarray], Awaitable[np.ndarray]]


class NewestFrame:
    """A one-slot box: a frame put in replaces one not yet taken (counted in `dropped`)."""

    def __init__(self) -> None:
        self.dropped = 0
        self.ended = False
        self._frame: VideoFrame | None = None
        self._arrived = 0.0
        self.changed = asyncio.Event()

    def put(self, frame: VideoFrame) -> None:
        if self._frame is not None:
            self.dropped += 1
        self._frame, self._arrived = frame, time.perf_counter()
        self.changed.set()

    def take(self) -> tuple[VideoFrame, float] | None:
        """The newest frame and when it arrived, or None when none came since the last take."""
        if self._frame is None:
            return None
        taken, self._frame = (self._frame, self._arrived), None
        return taken

    def end(self) -> None:
        self.ended = True
        self.changed.set()


class StylizedTrack(MediaStreamTrack):
    """Outgoing video: `render(camera RGB frame)` applied to the newest incoming frame.

    `poke()` asks for the last frame again after a settings change (a new style shows at once, also while
    paused); while `paused()`, new camera frames are dropped. `fps` and `latency_ms` (a frame's arrival
    here to its stylised frame leaving `recv`) are smoothed over recent frames.
    """

    kind = "video"

    def __init__(self, source: MediaStreamTrack, render: Render, paused: Callable[[], bool] = lambda: False) -> None:
        super().__init__()
        self.fps = 0.0
        self.latency_ms = 0.0
        self.frames = 0
        self._render = render
        self._paused = paused
        self._inbox = NewestFrame()
        self._held: np.ndarray | None = None
        self._again = False
        self._started = time.perf_counter()
        self._last_sent: float | None = None
        self.last_received = time.perf_counter()  # when the camera's newest frame came (or the track began)
        self._reader = asyncio.ensure_future(self._read(source))

    @property
    def dropped(self) -> int:
        return self._inbox.dropped

    def poke(self) -> None:
        self._again = True
        self._inbox.changed.set()

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        arrived = await self._next_picture()
        out = await self._render(self._held)
        frame = VideoFrame.from_ndarray(np.ascontiguousarray(out), format="rgb24")
        now = time.perf_counter()
        frame.pts = round((now - self._started) * CLOCK_RATE)
        frame.time_base = fractions.Fraction(1, CLOCK_RATE)
        self._count(now, arrived)
        return frame

    def stop(self) -> None:
        self._reader.cancel()
        self._inbox.end()
        super().stop()

    async def _next_picture(self) -> float | None:
        """Wait for a new camera frame (kept in `_held`, returns its arrival) or a request to render again (None)."""
        while True:
            newest = None if self._paused() else self._inbox.take()
            if newest is not None:
                frame, arrived = newest
                self._held = await asyncio.get_running_loop().run_in_executor(None, _to_rgb, frame)
                self._again = False
                return arrived
            if self._again and self._held is not None:
                self._again = False
                return None
            if self._inbox.ended or self.readyState != "live":
                raise MediaStreamError
            self._inbox.changed.clear()
            await self._inbox.changed.wait()

    async def _read(self, source: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await source.recv()
                if isinstance(frame, VideoFrame):
                    self.last_received = time.perf_counter()
                    self._inbox.put(frame)
        self._inbox.end()

    def _count(self, now: float, arrived: float | None) -> None:
        if arrived is not None:
            latency = (now - arrived) * 1000.0
            self.latency_ms = latency if self.frames == 0 else self.latency_ms + _EMA * (latency - self.latency_ms)
        if self._last_sent is not None and now > self._last_sent:
            rate = 1.0 / (now - self._last_sent)
            self.fps = rate if self.frames <= 1 else self.fps + _EMA * (rate - self.fps)
        self._last_sent = now
        self.frames += 1


def _to_rgb(frame: VideoFrame) -> np.ndarray:
    return frame.to_ndarray(format="rgb24")
