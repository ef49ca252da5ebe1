"""Outputs appear whole or not at all: write beside the target, rename into place when done."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from realtime.errors import RealtimeError


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto `path` only if the block succeeds.

    Any exception, Ctrl-C included, removes the temporary file and leaves `path` as it was.
    """
    target = Path(path)
    folder = _existing_folder(target)  # creating the temporary file is the writability check here
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{target.suffix}", dir=folder)
    except OSError as exc:
        raise _unwritable(folder, exc) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_leftovers(folder: str | Path, names: Iterable[str]) -> int:
    """Delete the temporary files `atomic_output` left in `folder` for targets called `names`; how many.

    Only a process killed outright (SIGKILL, a lost cluster node) leaves them: anything else cleans up. A
    job that resumes into the folder calls this for the outputs it still has to write.
    """
    wanted = set(names)
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no such folder yet, or one we cannot list: nothing of ours to remove there
        return 0
    removed = 0
    for entry in entries:
        # `.{stem}.{random}.part{suffix}`, as `atomic_output` names them; mkstemp's random part has no dot.
        stem, dot, rest = entry.name[1:].rpartition(".part")
        if not (entry.name.startswith(".") and dot and "." in stem):
            continue
        if stem.rpartition(".")[0] + rest in wanted and entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed


def check_output_folder(path: str | Path) -> Path:
    """The folder `path` would be written into; an error when it does not exist or cannot take a new
    file (read-only, full, no permission), so callers fail before minutes of work, not at the final write."""
    folder = _existing_folder(path)
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise _unwritable(folder, exc) from None
    return folder


def _existing_folder(path: str | Path) -> Path:
    folder = Path(path).parent
    if not folder.is_dir():
        raise RealtimeError(f"output folder does not exist: {folder}")
    return folder


def _unwritable(folder: Path, exc: OSError) -> RealtimeError:
    return RealtimeError(f"cannot write to {folder}: {exc.strerror}")


def refuse_overwrite(output: str | Path, sources: Iterable[str | Path], role: str = "the input") -> None:
    """Refuse, before any work, an output that would replace one of `sources` (the same path, or a link
    to the same file): the atomic rename would otherwise destroy an input without a word."""
    out = Path(output)
    if not out.exists():
        return
    for source in sources:
        if Path(source).is_file() and out.samefile(source):
            raise RealtimeError(f"output {output} would replace {role} {source}; choose another output path")


def _new_file_mode() -> int:
    """What open() would have given: mkstemp's private 0600 would surprise a user sharing outputs."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
