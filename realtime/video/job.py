"""A video job as plain values: what decides its pictures, from which any process rebuilds the same run.

A Ray worker loads its own stylizer and schedule from it, and a resumed chunked run compares it with the job
that made the chunks it finds, so chunks made with other settings are never joined with new ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from realtime.device import resolve_device
from realtime.model.style_spec import DEFAULT_STYLE_SIZE
from realtime.runtimes.cuda import FastSettings
from realtime.runtimes.settings import DEFAULT_STROKE
from realtime.runtimes.stylizer import Stylizer
from realtime.video.schedule import StyleSchedule
from realtime.video.settings import DEFAULT_FADE, TimedStyle, VideoSettings


@dataclass(frozen=True)
class VideoJob:
    """The styles over time, the model, the look and the frame settings of a video run.

    `weights` is a path or a shipped file's name (None: the shipped `model`); on a cluster, paths must be the
    same on every node. `refine` steps fit each painting's target with the VGG16 at `vgg` first.
    """

    styles: tuple[TimedStyle, ...]
    weights: str | None = None
    model: str = "auto"
    device: str = "auto"
    style_size: int = DEFAULT_STYLE_SIZE
    compile: bool = False
    refine: int = 0
    vgg: str | None = None
    fade: float = DEFAULT_FADE
    palette: bool = True
    strength: float = 1.0
    stroke: float = DEFAULT_STROKE
    preserve_color: bool = False
    video: VideoSettings = field(default_factory=VideoSettings)

    def load(
        self, device: str | None = None, on_build: Callable[[str], None] | None = None, progress: bool = False
    ) -> tuple[Stylizer, StyleSchedule]:
        """The stylizer on `device` (default: the job's) and the schedule of looks it paints with."""
        chosen = resolve_device(device or self.device)
        optimize = FastSettings.compiled_for(chosen) if self.compile else None
        stylizer = Stylizer.load(
            self.weights, str(chosen), self.style_size, optimize=optimize, on_build=on_build, model=self.model
        )
        stylizer.refine_styles(self.refine, self.vgg, progress=progress)
        palette = stylizer.styles.blend_palette if self.palette else None
        schedule = StyleSchedule(
            self.styles, stylizer.styles.blend, self.fade, palette, self.strength, self.stroke, self.preserve_color
        )
        return stylizer, schedule

    def concrete(self, weights: str) -> VideoJob:
        """The job with `weights` where it names none (what the shipped `model` resolved to) and every file it
        names as an absolute path: what each worker of a cluster, in its own working folder, and a resumed run
        must agree on."""

        def absolute(path: str | None) -> str | None:
            return str(Path(path).absolute()) if path is not None and Path(path).exists() else path

        styles = tuple(
            dataclasses.replace(timed, spec=dataclasses.replace(timed.spec, source=absolute(timed.spec.source)))
            for timed in self.styles
        )
        return dataclasses.replace(
            self, weights=absolute(self.weights or weights), vgg=absolute(self.vgg), styles=styles
        )

    def identity(self) -> dict[str, object]:
        """What decides the pictures, as JSON values: the device and compiling change only the speed."""
        values = dataclasses.asdict(self)
        for name in ("device", "compile"):
            values.pop(name)
        # The same path edited is another file: retrained weights, a repainted style picture.
        files = [self.weights, *(timed.spec.source for timed in self.styles)]
        values["files"] = [
            [Path(f).stat().st_size, Path(f).stat().st_mtime_ns] for f in files if f and Path(f).is_file()
        ]
        return values
