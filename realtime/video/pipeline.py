"""Frames through the generator with decode, generator and encode at once, so the slowest stage sets the pace.

A decode thread feeds frames into a bounded queue, the calling thread stylises them in batches (each frame
with the look its time calls for), and an encode thread stabilises and encodes them. Bounded queues keep
memory flat; any failure, Ctrl-C or a cancel stops all three, and the writer is left to discard its file.
A whole video and one chunk of a long one run the same pipeline: a chunk only starts and ends elsewhere,
and stylises a few frames before its start that it does not write, so its stabilisation starts warm.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_long_side
from realtime.runtimes.look import Look
from realtime.video.reader import VideoFrame
from realtime.video.schedule import StyleSchedule
from realtime.video.stabilize import TemporalStabilizer
from realtime.video.writer import VideoWriter

_QUEUE_BATCHES = 3  # batches each queue may hold: enough slack for one slow frame, little memory

Generate = Callable[[np.ndarray, Look], np.ndarray]  # B×H×W×3 uint8 frames and their look → stylised frames


class Cancelled(RealtimeError):
    """The run was cancelled from outside (another chunk failed, or Ctrl-C reached the caller first)."""


@dataclass
class FrameSettings:
    """How frames go through: `shape` (height, width) every output frame has, `batch` frames per generator
    call, `origin` the time style schedules count from, and frames before `keep_from` stylised to warm the
    stabiliser up but not written."""

    shape: tuple[int, int]
    batch: int = 1
    origin: float = 0.0
    keep_from: float = float("-inf")


@dataclass
class FrameRun:
    """What the pipeline did: frames written, the time span decoded, and each stage's busy seconds."""

    written: int = 0
    start: float = float("inf")
    end: float = float("-inf")
    busy: dict[str, float] = field(
        default_factory=lambda: {"decode": 0.0, "generator": 0.0, "stabilize": 0.0, "encode": 0.0}
    )


@dataclass(frozen=True)
class _Item:
    content: np.ndarray  # H×W×3 uint8 RGB input frame, at the output size
    time: float
    duration: float | None  # seconds on screen; the last frame's sets where the video ends
    styled: np.ndarray | None = None


class _Stopped(Exception):
    """Another stage failed or the run was interrupted; this stage should end quietly."""


_END = object()


class _Stage(threading.Thread):
    """A worker thread that records its failure and stops the others when it fails."""

    def __init__(self, name: str, body: Callable[[], None], stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.body = body
        self.stop = stop
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.body()
        except _Stopped:
            pass
        except Exception as exc:  # noqa: BLE001 - handed to the main thread, which re-raises it
            self.error = exc
            self.stop.set()


def _put(q: queue.Queue, item: object, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            continue
    raise _Stopped


def _get(q: queue.Queue, stop: threading.Event) -> object:
    while not stop.is_set():
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            continue
    raise _Stopped


def _batches(q: queue.Queue, size: int, stop: threading.Event) -> Iterator[list[_Item]]:
    """Decoded items in groups of `size`; the last group may be shorter."""
    items: list[_Item] = []
    while (item := _get(q, stop)) is not _END:
        items.append(item)
        if len(items) == size:
            yield items
            items = []
    if items:
        yield items


def run_frames(
    frames: Iterable[VideoFrame],
    writer: VideoWriter,
    generate: Generate,
    schedule: StyleSchedule,
    stabilizer: TemporalStabilizer,
    settings: FrameSettings,
    *,
    fps: float,
    on_frame: Callable[[], None] = lambda: None,
    cancel: threading.Event | None = None,
) -> FrameRun:
    """Stylise `frames` (decoded lazily, in order) into `writer`; `on_frame` is called after each frame written.

    A set `cancel` stops the run with `Cancelled`; a stage's failure is raised here.
    """
    stop = cancel or threading.Event()
    capacity = _QUEUE_BATCHES * settings.batch
    decoded: queue.Queue = queue.Queue(maxsize=capacity)
    styled: queue.Queue = queue.Queue(maxsize=capacity)
    run = FrameRun()
    height, width = settings.shape

    def decode() -> None:
        source = iter(frames)
        while True:
            began = time.perf_counter()
            frame = next(source, None)
            if frame is None:
                break
            image = fit_long_side(frame.image, max(height, width))
            if image.shape[:2] != (height, width):  # a mid-stream resolution change: keep the output size
                image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            run.busy["decode"] += time.perf_counter() - began
            run.start = min(run.start, frame.time)
            run.end = frame.time + (frame.duration or 1 / fps)
            _put(decoded, _Item(image, frame.time, frame.duration), stop)
        _put(decoded, _END, stop)

    def encode() -> None:
        while (item := _get(styled, stop)) is not _END:
            began = time.perf_counter()
            frame = stabilizer(item.content, item.styled) if stabilizer.strength else item.styled
            middle = time.perf_counter()
            run.busy["stabilize"] += middle - began
            if item.time >= settings.keep_from:
                writer.write(frame, item.time, item.duration)
                run.written += 1
                on_frame()
            run.busy["encode"] += time.perf_counter() - middle

    stages = [_Stage("decode", decode, stop), _Stage("encode", encode, stop)]
    try:
        for stage in stages:
            stage.start()
        for items in _batches(decoded, settings.batch, stop):
            started = time.perf_counter()
            look = schedule.look_at([it.time - settings.origin for it in items])
            outputs = generate(np.stack([it.content for it in items]), look)
            run.busy["generator"] += time.perf_counter() - started
            for it, out in zip(items, outputs):
                _put(styled, replace(it, styled=out), stop)
        _put(styled, _END, stop)
        stages[1].join()
    except _Stopped:
        pass  # a stage failed or the run was cancelled; said below
    except BaseException:
        stop.set()
        raise
    finally:
        for stage in stages:
            stage.join()
    for stage in stages:
        if stage.error is not None:
            raise stage.error
    if stop.is_set():
        raise Cancelled("cancelled")
    return run
