"""Stylise a video file: decode, generator and encode run at once, so the slowest stage sets the pace.

A decode thread feeds frames into a bounded queue, the calling thread stylises them in batches on
the device (each frame with the target its timestamp calls for), and an encode thread stabilises
and encodes them. Bounded queues keep memory flat; any failure or Ctrl-C stops all three and the
output file is never left half-written.
"""

from __future__ import annotations

import math
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import av
import cv2
import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from realtime.atomic import refuse_overwrite
from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_long_side
from realtime.imaging.limits import working_side
from realtime.imaging.palette import Palette
from realtime.model.style_spec import StyleSpec
from realtime.runtimes.look import Look
from realtime.runtimes.settings import DEFAULT_STROKE
from realtime.runtimes.stylizer import Stylizer
from realtime.video.ffmpeg import ffmpeg_path
from realtime.video.reader import VideoReader
from realtime.video.settings import DEFAULT_FADE, TimedStyle
from realtime.video.stabilize import TemporalStabilizer
from realtime.video.writer import VideoWriter

_T = TypeVar("_T")
_QUEUE_BATCHES = 3  # batches each queue may hold: enough slack for one slow frame, little memory


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


@dataclass
class VideoResult:
    """What a run produced and where its time went (stage seconds are busy time, stages overlap).

    `video_seconds` and `announced_frames` are what the input's header says (0 frames: it does not say);
    `decoded_seconds` is how far decoding got, from the first frame's start to the last one's end.
    """

    source: str
    output: str
    frames: int
    announced_frames: int
    width: int
    height: int
    video_seconds: float
    decoded_seconds: float
    seconds: float
    audio: str | None
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def incomplete(self) -> bool:
        """Clearly less decoded than the header promised, in frames or in time: the input is truncated or
        damaged. The slack absorbs headers that round, and a last frame of unknown length."""
        fewer_frames = self.frames < 0.95 * self.announced_frames - 1
        shorter = self.decoded_seconds < 0.95 * self.video_seconds - 0.1
        return fewer_frames or shorter

    @property
    def realtime_factor(self) -> float:
        """Seconds of video per second of processing (above 1 is faster than real time)."""
        return self.video_seconds / self.seconds if self.seconds > 0 else 0.0


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
    """A worker thread that records its failure and its busy time and stops the others when it fails."""

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


def check_paths(source: str | Path, output: str | Path) -> None:
    """Refuse before any work an output that is not a file name or would replace the input."""
    if str(output) == "-":
        raise RealtimeError("video output must be a file name, not - (the container is finalised by seeking back)")
    if Path(output).is_dir():
        raise RealtimeError(f"output is a folder, expected a file name: {output}")
    refuse_overwrite(output, [source])


def stylize_video(
    source: str | Path,
    output: str | Path,
    stylizer: Stylizer,
    schedule: StyleSchedule,
    *,
    size: int = 0,
    batch: int = 1,
    stabilize: float = 0.0,
    codec: str | None = None,
    progress: bool = True,
) -> VideoResult:
    """Stylise every frame of `source` into `output`, same timestamps, audio copied untouched.

    `size` caps the long side of the frames (0 keeps the input size, up to 8K); `batch` frames go through the
    generator at once; `stabilize` (0 ≤ F < 1) blends in the motion-warped previous output.
    """
    if batch < 1:
        raise RealtimeError(f"batch must be 1 or more, got {batch}")
    if not 0.0 <= stabilize < 1.0:
        raise RealtimeError(f"--stabilize must be at least 0 and below 1, got {stabilize}")
    check_paths(source, output)
    with VideoReader(source) as reader:
        audio = av.open(ffmpeg_path(source)) if reader.audio_codec else None
        try:
            with VideoWriter(output, reader.fps, codec, audio_from=audio) as writer:
                return _run(reader, writer, stylizer, schedule, size, batch, TemporalStabilizer(stabilize), progress)
        finally:
            if audio is not None:
                audio.close()


def _run(
    reader: VideoReader,
    writer: VideoWriter,
    stylizer: Stylizer,
    schedule: StyleSchedule,
    size: int,
    batch: int,
    stabilizer: TemporalStabilizer,
    progress: bool,
) -> VideoResult:
    stop = threading.Event()
    decoded: queue.Queue = queue.Queue(maxsize=_QUEUE_BATCHES * batch)
    styled: queue.Queue = queue.Queue(maxsize=_QUEUE_BATCHES * batch)
    busy = {"decode": 0.0, "generator": 0.0, "stabilize": 0.0, "encode": 0.0}
    shape: list[tuple[int, int]] = []
    extent: dict[str, float] = {}  # where decoding started and how far it got, in seconds
    bar = tqdm(
        total=reader.frame_count or None,
        unit="frame",
        desc=reader.path.name,
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )

    def decode() -> None:
        frames = iter(reader)
        while True:
            began = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                break
            image = fit_long_side(frame.image, working_side(size))
            if not shape:
                shape.append(image.shape[:2])
            elif image.shape[:2] != shape[0]:  # a mid-stream resolution change: keep the output size
                image = cv2.resize(image, (shape[0][1], shape[0][0]), interpolation=cv2.INTER_AREA)
            busy["decode"] += time.perf_counter() - began
            extent.setdefault("start", frame.time)
            extent["end"] = frame.time + (frame.duration or 1 / reader.fps)
            _put(decoded, _Item(image, frame.time, frame.duration), stop)
        _put(decoded, _END, stop)

    def encode() -> None:
        while (item := _get(styled, stop)) is not _END:
            began = time.perf_counter()
            frame = stabilizer(item.content, item.styled) if stabilizer.strength else item.styled
            middle = time.perf_counter()
            writer.write(frame, item.time, item.duration)
            busy["stabilize"] += middle - began
            busy["encode"] += time.perf_counter() - middle
            bar.update(1)

    stages = [_Stage("decode", decode, stop), _Stage("encode", encode, stop)]
    began = time.perf_counter()
    try:
        for stage in stages:
            stage.start()
        first_time: float | None = None
        for items in _batches(decoded, batch, stop):
            if first_time is None:
                first_time = items[0].time
            started = time.perf_counter()
            times = [it.time - first_time for it in items]
            outputs = stylizer.stylize_frames(np.stack([it.content for it in items]), schedule.look_at(times))
            busy["generator"] += time.perf_counter() - started
            for it, out in zip(items, outputs):
                _put(styled, replace(it, styled=out), stop)
        _put(styled, _END, stop)
        stages[1].join()
    except _Stopped:
        pass  # a stage failed; its error is raised below
    except BaseException:
        stop.set()
        raise
    finally:
        for stage in stages:
            stage.join()
        bar.close()
    for stage in stages:
        if stage.error is not None:
            raise stage.error
    seconds = time.perf_counter() - began
    height, width = shape[0]
    return VideoResult(
        source=str(reader.path),
        output=str(writer.path),
        frames=writer.frames_written,
        announced_frames=reader.announced_frames,
        width=width,
        height=height,
        video_seconds=reader.duration or writer.frames_written / reader.fps,
        decoded_seconds=extent["end"] - extent["start"],
        seconds=seconds,
        audio=reader.audio_codec,
        stages=busy,
    )
