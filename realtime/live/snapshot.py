"""Snapshots from the live loop (`s`): what gets saved is a pluggable hook.

The default hook saves the stylised frame as shown. A slower, higher-quality renderer (a Gatys
optimisation of the same photo) can replace it: a hook may return at once and keep working on its
own thread, reporting a message and a progress value through `SnapshotStatus`, which the HUD shows.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.errors import RealtimeError
from realtime.imaging.images import write_image
from realtime.live.catalog import StyleEntry
from realtime.model.style_spec import StyleSpec


@dataclass(frozen=True)
class SnapshotRequest:
    """Everything a snapshot renderer may need: the photo as captured (mirrored as shown), the live
    stylisation, the style and settings in use, and the folder outputs go to."""

    photo: np.ndarray
    stylized: np.ndarray
    style: tuple[StyleSpec, ...]
    style_name: str
    strength: float
    preserve_color: bool
    folder: Path


class SnapshotStatus:
    """A message and optional progress (0–1) that a hook updates from any thread and the HUD reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._message = ""
        self._progress: float | None = None
        self._updated = float("-inf")

    def update(self, message: str, progress: float | None = None) -> None:
        with self._lock:
            self._message, self._progress, self._updated = message, progress, time.monotonic()

    def read(self) -> tuple[str, float | None, float]:
        """(message, progress, seconds since the last update)."""
        with self._lock:
            return self._message, self._progress, time.monotonic() - self._updated


SnapshotHook = Callable[[SnapshotRequest, SnapshotStatus], None]


class Snapshots:
    """The `s` key: hands what is shown to the hook, and says what the HUD should show of its status."""

    def __init__(self, hook: SnapshotHook, folder: Path, message_seconds: float) -> None:
        self.hook = hook
        self.folder = folder
        self.message_seconds = message_seconds
        self.status = SnapshotStatus()

    def take(
        self, photo: np.ndarray, stylized: np.ndarray, style: StyleEntry, strength: float, preserve_color: bool
    ) -> None:
        request = SnapshotRequest(photo, stylized, style.specs, style.name, strength, preserve_color, self.folder)
        try:
            self.hook(request, self.status)
        except RealtimeError as exc:
            self.status.update(str(exc))

    def on_hud(self) -> tuple[str | None, tuple[str, float] | None]:
        """A message to show (for a while after the status last changed), or a progress bar while one runs."""
        text, progress, age = self.status.read()
        if progress is not None and progress < 1.0:
            return None, (text, progress)
        return (text if text and age < self.message_seconds else None), None


def unique_path(folder: Path, stem: str, suffix: str) -> Path:
    """`folder/stem-YYYYmmdd-HHMMSS.suffix`, with -2, -3 … added when that name is taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = folder / f"{stem}-{stamp}{suffix}"
    counter = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{stamp}-{counter}{suffix}"
        counter += 1
    return candidate


def slug(text: str) -> str:
    """A file-name-safe version of a style name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:40] or "style"


def save_stylized(request: SnapshotRequest, status: SnapshotStatus) -> None:
    """The default hook: the stylised frame as a PNG, written atomically."""
    path = unique_path(request.folder, f"snapshot-{slug(request.style_name)}", ".png")
    write_image(request.stylized, path)
    status.update(f"saved snapshot {path}")
