"""A folder of videos: every video under it stylised into the same tree under the output folder, one after
another, with a manifest like `realtime batch`'s.

Each output is written atomically, and the manifest (`manifest.jsonl`, one JSON line per video) records it
once it is whole, so a rerun after a crash or Ctrl-C redoes only the videos that are missing. A video that
fails (corrupt, audio only, too large) becomes an error row and the others go on; a rerun tries it again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from realtime.batch.manifest import Manifest, row
from realtime.batch.settings import MANIFEST_NAME
from realtime.errors import RealtimeError

# What FFmpeg reads as video, by name: anything else in the folder (pictures, subtitles, notes) is left alone.
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".mts", ".3gp"}
)


@dataclass
class FolderSummary:
    """How a folder run ended: videos in all, written now, already done before, failed (see the manifest)."""

    videos: int
    written: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    manifest: str = ""


def video_files(input_dir: str | Path, output_dir: str | Path) -> list[Path]:
    """The videos under `input_dir`, sorted, as paths relative to it; hidden files and folders and anything
    under `output_dir` are skipped. One line when there are none, or when the output would be the input."""
    root, out = Path(input_dir), Path(output_dir)
    if not root.is_dir():
        raise RealtimeError(f"input folder not found: {root}")
    if out.exists() and not out.is_dir():
        raise RealtimeError(f"the input is a folder, so the output must be one too: {out} is a file")
    if out.resolve() == root.resolve():
        raise RealtimeError("the output folder is the input folder; choose another -o")
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or _inside(path, out):
            continue
        if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file():
            found.append(relative)
    if not found:
        raise RealtimeError(f"no videos ({', '.join(sorted(VIDEO_SUFFIXES))}) in {root}")
    return sorted(found)


def stylize_video_folder(
    input_dir: str | Path,
    output_dir: str | Path,
    stylize: Callable[[Path, Path, bool], object],
    style_label: str,
    *,
    progress: bool = True,
) -> FolderSummary:
    """Stylise every video of `input_dir` into the same relative path under `output_dir` with
    `stylize(source, output, progress)` (`stylize_video` or `stylize_in_chunks`, bound to a job);
    `style_label` names the styles in the manifest, so a rerun with other styles redoes every video."""
    began = time.perf_counter()
    root, out = Path(input_dir), Path(output_dir)
    files = video_files(root, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RealtimeError(f"cannot create the output folder {out}: {exc.strerror}") from None
    manifest = Manifest(out / MANIFEST_NAME)
    planned = {(str(relative), style_label) for relative in files}
    done = manifest.open(out, planned)
    summary = FolderSummary(len(files), skipped=len(done), manifest=str(manifest.path))
    todo = [relative for relative in files if (str(relative), style_label) not in done]
    try:
        for relative in tqdm(todo, desc="videos", unit="video", file=sys.stderr, disable=not progress or len(todo) < 2):
            target = out / relative
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                stylize(root / relative, target, progress)
            except (RealtimeError, OSError) as exc:
                reason = str(exc) if isinstance(exc, RealtimeError) else f"cannot write {target}: {exc.strerror}"
                manifest.append(row(str(relative), style_label, str(relative), 0, reason))
                summary.failed += 1
                tqdm.write(f"realtime: {relative}: {reason}", file=sys.stderr)
                continue
            manifest.append(row(str(relative), style_label, str(relative), 0))
            summary.written += 1
    finally:
        manifest.close()
        summary.seconds = time.perf_counter() - began
    return summary


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
