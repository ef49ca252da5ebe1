"""Video files in through PyAV (FFmpeg): upright RGB frames with their timestamps.

Reading applies the display-matrix rotation phones write, so every frame the app sees is upright.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from realtime.errors import RealtimeError
from realtime.imaging.images import still_image_format
from realtime.imaging.limits import check_frame_size
from realtime.video.ffmpeg import ffmpeg_path, ffmpeg_reason, ffmpeg_reasons

_FALLBACK_FPS = Fraction(25)


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame: upright H×W×3 uint8 RGB, its presentation time and duration in seconds."""

    image: np.ndarray
    time: float
    duration: float | None


class VideoReader(AbstractContextManager):
    """Decodes a file's first video stream; opening it decodes one frame, so broken files fail early."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise RealtimeError(f"no such file: {self.path}")
        if self.path.is_dir():
            raise RealtimeError(f"expected a video file, got a folder: {self.path}")
        still = still_image_format(self.path)
        if still is not None:
            raise RealtimeError(
                f"{self.path} is a still image ({still}), not a video: `realtime image` stylises stills"
            )
        try:
            with ffmpeg_reasons():
                self._container = av.open(ffmpeg_path(self.path))
        except PermissionError:
            raise RealtimeError(f"cannot read {self.path}: permission denied") from None
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise RealtimeError(f"{self.path} is not a video file FFmpeg can read ({ffmpeg_reason(exc)})") from None
        try:
            self._stream = self._video_stream()
            context = self._stream.codec_context
            check_frame_size(context.height or 0, context.width or 0, f"{self.path}'s video")
            self._stream.thread_type = "AUTO"
            self.rate = self._stream.average_rate or self._stream.guessed_rate or _FALLBACK_FPS
            self._frames = self._decode()
            self._first = next(self._frames, None)
            if self._first is None:
                raise RealtimeError(f"{self.path} has a video stream but no frame could be decoded")
        except BaseException:
            self._container.close()
            raise
        self.rotation = self._first_rotation
        self.height, self.width = self._first.image.shape[:2]
        self.first_time = self._first.time  # where the video starts: schedules count from here

    @property
    def fps(self) -> float:
        return float(self.rate)

    @property
    def audio_codec(self) -> str | None:
        """Name of the first audio stream's codec, or None when the file is silent."""
        audio = self._container.streams.audio
        return audio[0].codec_context.name if audio else None

    @property
    def duration(self) -> float:
        """Seconds of video, from the stream header, else the container's; 0 when neither says."""
        stream = self._stream
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if self._container.duration is not None:
            return self._container.duration / av.time_base
        return 0.0

    @property
    def frame_count(self) -> int:
        """Frames the header promises, or an estimate from duration × rate (for progress: far off for a
        variable frame rate, where the rate a file declares is not its average)."""
        return self.announced_frames or round(self.duration * self.fps)

    @property
    def announced_frames(self) -> int:
        """Frames the header states (MP4, MOV), 0 where it does not say (Matroska, MPEG-TS)."""
        return self._stream.frames

    def __iter__(self) -> Iterator[VideoFrame]:
        """Each frame once, in presentation order; a reader is a one-pass stream."""
        first, self._first = self._first, None
        if first is None:
            raise RealtimeError(f"{self.path} was already read; open it again to read it twice")
        yield first
        yield from self._frames

    def frames_from(self, seconds: float) -> Iterator[VideoFrame]:
        """Frames from the last keyframe at or before `seconds` on, in presentation order: a chunk of a long video
        starts decoding here, and drops what comes before the frames it needs. Iterating the reader is then over."""
        self._first = None
        stream = self._stream
        # A keyframe's own time, as `seconds`, must land on that keyframe, not one tick before it.
        offset = math.floor(seconds / stream.time_base + 1e-6) if math.isfinite(seconds) else 0
        try:
            self._container.seek(offset, stream=stream, backward=True, any_frame=False)
        except av.FFmpegError as exc:
            raise RealtimeError(
                f"cannot seek in {self.path} ({ffmpeg_reason(exc)}); it cannot be cut into chunks: run it in one pass"
            ) from None
        return self._decode()

    def close(self) -> None:
        self._container.close()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _video_stream(self) -> av.video.stream.VideoStream:
        # Cover art in music files is a one-picture "video" stream; it is not a video.
        streams = [s for s in self._container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
        if streams:
            return streams[0]
        if self._container.streams.audio:
            raise RealtimeError(f"{self.path} is audio only; it has no video stream to stylise")
        raise RealtimeError(f"{self.path} has no video stream")

    def _decode(self) -> Iterator[VideoFrame]:
        stream = self._stream
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        index = 0
        self._first_rotation = 0
        try:
            for frame in self._container.decode(stream):
                if index == 0:
                    self._first_rotation = _stream_rotation(frame, stream)
                time = frame.time if frame.time is not None else start + index / self.fps
                duration = float(frame.duration * frame.time_base) if frame.duration and frame.time_base else None
                check_frame_size(frame.height, frame.width, f"{self.path}'s frame {index}")
                image = frame.to_ndarray(format="rgb24")
                quarter_turns = round(self._first_rotation / 90) % 4
                if quarter_turns:
                    image = np.ascontiguousarray(np.rot90(image, quarter_turns))
                yield VideoFrame(image, time, duration)
                index += 1
        except av.FFmpegError as exc:
            raise RealtimeError(f"cannot decode {self.path} after {index} frames ({ffmpeg_reason(exc)})") from None


def _stream_rotation(frame: av.VideoFrame, stream: av.video.stream.VideoStream) -> int:
    """Counter-clockwise degrees to turn frames upright: the display matrix, else an old `rotate` tag."""
    if frame.rotation:
        return int(frame.rotation)
    tag = stream.metadata.get("rotate")
    try:
        return -int(tag) if tag else 0  # the tag counts clockwise
    except ValueError:
        return 0
