"""Outputs appear whole or not at all: write beside the target, rename into place when done."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import RealtimeError


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto `path` only if the block succeeds.

    Any exception, Ctrl-C included, removes the temporary file and leaves `path` as it was.
    """
    target = Path(path)
    folder = check_output_folder(target)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{target.suffix}", dir=folder)
    except OSError as exc:
        raise RealtimeError(f"cannot write to {folder}: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_output_folder(path: str | Path) -> Path:
    """The folder `path` would be written into; an error when it does not exist, so callers can fail
    before minutes of work rather than at the final write."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise RealtimeError(f"output folder does not exist: {folder}")
    return folder


def _new_file_mode() -> int:
    """What open() would have given: mkstemp's private 0600 would surprise a user sharing outputs."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
