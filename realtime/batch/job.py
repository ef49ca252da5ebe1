"""A batch job: its plan, what is already done, the runner that makes the rest, and the count of how it went.

`stylize_dataset` is the Python API behind `realtime batch`:

    from realtime.batch import stylize_dataset
    summary = stylize_dataset("imagenet/train", "stylized/", "paintings/", per_image=1, seed=0, size=256)
    summary = stylize_dataset(..., ray=True)                     # a local Ray, or RAY_ADDRESS
    summary = stylize_dataset(..., ray="ray://head:10001")       # an existing cluster
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from realtime.atomic import remove_leftovers
from realtime.batch.manifest import OK, Manifest
from realtime.batch.plan import ImageTask, Plan
from realtime.batch.settings import MANIFEST_NAME, RenderSettings
from realtime.errors import RealtimeError

OnOutput = Callable[[dict[str, Any]], None]


class Runner(Protocol):
    """Makes outputs for image tasks, yielding one manifest row per output as it lands."""

    def prepare(self) -> None:
        """Check and load what the run needs (the generator, Ray) before the job touches the output folder."""

    def run(self, plan: Plan, tasks: list[ImageTask]) -> Iterator[dict[str, Any]]: ...

    def describe(self) -> str: ...


@dataclass
class Summary:
    """How far a job got: `outputs` in the whole plan, of which `skipped` were complete before this run."""

    outputs: int
    skipped: int
    manifest: Path
    written: int = 0
    failed: int = 0
    seconds: float = 0.0
    runner: str = ""

    @property
    def remaining(self) -> int:
        return self.outputs - self.skipped - self.written - self.failed

    @property
    def rate(self) -> float:
        """Outputs written per second of this run, start-up included (Ray's, and loading the generator unless
        the runner was prepared beforehand)."""
        return self.written / self.seconds if self.seconds > 0 else 0.0


class BatchJob:
    """A plan and the settings its outputs are made with; `run` resumes wherever the manifest says.

    `summary` is kept up to date while the job runs, so after a Ctrl-C it says how far the job got.
    """

    def __init__(self, plan: Plan, settings: RenderSettings) -> None:
        self.plan = plan
        self.settings = settings
        self.manifest = Manifest(plan.roots.outputs / MANIFEST_NAME)
        self.summary = Summary(plan.outputs, 0, self.manifest.path)

    def run(self, runner: Runner, progress: bool = True, on_output: OnOutput | None = None) -> Summary:
        """Make every output not already complete; a failed input is a manifest row, not a stop.

        `on_output(row)` hears each finished output (a notebook's own progress display, say).
        """
        began = time.perf_counter()
        runner.prepare()
        outputs = self.plan.roots.outputs
        try:
            outputs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RealtimeError(f"cannot create the output folder {outputs}: {exc.strerror}") from None
        planned = {(o.path, o.style) for task in self.plan.tasks for o in task.outputs}
        done = self.manifest.open(outputs, planned)
        pending = [
            ImageTask(task.source, todo)
            for task in self.plan.tasks
            if (todo := tuple(o for o in task.outputs if (o.path, o.style) not in done))
        ]
        self.summary = summary = Summary(self.plan.outputs, len(done), self.manifest.path)
        self._remove_leftovers(self.plan.tasks)  # done ones too: a retried task's killed first try leaves one
        bar = tqdm(total=self.plan.outputs - len(done), unit="img", desc="batch", file=sys.stderr, disable=not progress)
        try:
            with closing(runner.run(self.plan, pending)) as rows:
                for entry in rows:
                    self.manifest.append(entry)
                    if entry["status"] == OK:
                        summary.written += 1
                    else:
                        summary.failed += 1
                        bar.set_postfix(failed=summary.failed)
                    summary.seconds = time.perf_counter() - began
                    bar.update(1)
                    if on_output is not None:
                        on_output(entry)
        finally:
            summary.seconds = time.perf_counter() - began
            summary.runner = runner.describe()
            bar.close()
            self.manifest.close()
            self._remove_leftovers(pending)
        return summary

    def _remove_leftovers(self, tasks: Sequence[ImageTask]) -> None:
        """Dead writers' temporary files beside these tasks' outputs (never a whole output, never a live writer's)."""
        names: dict[Path, list[str]] = {}
        for task in tasks:
            for output in task.outputs:
                path = self.plan.roots.outputs / output.path
                names.setdefault(path.parent, []).append(path.name)
        for folder, wanted in names.items():
            remove_leftovers(folder, wanted)


def stylize_dataset(
    input_dir: str | Path,
    output_dir: str | Path,
    styles_dir: str | Path,
    *,
    per_image: int = 1,
    seed: int = 0,
    image_format: str = "same",
    ray: bool | str = False,
    workers: int | None = None,
    progress: bool = True,
    on_output: OnOutput | None = None,
    **render: Any,
) -> Summary:
    """Stylise every image under `input_dir` into the same tree under `output_dir`, each in `per_image`
    paintings from `styles_dir` drawn with `seed`; rerunning resumes. Returns the counts.

    `render`: `RenderSettings` fields (`weights`, `device`, `size`, `quality`, `refine`, `vgg`, `batch`, …).
    `ray`: False runs here with `workers` I/O threads; True or a cluster address runs on Ray with
    `workers` stylizer actors. `image_format`: `same` (each input's extension), `jpg`, `png` or `webp`.
    """
    job = BatchJob(
        Plan.build(input_dir, output_dir, styles_dir, per_image, seed, image_format), RenderSettings(**render)
    )
    return job.run(make_runner(job.settings, ray, workers), progress, on_output)


def make_runner(settings: RenderSettings, ray: bool | str = False, workers: int | None = None) -> Runner:
    """The local runner, or the Ray runner for `ray` True (a local Ray, or `RAY_ADDRESS`) or an address."""
    if ray is False:
        from realtime.batch.local import LocalRunner

        return LocalRunner(settings, workers)
    from realtime.batch.cluster import RayRunner

    return RayRunner(settings, None if ray is True else ray, workers)
