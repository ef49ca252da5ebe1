"""Outputs appear whole or not at all: write beside the target, rename into place when done.

A process killed outright (SIGKILL, a lost machine) leaves its temporary file behind. Each writer holds a
lock on its own temporary file while it writes, so the next writer of the same target can tell a dead
writer's file (no lock) from a live one's and removes only the former. Where there are no such locks
(Windows, some network filesystems), a temporary file untouched for a day counts as dead.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from realtime.errors import RealtimeError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

# Where no lock can tell whether a writer is alive: a day untouched is dead.
STALE_SECONDS = 24 * 3600


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto `path` only if the block succeeds.

    Any exception, Ctrl-C included, removes the temporary file and leaves `path` as it was. Temporary files
    of the same target that a killed writer left are removed first.
    """
    target = Path(path)
    folder = _existing_folder(target)  # creating the temporary file is the writability check here
    remove_leftovers(folder, [target.name])
    fd, tmp = _locked_temp(target, folder)
    try:
        yield tmp
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if fd is not None:
            os.close(fd)


@contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """`atomic_output` for a folder: yield a new empty folder beside `path`, which takes `path`'s place only
    if the block succeeds; a folder already at `path` is removed after the swap (the caller decides whether
    it may be). Leftover folders of killed writers are removed first, as leftover files are."""
    target = Path(path)
    parent = _existing_folder(target)
    remove_leftovers(parent, [target.name])
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=parent))
    except OSError as exc:
        raise _unwritable(parent, exc) from None
    fd = _lock_folder(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's private 0700 would hide a site from its web server
        old = parent / f".{target.name}.{secrets.token_hex(4)}.part"
        if target.exists():
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except BaseException:
            if old.exists():  # the earlier folder goes back rather than wait, unlocked, as a leftover
                os.replace(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if fd is not None:
            os.close(fd)


def _lock_folder(folder: Path) -> int | None:
    """A descriptor of `folder` holding the lock that says its writer lives (None where there are no locks)."""
    if fcntl is None:
        return None
    fd = os.open(folder, os.O_RDONLY)
    with contextlib.suppress(OSError):  # a filesystem without locks: there a day untouched counts as dead
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _locked_temp(target: Path, folder: Path) -> tuple[int | None, Path]:
    """A new temporary file beside `target`, and its descriptor holding the lock that says its writer lives
    (None without locks: Windows cannot rename or remove a file that is open).

    Another writer's cleanup may lock and remove a file in the instant between its creation and our lock:
    then our lock fails, or lands on a removed file, and a fresh name is taken.
    """
    while True:
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{target.suffix}", dir=folder)
        except OSError as exc:
            raise _unwritable(folder, exc) from None
        if fcntl is None:
            os.close(fd)
            return None, Path(name)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        except OSError:  # a filesystem without locks: there a day untouched counts as dead
            return fd, Path(name)
        if os.fstat(fd).st_nlink > 0:
            return fd, Path(name)
        os.close(fd)


def remove_leftovers(folder: str | Path, names: Iterable[str]) -> int:
    """Delete the temporary files that dead writers left in `folder` for targets called `names`; how many.

    Only a process killed outright (SIGKILL, a lost cluster node) leaves them: anything else cleans up. A
    live writer's file (locked, or younger than a day where there are no locks) is never touched.
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
        if stem.rpartition(".")[0] + rest in wanted and not entry.is_symlink():
            removed += _remove_if_abandoned(entry.path)
    return removed


def _remove_if_abandoned(path: str) -> bool:
    """Remove the temporary file (or folder) at `path` unless a live writer holds it; whether it was removed.

    The lock is held while removing, so a writer that has just created the file cannot take it meanwhile.
    """
    try:
        if fcntl is None:  # Windows: no locks, and an open file cannot be removed
            if time.time() - os.stat(path).st_mtime <= STALE_SECONDS:
                return False
            _delete(path)
            return True
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its writer is alive
        except OSError:  # a filesystem without locks
            if time.time() - os.fstat(fd).st_mtime <= STALE_SECONDS:
                return False
        _delete(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _delete(path: str) -> None:
    """A leftover file, or a leftover folder (`atomic_folder`'s) with what it holds."""
    if os.path.isdir(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


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
    return 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
