"""The local runner: the whole job in this process, one stylizer on the chosen device."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from realtime.batch.pipeline import Pipeline, load_stylizer
from realtime.batch.plan import ImageTask, Plan
from realtime.batch.settings import RenderSettings
from realtime.runtimes.stylizer import Stylizer


class LocalRunner:
    """Batched generator calls here, decoding and encoding on `threads` worker threads (default: one per core).

    `stylizer` reuses one already loaded (a notebook's); by default the settings' weights are loaded.
    """

    def __init__(self, settings: RenderSettings, threads: int | None = None, stylizer: Stylizer | None = None) -> None:
        self.settings = settings
        self.threads = threads or os.cpu_count() or 1
        self.stylizer = stylizer

    def prepare(self) -> None:
        if self.stylizer is None:
            self.stylizer = load_stylizer(self.settings)

    def run(self, plan: Plan, tasks: list[ImageTask]) -> Iterator[dict[str, Any]]:
        self.prepare()
        yield from Pipeline(self.stylizer, plan.roots, self.settings, plan.seed, self.threads).run(tasks)

    def describe(self) -> str:
        where = str(self.stylizer.device) if self.stylizer is not None else self.settings.device
        return f"local, {where}, {self.threads} I/O threads"
