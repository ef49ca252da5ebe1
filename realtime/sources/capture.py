"""Live frame sources: a producer thread per source that keeps only the newest frame.

A slow consumer (the generator) then drops frames instead of falling behind: what it gets is always
the most recent picture, so lag stays at one frame however slow stylisation is. Video files play at
their own frame rate and loop; cameras and streams that stop delivering get a few seconds to come
back before the source reports itself lost. This is the only place camera/file frames enter the app,
so OpenCV's BGR becomes RGB here.
"""

from __future__ import annotations

import glob
import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from realtime.errors import RealtimeError
from realtime.imaging.images import IMAGE_SUFFIXES, still_image_format
from realtime.imaging.limits import check_frame_size

# OpenCV's FFmpeg prints its own lines ("moov atom not found", "Connection refused") before our one-line
# error says the same; it reads this when it first opens a capture. A user's own setting wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

DEFAULT_RECONNECT_S = 3.0
# What a camera is asked for; it picks its nearest mode. 720p is what the live loop is sized for.
CAMERA_REQUEST = (1280, 720)
_FALLBACK_FPS = 30.0
_RETRY_INTERVAL_S = 0.5
# A paced source that falls further behind its schedule than this restarts the schedule instead of bursting.
_MAX_BEHIND_S = 0.25


class SourceEnded(RealtimeError):
    """The source has no more frames: a file played once, or a camera lost for good."""


@dataclass(frozen=True)
class Frame:
    """One captured picture: H×W×3 uint8 RGB, its place in the stream and when it arrived.

    `time_s` is the picture's time in the stream (a file's timeline, seconds since start for cameras);
    `captured_at` is `time.perf_counter()` when the source delivered it, for measuring latency.
    """

    image: np.ndarray
    index: int
    time_s: float
    captured_at: float


class LatestFrame:
    """A one-slot mailbox: a new frame replaces an unread one (counted in `dropped`).

    With `wait=True` a producer instead waits for the slot to empty, which makes a source lossless
    (offline renders, tests). After `end()` readers get any frame still unread, then `SourceEnded`.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._ended: str | None = None
        self._closed = False
        self.dropped = 0

    def put(self, frame: Frame, wait: bool = False) -> None:
        with self._cond:
            if wait:
                self._cond.wait_for(lambda: self._frame is None or self._closed)
            if self._closed:
                return
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._cond.notify_all()

    def take(self, timeout: float | None = None) -> Frame | None:
        """The newest unread frame; None when none arrived within `timeout` seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._frame is not None or self._ended is not None, timeout):
                return None
            if self._frame is None:
                raise SourceEnded(self._ended)
            frame, self._frame = self._frame, None
            self._cond.notify_all()
            return frame

    def end(self, message: str) -> None:
        with self._cond:
            self._ended = message
            self._cond.notify_all()

    def close(self) -> None:
        """Release a producer waiting in `put`; later frames are discarded."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class FrameSource(AbstractContextManager):
    """A thread that produces frames into a `LatestFrame`; subclasses say how to get the next picture.

    `paced` sources (files, the sample) are released at `fps` on the wall clock; live ones (cameras,
    streams) arrive at their own rate. `drop=False` makes the source lossless and consumer-paced.
    Subclasses set `width` and `height` before the first read, so the generator can be warmed up
    for that size before playback starts.
    """

    kind = "source"
    width: int
    height: int

    def __init__(self, name: str, fps: float, *, paced: bool, drop: bool = True, reconnect_s: float = 0.0) -> None:
        self.name = name
        self.fps = fps
        self.paced = paced
        self.drop = drop
        self.reconnect_s = reconnect_s
        self.status = "playing"
        self._mailbox = LatestFrame()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"capture {name}", daemon=True)
        self._started = False

    @property
    def dropped(self) -> int:
        return self._mailbox.dropped

    @property
    def started(self) -> bool:
        """Whether frames are being produced: from `start()` or the first `read()` on."""
        return self._started

    def start(self) -> FrameSource:
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def read(self, timeout: float | None = None) -> Frame | None:
        """The newest frame not yet read, waiting up to `timeout` s (None on timeout); raises `SourceEnded`."""
        self.start()
        return self._mailbox.take(timeout)

    def close(self) -> None:
        self._stop.set()
        self._mailbox.close()
        if self._started:
            self._thread.join(timeout=5.0)
        if not self._thread.is_alive():
            self._release()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # Subclass hooks -------------------------------------------------------------------------------

    def _grab(self) -> np.ndarray | None:
        """The next RGB picture, or None when none came (end of file, camera gone)."""
        raise NotImplementedError

    def _rewind(self) -> bool:
        """Start over after the last picture (looping files); False when the source cannot."""
        return False

    def _reopen(self) -> bool:
        """One attempt to get a lost live source back."""
        return False

    def _end_message(self) -> str:
        return f"{self.name} ended"

    def _release(self) -> None:
        """Free what the source holds (called once the thread is done)."""

    # The producer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        start = time.perf_counter()
        index = 0
        try:
            while not self._stop.is_set():
                image = self._grab()
                if image is None:
                    if self._rewind() or self._reconnect():
                        continue
                    self._mailbox.end(self._end_message())
                    return
                media_time = index / self.fps if self.paced else time.perf_counter() - start
                if self.paced and self.drop:
                    late = time.perf_counter() - (start + media_time)
                    if late > _MAX_BEHIND_S:
                        start += late
                    elif late < 0 and self._stop.wait(-late):
                        return
                self._mailbox.put(Frame(image, index, media_time, time.perf_counter()), wait=not self.drop)
                index += 1
        except Exception as exc:  # noqa: BLE001 - a decoder error must end the stream, not vanish with the thread
            self._mailbox.end(f"{self.name} failed: {exc}")

    def _reconnect(self) -> bool:
        if self.reconnect_s <= 0:
            return False
        self.status = "reconnecting"
        deadline = time.monotonic() + self.reconnect_s
        while time.monotonic() < deadline:
            if self._stop.wait(_RETRY_INTERVAL_S):
                return False
            if self._reopen():
                self.status = "playing"
                return True
        self.status = "lost"
        return False


def parse_source(text: str) -> int | str:
    """`--source` text → a camera index (digits) or a path/URL."""
    if not text.strip():
        raise RealtimeError("--source is empty; give a camera index, a video file, a stream URL or 'sample'")
    return int(text) if text.strip().isdigit() else text


def _is_url(text: str) -> bool:
    return "://" in text


OpenCapture = Callable[..., "cv2.VideoCapture"]


class VideoCaptureSource(FrameSource):
    """Anything `cv2.VideoCapture` opens: a camera index, a video file or a stream URL.

    Opening reads one frame, so a wrong index or an undecodable file fails here, in the caller's
    thread, with a one-line message. `open_capture` exists so tests can stand in a fake camera.
    """

    def __init__(
        self,
        source: int | str,
        *,
        loop: bool = True,
        drop: bool = True,
        reconnect_s: float = DEFAULT_RECONNECT_S,
        open_capture: OpenCapture = cv2.VideoCapture,
    ) -> None:
        self.source = source
        self.loop = loop
        self._open_capture = open_capture
        if isinstance(source, int):
            self.kind, name = "camera", f"camera {source}"
        elif _is_url(source):
            self.kind, name = "stream", source
        else:
            self.kind, name = "file", source
            path = Path(source)
            if not path.exists():
                raise RealtimeError(f"no such video file: {source} (for a camera pass its index, e.g. --source 0)")
            if path.is_dir():
                raise RealtimeError(f"expected a video file or camera index, got a folder: {source}")
            still = still_image_format(path)
            if still is not None and path.suffix.lower() not in IMAGE_SUFFIXES:  # a picture by its name plays on
                raise RealtimeError(f"{source} is a still image ({still}) named as a video")
        self._cap = self._open()
        try:
            # From the header where the backend knows it, else from the first frame: before it is used either way.
            check_frame_size(
                int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), name
            )
            first = self._cap.read()
            if not first[0]:
                raise RealtimeError(self._no_frames_message())
            check_frame_size(*first[1].shape[:2], name)
        except RealtimeError:
            self._cap.release()
            raise
        self._first: np.ndarray | None = _to_rgb(first[1])
        self.height, self.width = self._first.shape[:2]
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        fps = fps if 1.0 <= fps <= 240.0 else _FALLBACK_FPS
        live = self.kind != "file"
        super().__init__(name, fps, paced=not live, drop=drop, reconnect_s=reconnect_s if live else 0.0)

    def _open(self) -> cv2.VideoCapture:
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # our message replaces OpenCV's noise
        try:
            if self.kind == "camera":
                cap = self._open_capture(self.source)
                if cap.isOpened():
                    cap.set(cv2.CAP_PROP_FRAME_WIDTH, CAMERA_REQUEST[0])
                    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, CAMERA_REQUEST[1])
                    cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            else:
                cap = self._open_capture(self.source, cv2.CAP_FFMPEG)
        except cv2.error:  # e.g. a camera index too large for a C int
            raise RealtimeError(self._open_failed_message()) from None
        finally:
            cv2.utils.logging.setLogLevel(previous)
        if not cap.isOpened():
            raise RealtimeError(self._open_failed_message())
        return cap

    def _open_failed_message(self) -> str:
        if self.kind == "camera":
            return f"no camera at index {self.source} ({_camera_attempt(self.source)}); pass a video file with --source PATH"
        if self.kind == "stream":
            return f"cannot open stream {self.source} (check the address and that the stream is live)"
        return f"cannot open {self.source} as a video (FFmpeg cannot decode it)"

    def _no_frames_message(self) -> str:
        if self.kind == "camera":
            return f"camera {self.source} opened but delivered no picture (in use by another program?)"
        return f"{self.source} opened but no frame could be decoded from it"

    def _grab(self) -> np.ndarray | None:
        if self._first is not None:
            image, self._first = self._first, None
            return image
        ok, bgr = self._cap.read()
        return _to_rgb(bgr) if ok and bgr is not None else None

    def _rewind(self) -> bool:
        """Seek back to the first frame; when that yields nothing, reopen the file.

        Some files (MPEG-TS, some MKVs, 1-frame clips, still images) accept the seek and then deliver
        no frame; only a file that gives none even when reopened ends the loop.
        """
        if self.kind != "file" or not self.loop:
            return False
        ok, bgr = self._cap.read() if self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0) else (False, None)
        if not ok and self._reopen():
            ok, bgr = self._cap.read()
        if not ok or bgr is None:
            return False
        self._first = _to_rgb(bgr)
        return True

    def _reopen(self) -> bool:
        self._cap.release()
        try:
            self._cap = self._open()
        except RealtimeError:
            return False
        return True

    def _end_message(self) -> str:
        if self.kind == "file":
            return f"end of {self.name}"
        return f"{self.name} was lost and did not come back within {self.reconnect_s:g} s"

    def _release(self) -> None:
        self._cap.release()


def _to_rgb(picture: np.ndarray) -> np.ndarray:
    if picture.ndim == 2:
        return cv2.cvtColor(picture, cv2.COLOR_GRAY2RGB)
    if picture.shape[2] == 4:
        return cv2.cvtColor(picture, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)


def _camera_attempt(index: int) -> str:
    """What opening camera `index` tried, in the user's terms."""
    if sys.platform.startswith("linux"):
        devices = sorted(glob.glob("/dev/video*"))
        present = f"present: {', '.join(devices)}" if devices else "no /dev/video* devices exist"
        return f"tried /dev/video{index} with V4L2; {present}"
    return "tried the system camera API"
