"""Which generator a live session runs on a CPU: the full one only where this CPU runs it live, measured.

A CPU listing Intel AMX is where the full generator can be live, but the flag alone does not promise it:
two 2-core Xeons listing AMX have taken 28 ms and 213 ms for the same 320×240 frame (docs/benchmarks.md).
So `--model auto` on such a CPU times a few frames of the full model at the session's working size before
keeping it, and runs the light model when the full one would stutter. Other CPUs skip the probe: none
without AMX has come near.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from statistics import median

import numpy as np
import torch

from realtime.live.settings import default_working_size
from realtime.model.shapes import MODELS
from realtime.model.styles import DEFAULT_STYLE_SIZE
from realtime.runtimes.stylizer import Stylizer

MIN_LIVE_FPS = 12.0  # the full model's generator rate below which the light one's fluid picture wins
PROBE_FRAMES = 3
WEBCAM_ASPECT = 4 / 3  # the frame shape the probe times: a webcam's, at the working size


def full_model_ms(stylizer: Stylizer, working_size: int, frames: int = PROBE_FRAMES) -> float:
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


def load_live_stylizer(
    weights: str | None = None,
    device: str = "auto",
    style_size: int = DEFAULT_STYLE_SIZE,
    on_build: Callable[[str], None] | None = None,
    model: str = "auto",
    working_size: int | None = None,
    min_fps: float = MIN_LIVE_FPS,
) -> Stylizer:
    """`Stylizer.load` for a live session: with `model` auto on a CPU, the full generator is kept only when
    it runs at `min_fps` or more at `working_size` (default: the full model's live size); otherwise the light
    one is loaded, with a note through `on_build` saying why. A weights file or a named model is never
    second-guessed."""
    stylizer = Stylizer.load(weights, device, style_size, on_build=on_build, model=model)
    full = stylizer.model.shape == MODELS["full"]
    if weights is not None or model != "auto" or stylizer.device.type != "cpu" or not full:
        return stylizer
    size = working_size or default_working_size("cpu", MODELS["full"])
    ms = full_model_ms(stylizer, size)
    if ms * min_fps <= 1000.0:
        return stylizer
    if on_build is not None:
        on_build(
            f"the full model takes {ms:.0f} ms a frame at working size {size} on this CPU, under "
            f"{min_fps:g} fps: running the light model instead (--model full keeps the full one)"
        )
    return Stylizer.load(None, device, style_size, on_build=on_build, model="light")
