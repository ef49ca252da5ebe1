"""A long video's chunks spread over a Ray cluster (or a local Ray): one stylizer per worker actor.

Each actor loads the job's stylizer and schedule once (on one GPU of its own where the cluster has GPUs) and
writes each chunk it is handed into the run's chunk folder; the driver only counts frames and, once every
chunk is there, joins them (`realtime.video.chunked`). Every node must see the input, the output's folder
and the weights at the same paths (a shared filesystem), and have this package installed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from realtime.batch.cluster import import_ray, placement, quiet, realtime_cause, start_ray
from realtime.errors import RealtimeError
from realtime.model.weights import resolve_weights
from realtime.video.chunked import ChunkWork
from realtime.video.chunks import Chunk, ChunkPlan, stylize_chunk
from realtime.video.job import VideoJob


class ChunkWorker:
    """One Ray actor: a stylizer and schedule of its own, making whole chunk files."""

    def __init__(self, job: VideoJob, gpu: bool, threads: int) -> None:
        import cv2
        import torch

        torch.set_num_threads(threads)  # the CPUs Ray gave this actor, not the whole node's: the generator's
        cv2.setNumThreads(threads)  # and the stabiliser's optical flow
        self.job = job
        self.stylizer, self.schedule = job.load("cuda" if gpu else "cpu")  # Ray shows each actor its own GPU

    def run(self, source: Path, chunk: Chunk, plan: ChunkPlan, path: Path, codec: str) -> int:
        generate = self.stylizer.stylize_frames
        device = self.stylizer.device.type
        return stylize_chunk(
            source, chunk, plan, path, generate, self.schedule, self.job.video, codec=codec, device_type=device
        )


class RayChunks:
    """Chunks on the Ray cluster at `address` (None: `RAY_ADDRESS`, else a local Ray on this machine).

    `workers`: stylizer actors; default one per GPU where the cluster has GPUs, else one per node. The actors
    stay up from one video to the next while the job is the same (a folder of videos loads its models once);
    `close` lets them and a Ray started here go.
    """

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        self.address = address
        self.workers = workers
        self.layout = ""
        self._ray: ModuleType | None = None
        self._started = False
        self._job: VideoJob | None = None
        self._actors: list = []
        self._prepared: tuple[VideoJob, VideoJob] | None = None

    def describe(self) -> str:
        return self.layout or "Ray"

    def prepare(self, job: VideoJob) -> VideoJob:
        """The job with the shipped model every worker will load named outright (`auto` would pick per node) and
        its paths absolute; loaded once here on the CPU first, so a bad style or weights file is one line before
        any actor starts."""
        if self._prepared is not None and self._prepared[0] == job:
            return self._prepared[1]  # the next video of a folder
        ray = self._start()
        gpu, _, _ = placement(ray, job.device, self.workers)
        checked, _ = dataclasses.replace(job, refine=0, compile=False).load("cpu")
        if job.weights is None:  # by its shipped name, which each node finds in its own install
            weights = Path(resolve_weights(None, job.model, "cuda" if gpu else "cpu").source).stem
        else:
            weights = checked.weights.source
        self._prepared = (job, job.concrete(weights))
        return self._prepared[1]

    def run(
        self,
        job: VideoJob,
        source: Path,
        plan: ChunkPlan,
        todo: ChunkWork,
        codec: str,
        on_frames: Callable[[int], None],
    ) -> None:
        if not todo:
            return
        from ray.util import ActorPool

        pool = ActorPool(self._actors_for(job))
        try:
            for written in pool.map_unordered(
                lambda worker, item: worker.run.remote(source, item[0], plan, item[1], codec), todo
            ):
                on_frames(written)
        except BaseException as exc:
            self._stop_actors()  # a failed or interrupted pool may still hold chunks: start afresh next time
            cause = realtime_cause(exc) if isinstance(exc, Exception) else None
            if cause is None:
                raise
            raise RealtimeError(str(cause)) from None

    def close(self) -> None:
        self._stop_actors()
        if self._started:
            self._ray.shutdown()
        self._ray, self._started = None, False

    def _start(self) -> ModuleType:
        if self._ray is None:
            self._ray = import_ray()
            self._started = start_ray(self._ray, self.address)
            quiet(self._ray)
        return self._ray

    def _actors_for(self, job: VideoJob) -> list:
        if self._actors and job == self._job:
            return self._actors
        self._stop_actors()
        ray = self._start()
        gpu, workers, cpus = placement(ray, job.device, self.workers)
        self.layout = f"Ray, {workers} worker{'s' * (workers > 1)} × {cpus:g} CPU{' + 1 GPU' if gpu else ''}"
        actor = ray.remote(num_cpus=cpus, num_gpus=1 if gpu else 0)(ChunkWorker)
        self._actors = [actor.remote(job, gpu, max(1, int(cpus))) for _ in range(workers)]
        self._job = job
        return self._actors

    def _stop_actors(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors, self._job = [], None
