"""What the app keeps between runs because recomputing it costs seconds: fitted style targets, the generator
exported as a graph, and the CPU runtime's compiled graphs. Everything here can be deleted at any time."""

from __future__ import annotations

import contextlib
import hashlib
import os
import warnings
from collections.abc import Callable
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


def read_checked(folder: Path, key: str) -> bytes | None:
    """The bytes kept under `key` by `write_checked`, or None when there are none. A file whose content no
    longer matches the digest in its name (a damaged disk, a hand edit) is deleted, so it is made again rather
    than handed to a runtime that would fail on it."""
    for path in folder.glob(f"{key}-*.bin"):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if path.name == _checked_name(key, data):
            return data
        with contextlib.suppress(OSError):
            path.unlink()
    return None


def write_checked(folder: Path, key: str, data: bytes, what: str) -> None:
    """Keep `data` under `key` for `read_checked`."""
    keep(folder / _checked_name(key, data), lambda tmp: tmp.write_bytes(data), what)


def keep(path: Path, write: Callable[[Path], object], what: str) -> None:
    """Write a cache file through `write(temporary path)`, whole or not at all; a cache that cannot be written
    costs time, not the run: it warns once and the run goes on."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp:
            write(tmp)
    except (OSError, RealtimeError) as exc:
        warn_unwritable(path.parent, exc, what)


def _checked_name(key: str, data: bytes) -> str:
    return f"{key}-{hashlib.sha256(data).hexdigest()[:16]}.bin"


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
