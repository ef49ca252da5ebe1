"""Stylising still images: which inputs go to which outputs, and one file through the stylizer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from realtime.atomic import refuse_overwrite
from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_long_side
from realtime.imaging.images import (
    DEFAULT_IMAGE_SIZE,
    IMAGE_SUFFIXES,
    SAMPLE_PREFIX,
    STDIO,
    check_output_path,
    read_image,
    write_image,
)
from realtime.runtimes.stylizer import Stylizer


@dataclass(frozen=True)
class Job:
    source: str
    output: str


@dataclass(frozen=True)
class Result:
    source: str
    output: str
    width: int
    height: int
    downscaled: bool
    seconds: float


def plan_jobs(inputs: list[str], output: str) -> list[Job]:
    """Pair inputs with outputs: one input → `output` is a file (or `-`); otherwise `output` is a folder.

    Folders given as inputs contribute every image file directly inside them.
    """
    sources: list[str] = []
    for item in inputs:
        path = Path(item)
        if item != STDIO and not item.startswith(SAMPLE_PREFIX) and path.is_dir():
            found = sorted(str(p) for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not found:
                raise RealtimeError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {path}")
            sources.extend(found)
        elif item == STDIO or item.startswith(SAMPLE_PREFIX) or path.is_file():
            sources.append(item)
        else:
            raise RealtimeError(f"no such file: {path}")
    if sources.count(STDIO) > 1:
        raise RealtimeError("standard input (-) can be read only once")

    single_file = len(inputs) == 1 and sources == inputs and not Path(output).is_dir()
    if single_file:
        jobs = [Job(sources[0], output)]
    else:
        if output == STDIO:
            raise RealtimeError("several images cannot all go to standard output; give a folder to -o")
        folder = Path(output)
        if folder.exists() and not folder.is_dir():
            raise RealtimeError(f"several inputs need a folder for -o, but {folder} is a file")
        jobs = [Job(src, str(folder / _output_name(src))) for src in sources]

    outputs = [job.output for job in jobs if job.output != STDIO]
    if len(set(outputs)) != len(outputs):
        raise RealtimeError("two inputs have the same file name and would overwrite each other's output")
    if not single_file:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RealtimeError(f"cannot create the output folder {folder}: {exc.strerror}") from None
    for job in jobs:
        check_output_path(job.output)
        if job.source != STDIO:
            refuse_overwrite(job.output, [job.source])
    return jobs


def _output_name(source: str) -> str:
    if source == STDIO:
        return "stdin.png"
    if source.startswith(SAMPLE_PREFIX):
        return source[len(SAMPLE_PREFIX) :] + ".png"
    return Path(source).name


def stylize_file(stylizer: Stylizer, job: Job, max_side: int = DEFAULT_IMAGE_SIZE) -> Result:
    """Read, downscale to `max_side` (long side, 0 = no limit), stylise, write atomically."""
    start = time.perf_counter()
    frame = read_image(job.source, max_side)
    work = fit_long_side(frame, max_side)
    out = stylizer(work)
    write_image(out, job.output)
    h, w = out.shape[:2]
    return Result(job.source, job.output, w, h, work is not frame, time.perf_counter() - start)
