"""What the app keeps between runs because recomputing it costs seconds: fitted style targets, the generator
exported as a graph, and the CPU runtime's compiled graphs. Everything here can be deleted at any time."""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

from torch import Tensor

from realtime.atomic import atomic_output
from realtime.errors import RealtimeError

CACHE_ENV = "REALTIME_CACHE"


def cache_folder(kind: str) -> Path:
    """The folder for one kind of cached thing: under $REALTIME_CACHE, else the XDG cache folder's realtime/."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]) / kind
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "realtime" / kind


def tensor_digest(*tensors: Tensor) -> str:
    """A key for tensors' shapes and values, for naming what was computed from them."""
    hasher = hashlib.sha256()
    for tensor in tensors:
        hasher.update(str(tuple(tensor.shape)).encode())
        hasher.update(tensor.detach().float().contiguous().cpu().numpy().tobytes())
    return hasher.hexdigest()[:32]


def read_bytes(path: Path) -> bytes | None:
    """A cached file's bytes, or None when there is none (or it cannot be read: then it is made again)."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def write_bytes(path: Path, data: bytes, what: str) -> None:
    """Keep `data` at `path` whole or not at all; a cache that cannot be written costs time, not the run."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp:
            tmp.write_bytes(data)
    except (OSError, RealtimeError) as exc:
        warn_unwritable(path.parent, exc, what)


def warn_unwritable(folder: Path, exc: Exception, what: str) -> None:
    """One warning, not an error: the run goes on without the cache."""
    warnings.warn(f"could not keep {what} in {folder} ({exc}); it will be made again next time", stacklevel=3)


def prune(folder: Path, max_bytes: int) -> None:
    """Delete the oldest files in `folder` until the rest fit in `max_bytes`: caches that grow with every
    new frame size or weights file stay bounded."""
    try:
        files = sorted((stat.st_mtime, stat.st_size, entry) for entry in folder.iterdir() for stat in [entry.stat()])
    except OSError:
        return
    total = sum(size for _, size, _ in files)
    for _, size, entry in files:
        if total <= max_bytes:
            return
        try:
            entry.unlink()
            total -= size
        except OSError:
            continue
