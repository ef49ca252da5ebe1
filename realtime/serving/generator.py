"""One generator for every viewer: frames waiting from all of them go through it together, one batch per size.

MSG-Net takes a different style target per sample (B×C×C), so viewers with different styles still share a
call. Nothing waits to fill a batch: while the generator runs, the next frames of the other viewers queue,
and they go together next time, so batches form exactly when the generator is the bottleneck. Strength,
stroke and preserve-colour are applied to a call as a whole, so viewers who differ in those go in separate calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from realtime.runtimes.look import Look, per_sample
from realtime.runtimes.stylizer import Stylizer


@dataclass
class Job:
    """One viewer's frame at its working size, with that viewer's look."""

    image: np.ndarray
    look: Look
    future: asyncio.Future | None = field(default=None, repr=False)


@dataclass
class GeneratorStats:
    """Totals since start: calls (batches), frames, and seconds inside the generator."""

    batches: int = 0
    frames: int = 0
    seconds: float = 0.0
    largest_batch: int = 0

    @property
    def mean_batch(self) -> float:
        return self.frames / self.batches if self.batches else 0.0


class SharedGenerator:
    """A thread that owns the `Stylizer`'s generator and stylises the jobs of all viewers in batches, each
    call with its jobs' own looks."""

    def __init__(self, stylizer: Stylizer, max_batch: int = 8) -> None:
        self.stylizer = stylizer
        self.max_batch = max_batch
        self.stats = GeneratorStats()
        self._cond = threading.Condition()
        self._jobs: list[Job] = []
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="shared generator", daemon=True)
        self._thread.start()

    async def stylize(self, job: Job) -> np.ndarray:
        """The stylised frame for `job` (same size as its image)."""
        loop = asyncio.get_running_loop()
        job.future = loop.create_future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the generator is closed")
            self._jobs.append(job)
            self._cond.notify()
        return await job.future

    def warm_up(self, height: int, width: int, batch: int = 1) -> float:
        """Pay the fast path's build for a working size now (seconds; 0 when ready or eager)."""
        return self.stylizer.warm_up(height, width, batch)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=30.0)

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._jobs or self._closed)
                if self._closed:
                    pending, self._jobs = self._jobs, []
                    break
                jobs, self._jobs = self._jobs[: self.max_batch], self._jobs[self.max_batch :]
            groups: dict[tuple, list[Job]] = defaultdict(list)
            for job in jobs:
                look = job.look
                groups[(job.image.shape, look.strength, look.preserve_color, look.stroke)].append(job)
            for group in groups.values():
                self._run(group)
        for job in pending:
            _settle(job, error=RuntimeError("the generator is closed"))

    def _run(self, jobs: list[Job]) -> None:
        began = time.perf_counter()
        try:
            frames = self._stylize(jobs)
        except Exception as exc:  # noqa: BLE001 - e.g. out of memory: every viewer in the batch hears it, the thread goes on
            for job in jobs:
                _settle(job, error=exc)
            return
        stats = self.stats
        stats.batches += 1
        stats.frames += len(jobs)
        stats.seconds += time.perf_counter() - began
        stats.largest_batch = max(stats.largest_batch, len(jobs))
        for job, frame in zip(jobs, frames):
            _settle(job, frame)

    def _stylize(self, jobs: list[Job]) -> np.ndarray:
        frames = np.stack([job.image for job in jobs])
        return self.stylizer.stylize_frames(frames, per_sample([job.look for job in jobs]))


def _settle(job: Job, frame: np.ndarray | None = None, error: BaseException | None = None) -> None:
    """Hand the result to the viewer's event loop (a viewer that left meanwhile is simply skipped)."""
    future = job.future
    if future is None:
        return

    def settle() -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(frame)

    with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
        future.get_loop().call_soon_threadsafe(settle)
