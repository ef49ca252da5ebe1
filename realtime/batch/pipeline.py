"""The work on one machine: decode on worker threads, stylise in batches of one size, encode on worker threads.

Both runners use it: the local one over the whole job, each Ray worker over the batches it is handed. The
generator runs on the calling thread, which alone touches the stylizer (its style-target cache has no lock).
Decoded images wait in per-size groups; whenever the backlog is full the largest group goes through the
generator, in batches. Same-sized images thus run together: a GPU batches them, and a CPU runtime that
compiles per input shape (OpenVINO, under a second per shape, a few shapes kept) compiles far less often. The
backlog is bounded in pixels, so memory stays flat at any image size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np

from realtime.batch.manifest import row
from realtime.batch.plan import ImageTask, Output, Roots
from realtime.batch.settings import RenderSettings
from realtime.device import resolve_device
from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_long_side
from realtime.imaging.images import read_image, write_image
from realtime.imaging.limits import working_side
from realtime.runtimes.look import Look, per_sample
from realtime.runtimes.stylizer import Stylizer


def load_stylizer(settings: RenderSettings, device: str | None = None) -> Stylizer:
    """The job's stylizer on `device` (default: the settings' own), styles fitted when `--refine` asks."""
    chosen = resolve_device(settings.device if device is None else device)
    # Eager on CUDA, as `realtime image` does: a dataset's many image sizes would each cost a compile.
    optimize = False if chosen.type == "cuda" else None
    stylizer = Stylizer.load(settings.weights, str(chosen), settings.style_size, optimize=optimize)
    stylizer.refine_styles(settings.refine, settings.vgg)
    return stylizer


# Pixels of outputs waiting for the generator: about 100 MB of RGB. At 256 px that is hundreds of images, so a
# photo collection's common sizes (ImageNet's 4:3, 3:2, square) come round many times per compile.
BACKLOG_PIXELS = 32 * 2**20


@dataclass
class _Sample:
    """One output waiting for the generator: its image's pixels and its painting's look."""

    task: ImageTask
    output: Output
    frame: np.ndarray
    look: Look


class _Backlog:
    """Outputs waiting for the generator, grouped by image size, bounded by the pixels they hold."""

    def __init__(self, limit: int = BACKLOG_PIXELS) -> None:
        self.limit = limit
        self.pixels = 0
        self.groups: dict[tuple[int, ...], list[_Sample]] = {}

    def add(self, sample: _Sample) -> None:
        self.groups.setdefault(sample.frame.shape, []).append(sample)
        self.pixels += sample.frame.shape[0] * sample.frame.shape[1]

    def full(self) -> bool:
        return self.pixels >= self.limit

    def largest(self) -> list[_Sample]:
        """Take the group with the most outputs (the backlog must not be empty)."""
        shape = max(self.groups, key=lambda s: len(self.groups[s]))
        self.pixels -= shape[0] * shape[1] * len(self.groups[shape])
        return self.groups.pop(shape)


class Pipeline:
    """Turns image tasks into finished outputs, yielding one manifest row per output as it is written."""

    def __init__(self, stylizer: Stylizer, roots: Roots, settings: RenderSettings, seed: int, threads: int) -> None:
        self.stylizer = stylizer
        self.roots = roots
        self.settings = settings
        self.seed = seed
        self.threads = max(1, threads)
        self.batch = settings.batch_for(stylizer.device.type)
        self.max_writing = 2 * self.threads + self.batch  # styled outputs queued for the writer threads

    def run(self, tasks: Iterable[ImageTask]) -> Iterator[dict[str, Any]]:
        """Rows in the order outputs finish. Stopping early (Ctrl-C, an error, the caller closing the
        iterator) cancels what has not started and waits for writes under way, which land whole."""
        pool = ThreadPoolExecutor(self.threads, thread_name_prefix="batch-io")
        decoding: deque[Future] = deque()
        writing: set[Future] = set()
        backlog = _Backlog()
        try:
            for task in tasks:
                decoding.append(pool.submit(self._decode, task))
                while len(decoding) > 2 * self.threads:
                    yield from self._take(decoding.popleft(), backlog, writing, pool)
            while decoding:
                yield from self._take(decoding.popleft(), backlog, writing, pool)
            while backlog.groups:
                yield from self._stylize(backlog.largest(), writing, pool)
            yield from self._finished(writing, keep=0)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _take(
        self,
        decoded: Future,
        backlog: _Backlog,
        writing: set[Future],
        pool: ThreadPoolExecutor,
    ) -> Iterator[dict[str, Any]]:
        """File one decoded image's outputs into the backlog; once it is full, run its largest group."""
        task, frame, error = decoded.result()
        if error is not None:
            yield from (self._row(task, output, error) for output in task.outputs)
        else:
            for output in task.outputs:
                painting = str(self.roots.styles / output.style)
                try:
                    styles = self.stylizer.styles
                    look = Look(styles.target(painting), styles.palette(painting) if self.settings.palette else None)
                except RealtimeError as exc:  # an unreadable painting fails its outputs, not the job
                    yield self._row(task, output, f"style: {exc}")
                    continue
                backlog.add(_Sample(task, output, frame, look))
        if backlog.full():
            yield from self._stylize(backlog.largest(), writing, pool)
        yield from self._finished(writing)

    def _decode(self, task: ImageTask) -> tuple[ImageTask, np.ndarray | None, str | None]:
        try:
            frame = read_image(self.roots.inputs / task.source, working_side(self.settings.size))
        except RealtimeError as exc:
            return task, None, str(exc)
        return task, fit_long_side(frame, working_side(self.settings.size)), None

    def _stylize(
        self, samples: list[_Sample], writing: set[Future], pool: ThreadPoolExecutor
    ) -> Iterator[dict[str, Any]]:
        """The generator over `samples` (all one size) in batches, each result to a writer thread; rows of
        finished writes come out between batches, waiting for the writers when too many are queued."""
        for start in range(0, len(samples), self.batch):
            chunk = samples[start : start + self.batch]
            frames = np.stack([s.frame for s in chunk])
            looks = per_sample([s.look for s in chunk])
            for sample, styled in zip(chunk, self.stylizer.stylize_frames(frames, looks)):
                writing.add(pool.submit(self._write, sample, styled))
            yield from self._finished(writing, keep=self.max_writing)

    def _write(self, sample: _Sample, styled: np.ndarray) -> dict[str, Any]:
        """Write one output atomically. A failed write stops the job: the next would fail the same way."""
        path = self.roots.outputs / sample.output.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RealtimeError(f"cannot create the output folder {path.parent}: {exc.strerror}") from None
        write_image(styled, path, self.settings.quality)
        return self._row(sample.task, sample.output)

    def _finished(self, writing: set[Future], keep: int | None = None) -> Iterator[dict[str, Any]]:
        """Rows of the writes that have finished; with `keep`, first wait until at most `keep` are pending."""
        while True:
            block = keep is not None and len(writing) > keep
            done, _ = wait(writing, timeout=None if block else 0, return_when=FIRST_COMPLETED)
            for future in done:
                writing.discard(future)
                yield future.result()
            if not block:
                return

    def _row(self, task: ImageTask, output: Output, error: str | None = None) -> dict[str, Any]:
        return row(task.source, output.style, output.path, self.seed, error)
