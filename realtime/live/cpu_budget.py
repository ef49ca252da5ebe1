"""What a live session runs on a CPU within its frame budget: the model and the working size, measured at start.

CPUs differ too much for fixed defaults, and a CPU flag does not promise a speed: two 2-core Xeons listing AMX
have taken 28 ms and 213 ms for the same 320×240 frame (docs/benchmarks.md). So `--model auto` times the
candidates on this CPU, in the order of the picture they show: the full model on every frame; the fast model
(distilled from the full one, where its weights are present: docs/benchmarks.md, "A fast generator for every
CPU") on every frame; the full model's keyframes painted beside the loop and carried along the motion
(`realtime.live.keyframes`), which show the full model's picture on a still scene but smear a moving one; the
fast or else the light model at its smallest size. The first that fits the frame budget is kept. Unless `--size` says so, the working size then grows
from the model's default while the generator's frame time stays within budget: the picture's style ratio
falls as the working size grows, and a fast CPU has time to spare at 320.
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
from realtime.model.weights import shipped_weights_path
from realtime.runtimes.settings import DEFAULT_STROKE
from realtime.runtimes.strokes import paint_size
from realtime.runtimes.stylizer import Stylizer

MIN_LIVE_FPS = 12.0  # the full model's generator rate below which a smaller model's fluid picture wins
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
    `FRAME_BUDGET_MS`), painting at `stroke`.

    With `model` auto on a CPU the picture is chosen by timing this CPU, best first: the full model on every
    frame where it runs within the budget (and at `min_fps` or more); else the fast model on every frame where
    it does; else the full model's keyframes (`keyframes` auto or on) where one takes at most `KEYFRAME_MAX_MS`;
    else the fast model at the smallest working size (the light model where no fast one ships). One note
    through `on_build` says what was chosen and why. A named model or a weights file is never second-guessed:
    `keyframes` auto paints its keyframes on a CPU where it takes longer than the frame budget but within
    `KEYFRAME_MAX_MS`, at the largest working size whose keyframe stays within it unless `working_size` is
    given; on, on a CPU always, at the model's default size."""
    budget = FRAME_BUDGET_MS if budget_ms is None else budget_ms
    if weights is None and model == "auto" and resolve_device(device).type == "cpu":
        choice = LiveChoice(device, style_size, on_build, working_size, min_fps, budget, stroke, keyframes)
        return choice.choose()
    stylizer = _load(weights, device, style_size, on_build, model, stroke)
    if stylizer.device.type != "cpu":
        if keyframes == "on" and on_build is not None:
            on_build(f"{stylizer.device.type} paints every frame: keyframes are for a CPU")
        return LiveSetup(stylizer, working_size or default_working_size(stylizer.device.type))
    size = working_size or default_working_size("cpu", stylizer.model.shape)
    if keyframes == "on":
        return LiveSetup(stylizer, size, keyframes=True)
    if keyframes == "off" and working_size is not None:
        return LiveSetup(stylizer, working_size)
    ms = frame_ms(stylizer, size)
    if keyframes == "auto" and _keyframes_fit(ms, budget):
        return _keyframes(stylizer, size, ms, working_size, stroke, on_build)
    if working_size is not None:
        return LiveSetup(stylizer, working_size)
    lowest = size if ms * min_fps <= 1000.0 else min(size, default_working_size("cpu"))
    return _every_frame(stylizer, size, ms, budget, stroke, on_build, lowest)


def _load(
    weights: str | None,
    device: str,
    style_size: int,
    on_build: Callable[[str], None] | None,
    model: str,
    stroke: float,
) -> Stylizer:
    stylizer = Stylizer.load(weights, device, style_size, on_build=on_build, model=model)
    stylizer.stroke = stroke
    return stylizer


def _keyframes(
    stylizer: Stylizer,
    size: int,
    ms: float,
    working_size: int | None,
    stroke: float,
    on_build: Callable[[str], None] | None,
    why: str = "",
) -> LiveSetup:
    painted = working_size or largest_size_within(KEYFRAME_MAX_MS, size, ms, stroke)
    if on_build is not None:
        on_build(
            f"{why or 'the generator'} takes {ms:.0f} ms a frame at working size {size} on this CPU: it paints "
            f"keyframes at working size {painted} beside the loop, and every frame shows the newest carried along "
            "the motion (--keyframes off waits for each frame)"
        )
    return LiveSetup(stylizer, painted, keyframes=True)


def _every_frame(
    stylizer: Stylizer,
    size: int,
    ms: float,
    budget: float,
    stroke: float,
    on_build: Callable[[str], None] | None,
    lowest: int,
    why: str = "",
) -> LiveSetup:
    """Every frame painted, at the largest working size from `lowest` that keeps within `budget`, and a note:
    `why` where a model was chosen, else only where the size moved from `size`."""
    chosen = largest_size_within(budget, size, ms, stroke, lowest)
    if on_build is not None and (why or chosen != size):
        grown = (
            "leaves this CPU time for a sharper picture"
            if chosen > size
            else "is too slow to be live"
            if chosen < size or ms > budget
            else "fits the frame budget"
        )
        where = f"working size {chosen}: {ms:.0f} ms a frame at {size} {grown} (--size sets it)"
        on_build(f"{why}, at {where}" if why else where)
    return LiveSetup(stylizer, chosen)


class LiveChoice:
    """`--model auto` on a CPU: the candidates timed in order of their picture, best first, until one fits."""

    def __init__(
        self,
        device: str,
        style_size: int,
        on_build: Callable[[str], None] | None,
        working_size: int | None,
        min_fps: float,
        budget: float,
        stroke: float,
        keyframes: str,
    ) -> None:
        self.device, self.style_size, self.on_build, self.stroke = device, style_size, on_build, stroke
        self.working_size, self.min_fps, self.budget, self.keyframes = working_size, min_fps, budget, keyframes

    def load(self, model: str) -> Stylizer:
        return _load(None, self.device, self.style_size, self.on_build, model, self.stroke)

    def choose(self) -> LiveSetup:
        full = self.load("full")
        size = self.working_size or default_working_size("cpu", MODELS["full"])
        if self.keyframes == "on":
            return LiveSetup(full, size, keyframes=True)
        carried = self.keyframes == "auto"
        ms = frame_ms(full, size, give_up_ms=2 * KEYFRAME_MAX_MS if carried else 2000.0 / self.min_fps)
        if ms * self.min_fps <= 1000.0 and (ms <= self.budget or not carried):
            if self.working_size is not None:
                return LiveSetup(full, self.working_size)
            return _every_frame(full, size, ms, self.budget, self.stroke, self.on_build, size)
        slow = f"the full model takes {ms:.0f} ms a frame at working size {size} on this CPU"
        fast = self.load("fast") if shipped_weights_path("fast") is not None else None
        if fast is not None:
            fast_size = self.working_size or default_working_size("cpu", MODELS["fast"])
            fast_ms = frame_ms(fast, fast_size)
            if fast_ms <= self.budget:
                return self._every_frame(fast, fast_size, fast_ms, f"{slow}: the fast model paints every frame instead")
        if carried and _keyframes_fit(ms, self.budget):
            return _keyframes(full, size, ms, self.working_size, self.stroke, self.on_build, "the full model")
        over = f"over {KEYFRAME_MAX_MS:.0f} ms a keyframe" if carried else f"under {self.min_fps:g} fps"
        if fast is not None:
            return self._every_frame(fast, fast_size, fast_ms, f"{slow}, {over}: running the fast model instead")
        light = self.load("light")
        light_size = self.working_size or default_working_size("cpu", MODELS["light"])
        light_ms = frame_ms(light, light_size)
        return self._every_frame(light, light_size, light_ms, f"{slow}, {over}: running the light model instead")

    def _every_frame(self, stylizer: Stylizer, size: int, ms: float, why: str) -> LiveSetup:
        why = f"{why} (--model full keeps the full one)"
        if self.working_size is not None:
            self._note(f"{why}, at working size {self.working_size}")
            return LiveSetup(stylizer, self.working_size)
        return _every_frame(stylizer, size, ms, self.budget, self.stroke, self.on_build, size, why)

    def _note(self, message: str) -> None:
        if self.on_build is not None:
            self.on_build(message)
