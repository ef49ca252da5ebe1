"""The Ray runner: the same job spread over a Ray cluster (or a local Ray) with Ray Data.

The driver lists and assigns (the `Plan`), then streams the image tasks through `map_batches` over an
actor pool: each actor loads one stylizer (on one GPU of its own where the cluster has GPUs) and runs the
same `Pipeline` as a local job on the tasks it is handed, writing outputs itself. Rows come back to the
driver, which alone writes the manifest. Every node must see the input, styles and output folders and the
weights at the same paths (a shared filesystem), and have this package installed.
"""

from __future__ import annotations

import logging
import math
import re
import signal
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from realtime.batch.manifest import FIELDS
from realtime.batch.pipeline import Pipeline, load_stylizer
from realtime.batch.plan import ImageTask, Plan, Roots
from realtime.batch.settings import RenderSettings
from realtime.errors import RealtimeError
from realtime.model.weights import find_weights

INSTALL_HINT = "--ray needs Ray: pip install 'realtime[cluster]'"
MAX_IMAGES_PER_CALL = 32  # rows return to the driver per call: this bounds how far the manifest lags


def import_ray() -> ModuleType:
    """Ray and Ray Data, or one line saying how to get them (Ray is an optional dependency)."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise RealtimeError(INSTALL_HINT) from None
    return ray


class StyleWorker:
    """One Ray actor: a stylizer of its own and a local pipeline over each batch of tasks it receives."""

    def __init__(self, settings: RenderSettings, roots: Roots, seed: int, gpu: bool, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)  # the CPUs Ray gave this actor, not the whole node's
        stylizer = load_stylizer(settings, "cuda" if gpu else "cpu")  # Ray shows each actor only its own GPU
        self.pipeline = Pipeline(stylizer, roots, settings, seed, threads)

    def __call__(self, batch: Any) -> Any:
        import pandas as pd

        tasks = [ImageTask.from_json(text) for text in batch["task"]]
        rows = list(self.pipeline.run(tasks))
        # A string column even when every row succeeded, so all blocks share one schema.
        return pd.DataFrame(rows, columns=list(FIELDS)).astype({"error": "string"})


class RayRunner:
    """Runs a job on the Ray cluster at `address` (None: `RAY_ADDRESS`, else a local Ray on this machine).

    `workers`: stylizer actors; default one per GPU where the cluster has GPUs, else one per node, each
    with the node's CPUs. A Ray already initialised in this process (a notebook's) is used as it is.
    """

    def __init__(self, settings: RenderSettings, address: str | None = None, workers: int | None = None) -> None:
        self.settings = settings
        self.address = address
        self.workers = workers
        self.layout = ""

    def prepare(self) -> None:
        import_ray()
        find_weights(self.settings.weights)  # a missing file fails here, not in every actor

    def run(self, plan: Plan, tasks: list[ImageTask]) -> Iterator[dict[str, Any]]:
        self.prepare()
        if not tasks:
            return  # nothing left to do: no reason to start Ray
        ray = import_ray()
        started = start_ray(ray, self.address)
        try:
            quiet(ray)
            gpu, workers, cpus = placement(ray, self.settings.device, self.workers)
            self.layout = f"Ray, {workers} worker{'s' * (workers > 1)} × {cpus:g} CPU{' + 1 GPU' if gpu else ''}"
            per_call = max(1, min(MAX_IMAGES_PER_CALL, math.ceil(len(tasks) / (4 * workers))))
            items = [{"task": task.to_json()} for task in tasks]
            dataset = ray.data.from_items(items, override_num_blocks=max(1, math.ceil(len(items) / per_call)))
            styled = dataset.map_batches(
                StyleWorker,
                fn_constructor_kwargs={
                    "settings": self.settings,
                    "roots": plan.roots,
                    "seed": plan.seed,
                    "gpu": gpu,
                    "threads": max(1, int(cpus)),
                },
                batch_size=per_call,
                batch_format="pandas",
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=cpus,
                num_gpus=1 if gpu else 0,
            )
            try:
                for entry in styled.iter_rows():
                    yield {key: entry[key] for key in FIELDS}
            except Exception as exc:
                cause = realtime_cause(exc)
                if cause is None:
                    raise
                raise RealtimeError(str(cause)) from None
        finally:
            if started:
                ray.shutdown()

    def describe(self) -> str:
        return self.layout or "Ray"


def placement(ray: ModuleType, device: str, workers: int | None) -> tuple[bool, int, float]:
    """(GPU per worker?, workers, CPUs per worker) for the cluster Ray sees: by default one worker per GPU where
    it has GPUs, else one per node; whole CPUs where there are enough, a share of one on a node with more GPUs
    than CPUs."""
    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    gpus = int(sum(node.get("GPU", 0) for node in nodes))
    if device.startswith("cuda") and not gpus:
        raise RealtimeError(f"--device {device} was requested but the Ray cluster has no GPUs")
    gpu = gpus > 0 and device != "cpu"
    if gpu:
        workers = workers or gpus
        per_node = [node.get("CPU", 0) / node["GPU"] for node in nodes if node.get("GPU")]
    else:
        cpu_nodes = [node.get("CPU", 0) for node in nodes if node.get("CPU", 0) >= 1]
        workers = workers or len(cpu_nodes)
        per_node = [min(cpu_nodes), sum(cpu_nodes) / workers] if cpu_nodes else [1]
    available = gpus if gpu else int(sum(node.get("CPU", 0) for node in nodes))
    if workers > available:
        what = "GPUs" if gpu else "CPUs"
        raise RealtimeError(f"--workers {workers} is more than the Ray cluster's {available} {what}")
    cpus = min(per_node)
    return gpu, workers, float(int(cpus)) if cpus >= 1 else cpus


def start_ray(ray: ModuleType, address: str | None) -> bool:
    """Join or start Ray unless this process already has one (a notebook's); whether it was started here."""
    if ray.is_initialized():
        return False
    _init_ray(ray, address)
    return True


def _init_ray(ray: ModuleType, address: str | None) -> None:
    """Start or join Ray quietly, keeping this process's SIGTERM and SIGHUP handlers: Ray's core replaces them
    with its own, which prints a stack and aborts, where the job should stop cleanly and say how far it got."""
    kept = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                kept[getattr(signal, name)] = signal.getsignal(getattr(signal, name))
    ray.init(address=address, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    for signum, handler in kept.items():
        if handler is not None:
            signal.signal(signum, handler)


def quiet(ray: ModuleType) -> None:
    """Keep Ray Data's progress bars and execution reports out of the way of ours."""
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False


def realtime_cause(exc: BaseException) -> RealtimeError | None:
    """Our one-line error inside a Ray task error, found through Ray's wrappers."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        if isinstance(current, RealtimeError):
            return current
        seen.add(id(current))
        stack.extend([current.__cause__, current.__context__, getattr(current, "cause", None)])
    # An actor that died while starting keeps its error only as text in Ray's message.
    found = re.search(r"RealtimeError: (.+)", str(exc))
    return RealtimeError(found.group(1).strip()) if found else None
