"""A long video cut into chunks at its keyframes, and one chunk stylised into a file of its own.

Cutting at keyframes lets each chunk start decoding where it begins, without the frames before it, and each
chunk's file starts with a keyframe of its own, so the files join without re-encoding (`join.py`). A chunk
keeps its frames' own times and counts style schedules from the start of the whole video, so cross-fades
run across chunk boundaries as in one pass. Stabilisation leans on the previous output, so a chunk also
stylises a few frames before its start that it does not write: by its first frame the blend has forgotten
that it started (its weight on the warm-up's first frame is under 0.3%: 12 frames at the default 0.6).
"""

from __future__ import annotations

import bisect
import itertools
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av

from realtime.errors import RealtimeError
from realtime.video.ffmpeg import ffmpeg_path, ffmpeg_reason
from realtime.video.pipeline import FrameSettings, Generate, run_frames
from realtime.video.reader import VideoFrame, VideoReader
from realtime.video.schedule import StyleSchedule
from realtime.video.settings import CHUNK_SUFFIX, VideoSettings
from realtime.video.stabilize import TemporalStabilizer
from realtime.video.stylize import output_shape
from realtime.video.writer import VideoWriter

WARM_UP_LEFT = 0.003  # what the stabiliser may still owe to where a chunk's warm-up began, by its first frame
_CHUNK_OPTIONS = {"movie_timescale": "90000"}


@dataclass(frozen=True)
class Chunk:
    """Frames shown from `start` up to `end` (seconds, the video's own clock; open-ended at the ends), decoded
    from the keyframe at or before `warm_from`; frames before `start` only warm the stabiliser up."""

    index: int
    start: float
    end: float
    warm_from: float
    frames: int

    @property
    def name(self) -> str:
        return f"{self.index:05d}{CHUNK_SUFFIX}"


@dataclass(frozen=True)
class ChunkPlan:
    """Where a video is cut: its chunks, the time its first frame is shown and its frame rate."""

    chunks: tuple[Chunk, ...]
    origin: float
    fps: float

    @property
    def frames(self) -> int:
        return sum(chunk.frames for chunk in self.chunks)


def plan_chunks(source: str | Path, seconds: float, warm_up: int) -> ChunkPlan:
    """Cut `source` at the first keyframe `seconds` or more after each cut (a chunk is never shorter, and as
    long as the keyframes make it), from one read of the file without decoding."""
    if not seconds > 0:
        raise RealtimeError(f"chunk length must be positive, got {seconds} s")
    with VideoReader(source) as reader:
        fps, origin = reader.fps, reader.first_time
    times, keyframes = _packet_times(source)
    cuts = [-math.inf]
    for keyframe in keyframes:
        if keyframe >= max(cuts[-1], origin) + seconds:
            cuts.append(keyframe)
    ends = [*cuts[1:], math.inf]
    chunks = []
    for index, (start, end) in enumerate(zip(cuts, ends)):
        frames = bisect.bisect_left(times, end) - bisect.bisect_left(times, start)
        warm_from = start - warm_up / fps if index else start
        chunks.append(Chunk(index, start, end, warm_from, frames))
    return ChunkPlan(tuple(chunks), origin, fps)


def _packet_times(source: str | Path) -> tuple[list[float], list[float]]:
    """Sorted presentation times of every video packet, and of the keyframes among them."""
    try:
        with av.open(ffmpeg_path(source)) as container:
            stream = container.streams.video[0]
            times, keyframes = [], []
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                time = float(packet.pts * packet.time_base)
                times.append(time)
                if packet.is_keyframe:
                    keyframes.append(time)
    except av.FFmpegError as exc:
        raise RealtimeError(f"cannot read {source}'s packets ({ffmpeg_reason(exc)})") from None
    return sorted(times), sorted(keyframes)


def stylize_chunk(
    source: str | Path,
    chunk: Chunk,
    plan: ChunkPlan,
    path: str | Path,
    generate: Generate,
    schedule: StyleSchedule,
    settings: VideoSettings,
    *,
    codec: str,
    device_type: str,
    on_frame: Callable[[], None] = lambda: None,
    cancel: threading.Event | None = None,
) -> int:
    """Stylise `chunk` of `source` into `path` (whole or absent); the frames written. `codec` is the joined
    output's encoder, so the chunk files join into it as they are; `device_type` the generator's, for the batch."""
    with VideoReader(source) as reader:
        batch = settings.batch_for(device_type)
        frames = FrameSettings(output_shape(reader, settings.size), batch, plan.origin, chunk.start)
        stabilizer = TemporalStabilizer(settings.stabilize)
        warm_from = chunk.warm_from if settings.stabilize else chunk.start
        with VideoWriter(path, reader.fps, codec, options=_CHUNK_OPTIONS) as writer:
            run = run_frames(
                _frames_of(reader, warm_from, chunk.end),
                writer,
                generate,
                schedule,
                stabilizer,
                frames,
                fps=reader.fps,
                on_frame=on_frame,
                cancel=cancel,
            )
    return run.written


def warm_up_frames(stabilize: float) -> int:
    """Frames a chunk stylises before its start, so that the blend's weight on the first of them is under
    `WARM_UP_LEFT`: 12 at the default 0.6, 56 at 0.9; none without stabilisation."""
    return math.ceil(math.log(WARM_UP_LEFT) / math.log(stabilize)) if stabilize > 0 else 0


def _frames_of(reader: VideoReader, start: float, end: float) -> Iterator[VideoFrame]:
    """The frames shown from `start` up to `end`."""
    for frame in _decoding_from(reader, start):
        if frame.time >= end:
            return
        if frame.time >= start:
            yield frame


def _decoding_from(reader: VideoReader, start: float) -> Iterator[VideoFrame]:
    """Frames from at or before `start` on. Some containers (MPEG-TS) seek past the keyframe asked for: then the
    seek goes further back, a second, two, four, …, and at worst decoding starts from the first frame."""
    if not math.isfinite(start):
        return iter(reader)  # the first chunk: no seek at all (a raw stream cannot)
    margin = 0.0
    while start - margin > reader.first_time:
        frames = reader.frames_from(start - margin)
        first = next(frames, None)
        if first is None or first.time <= start:
            return itertools.chain([first] if first is not None else [], frames)
        margin = max(1.0, 2 * margin)
    return reader.frames_from(-math.inf)
