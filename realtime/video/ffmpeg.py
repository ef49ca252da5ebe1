"""What reading and writing video share: FFmpeg's file names and FFmpeg's reasons for failing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av

# FFmpeg's log level is process-wide: one thread at a time turns it on (see `ffmpeg_reasons`).
_LOG_LOCK = threading.RLock()


def ffmpeg_path(path: str | Path) -> str:
    """The name to give FFmpeg for a local file: it reads a leading `word:` as a protocol (a file named
    `2024-05-01T10:30:00.mp4` is "Protocol not found"), and an absolute path never starts with one."""
    return str(Path(path).absolute())


@contextmanager
def ffmpeg_reasons() -> Iterator[None]:
    """Let FFmpeg errors raised inside carry FFmpeg's reason (`exc.log`, which `ffmpeg_reason` prefers).

    FFmpeg states the reason only in its log, which PyAV keeps off. It is on here just for the call,
    captured from every thread so no line reaches stderr, and off again after: PyAV's log hook takes
    the GIL inside FFmpeg's own threads, which can deadlock them.
    """
    with _LOG_LOCK, av.logging.Capture(local=False):
        previous = av.logging.get_level()
        av.logging.set_level(av.logging.ERROR)
        try:
            yield
        finally:
            av.logging.set_level(previous)


def ffmpeg_reason(exc: BaseException) -> str:
    """FFmpeg's own words, on one line: its logged error when there is one, else the exception's message
    without the file name and errno PyAV adds around it."""
    log = getattr(exc, "log", None)
    if log and log[2].strip():
        return " ".join(log[2].split())
    strerror = getattr(exc, "strerror", None)
    return strerror or str(exc).splitlines()[0]
