"""Recording the live output: frames are encoded on a worker thread so the display never waits on x264.

Frames carry the times they were shown, so a recording plays back at the rate the loop really ran.
`close()` always finalises what was recorded (quit, Ctrl-C, a lost camera); the file appears only
once complete (`VideoWriter` writes a temporary file and renames it).
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.atomic import check_output_folder
from realtime.errors import RealtimeError
from realtime.video.settings import DEFAULT_CODEC
from realtime.video.writer import VideoWriter

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov")
_QUEUE_FRAMES = 8  # frames that may wait for the encoder before live recording starts skipping
_END = None


def check_video_path(path: str | Path) -> Path:
    """Fail before any work when a recording could not be written there."""
    target = Path(path)
    if target.is_dir():
        raise RealtimeError(f"--record needs a file name, got a folder: {target}")
    if target.suffix.lower() not in VIDEO_SUFFIXES:
        raise RealtimeError(f"cannot tell the video format of {target} from its extension; use .mp4, .mkv or .mov")
    check_output_folder(target)
    return target


@dataclass(frozen=True)
class Recording:
    """A finished recording: where it is, frames in it, and frames the encoder could not keep up with."""

    path: Path
    frames: int
    skipped: int


class Recorder:
    """A `VideoWriter` fed through a short queue by a worker thread.

    `lossless=False` (live) skips a frame when the encoder is behind rather than stalling the loop;
    `lossless=True` waits instead, for offline renders and tests.
    """

    def __init__(self, path: str | Path, fps: float, *, lossless: bool = False, codec: str = DEFAULT_CODEC) -> None:
        self.path = check_video_path(path)
        self.lossless = lossless
        self.skipped = 0
        self._writer = VideoWriter(self.path, fps, codec)
        self._queue: queue.Queue[tuple[np.ndarray, float] | None] = queue.Queue(maxsize=_QUEUE_FRAMES)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=f"recorder {self.path.name}", daemon=True)
        self._thread.start()

    def write(self, frame: np.ndarray, time_s: float) -> None:
        """Queue a copy of `frame` (the caller may reuse its buffer) shown at `time_s` seconds."""
        if self._error is not None:
            return
        item = (frame.copy(), time_s)
        if self.lossless:
            self._queue.put(item)
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.skipped += 1

    def close(self) -> Recording:
        """Encode what is queued and publish the file; raises `RealtimeError` if writing failed."""
        self._queue.put(_END)
        self._thread.join()
        if isinstance(self._error, RealtimeError):
            raise self._error
        if self._error is not None:
            raise RealtimeError(f"recording {self.path} failed: {self._error}")
        return Recording(self.path, self._writer.frames_written, self.skipped)

    def _work(self) -> None:
        ended = False
        try:
            while (item := self._queue.get()) is not _END:
                self._writer.write(*item)
            ended = True
            self._writer.close()
        except BaseException as exc:  # noqa: BLE001 - kept for close(); the writer removes its temporary file
            self._error = exc
            self._writer.__exit__(type(exc), exc, exc.__traceback__)
            while not ended and self._queue.get() is not _END:
                pass
