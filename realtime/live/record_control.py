"""Recording from the live loop: `--record` from the start, `r` to start and stop, and what came of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from realtime.errors import RealtimeError
from realtime.live.messages import Messages
from realtime.live.recorder import Recorder, Recording
from realtime.live.snapshot import unique_path


class RecordingControl:
    """Starts, feeds and stops the session's recordings; keeps the finished ones and the ones that failed.

    Times come from the session's clock: the first frame written is 0 s. `lossless` (offline) makes the
    recorder wait for the encoder rather than skip frames.
    """

    def __init__(self, messages: Messages, fps: float, folder: Path, *, lossless: bool = False) -> None:
        self.messages = messages
        self.fps = fps
        self.folder = folder
        self.lossless = lossless
        self.recordings: list[Recording] = []
        self.problems: list[str] = []
        self._recorder: Recorder | None = None
        self._start: float | None = None

    def start(self, path: Path) -> None:
        self._recorder = Recorder(path, self.fps, lossless=self.lossless)
        self._start = None
        self.messages.post(f"recording to {path}")

    def toggle(self) -> None:
        """The `r` key: stop the recording running, or start one in the output folder."""
        if self._recorder is not None:
            self.stop()
            return
        try:
            self.start(unique_path(self.folder, "recording", ".mp4"))
        except RealtimeError as exc:
            self.messages.post(str(exc))

    def write(self, frame: np.ndarray, now: float) -> None:
        """Add `frame`, shown at clock time `now`, to the recording running (if any)."""
        if self._recorder is None:
            return
        if self._start is None:
            self._start = now
        self._recorder.write(frame, now - self._start)

    def elapsed(self, now: float) -> float | None:
        """Seconds recorded by clock time `now`, for the REC timer; None before the first frame or when not recording."""
        if self._recorder is None or self._start is None:
            return None
        return now - self._start

    def stop(self) -> None:
        """Finalise the recording running (if any); a failure is kept in `problems` and shown."""
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return
        try:
            recording = recorder.close()
        except RealtimeError as exc:
            self.problems.append(str(exc))
            self.messages.post(str(exc))
            return
        self.recordings.append(recording)
        self.messages.post(f"saved {recording.path} ({recording.frames} frames)")
