"""What a live session runs on a CPU within its frame budget: the model and the working size, measured at start.

CPUs differ too much for fixed defaults. A CPU listing Intel AMX is where the full generator can paint every
frame, but the flag alone does not promise it: two 2-core Xeons listing AMX have taken 28 ms and 213 ms for
the same 320×240 frame (docs/benchmarks.md). So `--model auto` times a few frames of the full model before
keeping it. A generator over the frame budget but fast enough for a few frames a second paints keyframes
beside the loop (`realtime.live.keyframes`): the full model's picture at the camera's frame rate rather than
the light model's, at the largest working size whose keyframe stays within that limit (the frame rate no
longer bounds it). Keyframes can be within reach of CPUs without AMX too (docs/benchmarks.md), so where they
may run every CPU is timed; slower still, the light model runs. Otherwise, unless `--size` says so, the
working size grows from the model's default while the generator's frame time stays within budget: the
picture's style ratio falls as the working size grows (docs/benchmarks.md), and a fast CPU has time to spare
at 320.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

import numpy as np
import torch

from realtime.device import resolve_device
from realtime.live.settings import MAX_CPU_WORKING_SIZE, default_working_size
from realtime.live.sizes import SIZE_STEPS
from realtime.model.shapes import MODELS
from realtime.model.styles import DEFAULT_STYLE_SIZE
from realtime.runtimes.settings import DEFAULT_STROKE
from realtime.runtimes.strokes import paint_size
from realtime.runtimes.stylizer import Stylizer

MIN_LIVE_FPS = 12.0  # the full model's generator rate below which the light one's fluid picture wins
# The generator's share of a 15 fps frame: the loop's capture, stabilisation and display took ~14 ms of the
# 63 ms frames of a 15.9 fps run (benchmarks/bench_live.py).
FRAME_BUDGET_MS = 50.0
PROBE_FRAMES = 3
# Slower than this a frame (timed alone), keyframes come too rarely: beside the loop a keyframe takes about
# twice as long, and past ~1.2 s the carried picture loses the scene of a hand-held camera (docs/benchmarks.md).
KEYFRAME_MAX_MS = 400.0
WEBCAM_ASPECT = 4 / 3  # the frame shape the probe times: a webcam's, at the working size


@dataclass(frozen=True)
class LiveSetup:
    """The generator a live session runs, the working size it starts at, and whether it paints keyframes."""

    stylizer: Stylizer
    working_size: int
    keyframes: bool = False


def frame_ms(
    stylizer: Stylizer, working_size: int, frames: int = PROBE_FRAMES, give_up_ms: float = float("inf")
) -> float:
    """Median ms of a webcam-shaped frame at `working_size`, after the runtime's build for that size; a frame
    slower than `give_up_ms` ends the timing there (a slow CPU need not pay for more to be ruled out)."""
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
        if times[-1] > give_up_ms:
            break
    return median(times)


def _pixels(working_size: int, stroke: float) -> int:
    """Pixels the generator paints for a webcam frame at `working_size`, the stroke pass's included."""
    height = round(working_size / WEBCAM_ASPECT)
    paint = paint_size(height, working_size, stroke)
    return height * working_size + (paint[0] * paint[1] if paint else 0)


def _keyframes_fit(ms: float, budget_ms: float) -> bool:
    """Too slow to paint every frame within `budget_ms`, fast enough for keyframes to follow the scene.

    Between the two, painting every frame gave a poorer picture than keyframes on every count: fewer frames,
    older ones, and strokes blurred by the stabiliser that steadies them (docs/benchmarks.md)."""
    return budget_ms < ms <= KEYFRAME_MAX_MS


def largest_size_within(
    budget_ms: float,
    size: int,
    ms: float,
    stroke: float = DEFAULT_STROKE,
    lowest: int | None = None,
    highest: int = MAX_CPU_WORKING_SIZE,
) -> int:
    """The largest working-size step from `lowest` (default `size`) up to `highest` whose frame fits
    `budget_ms`, from `ms` timed at `size` and growing with the pixels painted (a larger picture's stroke
    pass included); `lowest` when none does."""
    lowest = size if lowest is None else lowest
    steps = {step for step in SIZE_STEPS if lowest <= step <= highest} | {lowest}
    fits = [step for step in steps if ms * _pixels(step, stroke) / _pixels(size, stroke) <= budget_ms]
    return max(fits, default=lowest)


def load_live(
    weights: str | None = None,
    device: str = "auto",
    style_size: int = DEFAULT_STYLE_SIZE,
    on_build: Callable[[str], None] | None = None,
    model: str = "auto",
    working_size: int | None = None,
    min_fps: float = MIN_LIVE_FPS,
    budget_ms: float | None = None,
    stroke: float = DEFAULT_STROKE,
    keyframes: str = "auto",
) -> LiveSetup:
    """`Stylizer.load` for a live session, and its working size: `working_size` when given, else on CUDA the
    device's default, on a CPU the largest that keeps the generator within `budget_ms` a frame (None =
    `FRAME_BUDGET_MS`), painting at `stroke`: never below the model's default where the model is live there,
    down to the light model's otherwise. With `model` auto on a CPU, the full generator is kept only when it runs at
    `min_fps` or more, or when keyframes (`keyframes` auto or on) can carry it; otherwise the light one is loaded,
    with a note through `on_build` saying why. `keyframes` auto paints keyframes on a CPU where the generator
    takes longer than the frame budget but within `KEYFRAME_MAX_MS` (so a given `working_size` is timed too,
    unless `keyframes` is off), at the largest working size whose keyframe stays within it unless
    `working_size` is given; on, on a CPU always, at the model's default size. A weights file or a named model is never
    second-guessed."""
    carried = keyframes != "off"
    budget = FRAME_BUDGET_MS if budget_ms is None else budget_ms
    guessing = weights is None and model == "auto"
    # Where keyframes may run, the full model is timed on any CPU, not only where `model_for` picks it.
    timed_full = guessing and carried and resolve_device(device).type == "cpu"
    stylizer = Stylizer.load(weights, device, style_size, on_build=on_build, model="full" if timed_full else model)
    stylizer.stroke = stroke
    if stylizer.device.type != "cpu":
        if keyframes == "on" and on_build is not None:
            on_build(f"{stylizer.device.type} paints every frame: keyframes are for a CPU")
        return LiveSetup(stylizer, working_size or default_working_size(stylizer.device.type))
    size = working_size or default_working_size("cpu", stylizer.model.shape)
    full = stylizer.model.shape == MODELS["full"]
    ms = None
    if guessing and full:
        ms = frame_ms(stylizer, size, give_up_ms=2 * KEYFRAME_MAX_MS if carried else float("inf"))
        if ms * min_fps > 1000.0 and not (carried and _keyframes_fit(ms, budget)):
            if on_build is not None:
                too_slow = f"under {min_fps:g} fps" + (
                    f" and over {KEYFRAME_MAX_MS:.0f} ms a keyframe" if carried else ""
                )
                on_build(
                    f"the full model takes {ms:.0f} ms a frame at working size {size} on this CPU, {too_slow}: "
                    "running the light model instead (--model full keeps the full one)"
                )
            stylizer = Stylizer.load(None, device, style_size, on_build=on_build, model="light")
            stylizer.stroke = stroke
            size, ms = working_size or default_working_size("cpu", MODELS["light"]), None
    if keyframes == "on":
        return LiveSetup(stylizer, size, keyframes=True)
    if carried or working_size is None:
        ms = frame_ms(stylizer, size) if ms is None else ms
    if carried and _keyframes_fit(ms, budget):
        painted = working_size or largest_size_within(KEYFRAME_MAX_MS, size, ms, stroke)
        if on_build is not None:
            on_build(
                f"the generator takes {ms:.0f} ms a frame at working size {size} on this CPU: it paints keyframes "
                f"at working size {painted} beside the loop, and every frame shows the newest carried along the "
                "motion (--keyframes off waits for each frame)"
            )
        return LiveSetup(stylizer, painted, keyframes=True)
    if working_size is not None:
        return LiveSetup(stylizer, working_size)
    lowest = size if ms * min_fps <= 1000.0 else min(size, default_working_size("cpu"))
    chosen = largest_size_within(budget, size, ms, stroke, lowest)
    if chosen != size and on_build is not None:
        why = "leaves this CPU time for a sharper picture" if chosen > size else "is too slow to be live"
        on_build(f"working size {chosen}: {ms:.0f} ms a frame at {size} {why} (--size sets it)")
    return LiveSetup(stylizer, chosen)
