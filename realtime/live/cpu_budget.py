"""What a live session runs on a CPU within its frame budget: the model and the working size, measured at start.

CPUs differ too much for fixed defaults. A CPU listing Intel AMX is where the full generator can be live, but
the flag alone does not promise it: two 2-core Xeons listing AMX have taken 28 ms and 213 ms for the same
320×240 frame (docs/benchmarks.md). So `--model auto` on such a CPU times a few frames of the full model
before keeping it, and runs the light model when the full one would stutter (other CPUs skip that probe:
none without AMX has come near). Then, unless `--size` says otherwise, the working size grows from the
model's default while the generator's frame time stays within budget: the picture's style ratio falls as
the working size grows (docs/benchmarks.md), and a fast CPU has time to spare at 320.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

import numpy as np
import torch

from realtime.live.settings import MAX_CPU_WORKING_SIZE, default_working_size
from realtime.live.sizes import SIZE_STEPS
from realtime.model.shapes import MODELS
from realtime.model.styles import DEFAULT_STYLE_SIZE
from realtime.runtimes.stylizer import Stylizer

MIN_LIVE_FPS = 12.0  # the full model's generator rate below which the light one's fluid picture wins
# The generator's share of a 15 fps frame: the loop's capture, stabilisation and display took ~14 ms of the
# 63 ms frames of a 15.9 fps run (benchmarks/bench_live.py).
FRAME_BUDGET_MS = 50.0
PROBE_FRAMES = 3
WEBCAM_ASPECT = 4 / 3  # the frame shape the probe times: a webcam's, at the working size


@dataclass(frozen=True)
class LiveSetup:
    """The generator a live session runs and the working size it starts at."""

    stylizer: Stylizer
    working_size: int


def frame_ms(stylizer: Stylizer, working_size: int, frames: int = PROBE_FRAMES) -> float:
    """Median ms of a webcam-shaped frame at `working_size`, after the runtime's build for that size."""
    height = round(working_size / WEBCAM_ASPECT) // 4 * 4
    frame = np.zeros((1, height, working_size, 3), np.uint8)
    channels = stylizer.model.target_channels
    neutral = stylizer.styles.neutral  # None for weights without built-in styles
    target = neutral if neutral is not None else torch.zeros(channels, channels)
    stylizer.warm_up(height, working_size)
    times = []
    for _ in range(frames):
        began = time.perf_counter()
        stylizer.stylize_frames(frame, target)
        times.append((time.perf_counter() - began) * 1000.0)
    return median(times)


def largest_size_within(budget_ms: float, size: int, ms: float, highest: int = MAX_CPU_WORKING_SIZE) -> int:
    """The largest working size step from `size` up to `highest` whose frame, timed at `ms` for `size` and
    growing with its pixels, fits `budget_ms`; `size` itself when none larger does."""
    fits = [step for step in SIZE_STEPS if size < step <= highest and ms * (step / size) ** 2 <= budget_ms]
    return max(fits, default=size)


def load_live(
    weights: str | None = None,
    device: str = "auto",
    style_size: int = DEFAULT_STYLE_SIZE,
    on_build: Callable[[str], None] | None = None,
    model: str = "auto",
    working_size: int | None = None,
    min_fps: float = MIN_LIVE_FPS,
    budget_ms: float | None = None,
) -> LiveSetup:
    """`Stylizer.load` for a live session, and its working size: `working_size` when given, else on CUDA the
    device's default, on a CPU the largest that keeps the generator within `budget_ms` a frame (never below
    the model's default; None = `FRAME_BUDGET_MS`). With `model` auto on a CPU, the full generator is kept only when it runs at
    `min_fps` or more; otherwise the light one is loaded, with a note through `on_build` saying why. A weights
    file or a named model is never second-guessed."""
    stylizer = Stylizer.load(weights, device, style_size, on_build=on_build, model=model)
    if stylizer.device.type != "cpu":
        return LiveSetup(stylizer, working_size or default_working_size(stylizer.device.type))
    size = working_size or default_working_size("cpu", stylizer.model.shape)
    full = stylizer.model.shape == MODELS["full"]
    ms = None
    if weights is None and model == "auto" and full:
        ms = frame_ms(stylizer, size)
        if ms * min_fps > 1000.0:
            if on_build is not None:
                on_build(
                    f"the full model takes {ms:.0f} ms a frame at working size {size} on this CPU, under "
                    f"{min_fps:g} fps: running the light model instead (--model full keeps the full one)"
                )
            stylizer = Stylizer.load(None, device, style_size, on_build=on_build, model="light")
            size, ms = working_size or default_working_size("cpu", MODELS["light"]), None
    if working_size is not None:
        return LiveSetup(stylizer, working_size)
    ms = frame_ms(stylizer, size) if ms is None else ms
    grown = largest_size_within(FRAME_BUDGET_MS if budget_ms is None else budget_ms, size, ms)
    if grown != size and on_build is not None:
        on_build(
            f"working size {grown}: {ms:.0f} ms a frame at {size} leaves this CPU time for a sharper picture "
            "(--size sets it)"
        )
    return LiveSetup(stylizer, grown)
