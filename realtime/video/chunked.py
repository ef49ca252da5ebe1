"""A long video in chunks: cut at keyframes, the chunks stylised by a runner (several at once on this machine,
or spread over a Ray cluster), then joined without re-encoding.

Finished chunks are kept in a hidden folder beside the output (`.NAME.chunks`) until the join succeeds, so
a killed or interrupted run, run again with the same job, redoes only the chunks that are missing; a run
with another job or another input starts that folder afresh. The output itself is whole or absent.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm import tqdm

from realtime.atomic import atomic_output
from realtime.errors import RealtimeError
from realtime.runtimes.look import Look
from realtime.runtimes.stylizer import Stylizer
from realtime.video.chunks import Chunk, ChunkPlan, plan_chunks, stylize_chunk, warm_up_frames
from realtime.video.job import VideoJob
from realtime.video.join import check_joinable, join_chunks
from realtime.video.pipeline import Cancelled
from realtime.video.reader import VideoReader
from realtime.video.schedule import StyleSchedule
from realtime.video.settings import DEFAULT_CHUNK_SECONDS
from realtime.video.stylize import check_paths
from realtime.video.writer import encoder_for

_JOB_FILE = "job.json"

ChunkWork = list[tuple[Chunk, Path]]  # the chunks still to make, each with the file it goes to


class ChunkRunner(Protocol):
    """Makes chunk files: `prepare` says how it will run a job (its weights made concrete: a shipped `auto`
    model depends on the device); `run` stylises each chunk of `todo` into its path, calling `on_frames(n)` as
    frames are done, and raises the first failure after stopping the rest."""

    def prepare(self, job: VideoJob) -> VideoJob: ...

    def run(
        self,
        job: VideoJob,
        source: Path,
        plan: ChunkPlan,
        todo: ChunkWork,
        codec: str,
        on_frames: Callable[[int], None],
    ) -> None: ...

    def describe(self) -> str: ...


@dataclass
class ChunkedResult:
    """How a chunked run ended: frames in the output, chunks in all and those a previous run had finished."""

    source: str
    output: str
    frames: int
    chunks: int
    reused: int
    seconds: float
    layout: str
    audio: str | None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class LocalChunks:
    """Chunks on this machine: `jobs` at once, each with its own decode and encode threads, all through the one
    generator, which takes one batch at a time. On a GPU that keeps the device busy while CPU cores encode."""

    def __init__(self, stylizer: Stylizer, schedule: StyleSchedule, jobs: int = 2) -> None:
        if jobs < 1:
            raise RealtimeError(f"jobs must be 1 or more, got {jobs}")
        self.stylizer = stylizer
        self.schedule = schedule
        self.jobs = jobs
        self._generator = threading.Lock()

    def describe(self) -> str:
        return f"this machine, {self.jobs} chunk{'s' * (self.jobs > 1)} at once"

    def prepare(self, job: VideoJob) -> VideoJob:
        return job.concrete(self.stylizer.weights.source)

    def run(
        self,
        job: VideoJob,
        source: Path,
        plan: ChunkPlan,
        todo: ChunkWork,
        codec: str,
        on_frames: Callable[[int], None],
    ) -> None:
        cancel = threading.Event()
        with ThreadPoolExecutor(self.jobs, thread_name_prefix="chunk") as pool:
            futures = [
                pool.submit(
                    stylize_chunk,
                    source,
                    chunk,
                    plan,
                    path,
                    self._generate,
                    self.schedule,
                    job.video,
                    codec=codec,
                    device_type=self.stylizer.device.type,
                    on_frame=lambda: on_frames(1),
                    cancel=cancel,
                )
                for chunk, path in todo
            ]
            try:
                wait(futures, return_when=FIRST_EXCEPTION)
            finally:
                cancel.set()  # after a failure or Ctrl-C the others stop at their next frame; finished ones are kept
                for future in futures:
                    future.cancel()
        errors = [f.exception() for f in futures if not f.cancelled() and f.exception() is not None]
        for error in sorted(errors, key=lambda e: isinstance(e, Cancelled)):
            raise error

    def _generate(self, frames: np.ndarray, look: Look) -> np.ndarray:
        with self._generator:
            return self.stylizer.stylize_frames(frames, look)


def chunk_folder(output: str | Path) -> Path:
    """Where a chunked run keeps the finished chunks of `output` until the join."""
    output = Path(output)
    return output.with_name(f".{output.name}.chunks")


class _ChunkFolder:
    """The hidden folder of a run's finished chunks, tagged with the job and input that made them."""

    def __init__(self, output: Path, identity: dict[str, object]) -> None:
        self.path = chunk_folder(output)
        recorded = self.path / _JOB_FILE
        try:
            same = json.loads(recorded.read_text()) == identity
        except (OSError, ValueError):
            same = False
        if not same:
            shutil.rmtree(self.path, ignore_errors=True)
        try:
            self.path.mkdir(exist_ok=True)
            if not same:
                with atomic_output(recorded) as tmp:
                    tmp.write_text(json.dumps(identity))
        except OSError as exc:
            raise RealtimeError(f"cannot write chunks beside {output}: {exc.strerror}") from None

    def done(self, chunk: Chunk) -> bool:
        return (self.path / chunk.name).is_file()

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def stylize_in_chunks(
    source: str | Path,
    output: str | Path,
    job: VideoJob,
    runner: ChunkRunner,
    *,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    progress: bool = True,
) -> ChunkedResult:
    """Stylise `source` into `output` chunk by chunk with `runner`: the frames, times and audio of
    `stylize_video`'s output, frames within the codec's noise of it."""
    began = time.perf_counter()
    given = str(output)
    source, output = Path(source).absolute(), Path(output).absolute()  # workers elsewhere have other folders
    check_paths(source, output)
    with VideoReader(source) as reader:
        audio = reader.audio_codec
    codec = encoder_for(output, job.video.codec)
    check_joinable(output, codec, source if audio else None)
    plan = plan_chunks(source, chunk_seconds, warm_up_frames(job.video.stabilize))
    job = runner.prepare(job)
    stat = source.stat()
    identity = {
        "input": [str(source.resolve()), stat.st_size, stat.st_mtime_ns],
        "job": job.identity(),
        "chunks": [[chunk.start, chunk.end] for chunk in plan.chunks],
    }
    folder = _ChunkFolder(output, json.loads(json.dumps(identity)))  # as read back: infinities and tuples alike
    todo = [(chunk, folder.path / chunk.name) for chunk in plan.chunks if not folder.done(chunk)]
    reused = len(plan.chunks) - len(todo)
    lock = threading.Lock()
    with tqdm(
        total=plan.frames,
        initial=plan.frames - sum(chunk.frames for chunk, _ in todo),
        unit="frame",
        desc=source.name,
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:

        def on_frames(count: int) -> None:
            with lock:
                bar.update(count)

        runner.run(job, source, plan, todo, codec, on_frames)
    frames = join_chunks([folder.path / chunk.name for chunk in plan.chunks], output, source if audio else None)
    folder.remove()
    return ChunkedResult(
        str(source),
        given,
        frames,
        len(plan.chunks),
        reused,
        time.perf_counter() - began,
        runner.describe(),
        audio,
    )
