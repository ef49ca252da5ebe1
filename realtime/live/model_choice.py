"""Which generator a live session runs, and how (every frame or keyframes), chosen by timing this machine at start.

CPUs differ too much for fixed defaults, and a CPU flag does not promise a speed: two CPUs listing the same
features have differed several-fold on the same frame (docs/benchmarks.md). So `--model auto` times the
candidates on this CPU, in the order of the picture they show: the full model on every frame; the fast model
(distilled from the full one, where its weights are present: docs/benchmarks.md, "A fast generator for every
CPU") on every frame; the full model's keyframes painted beside the loop and carried along the motion
(`realtime.live.keyframes`), which show the full model's picture on a still scene but smear a moving one; the
fast or else the light model at its smallest size. The first that fits the frame budget is kept, with the
frame it timed: the working size follows from that (`realtime.live.starting_size`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

import numpy as np
import torch

from realtime.device import resolve_device
from realtime.live.settings import (
    FRAME_BUDGET_MS,
    KEYFRAME_MAX_MS,
    MIN_LIVE_FPS,
    WEBCAM_ASPECT,
    default_working_size,
)
from realtime.model.shapes import MODELS
from realtime.model.style_spec import DEFAULT_STYLE_SIZE
from realtime.model.weights import shipped_weights_path
from realtime.runtimes.look import Look
from realtime.runtimes.settings import DEFAULT_STROKE
from realtime.runtimes.stylizer import Stylizer

PROBE_FRAMES = 3


@dataclass(frozen=True)
class Timed:
    """A generator chosen for a live session, how it paints, and what one frame took at the size it was timed
    at: what the working size is then chosen from (`realtime.live.starting_size`).

    `ms` None: not timed, `size` is where it starts. Else the size grows from `lowest` (default `size`) while
    a frame stays within `budget_ms`; `why` says why this model was chosen over another, where one was."""

    stylizer: Stylizer
    size: int
    ms: float | None = None
    budget_ms: float = FRAME_BUDGET_MS
    keyframes: bool = False
    lowest: int | None = None
    why: str = ""


def frame_ms(
    stylizer: Stylizer,
    working_size: int,
    frames: int = PROBE_FRAMES,
    give_up_ms: float = float("inf"),
    stroke: float = DEFAULT_STROKE,
) -> float:
    """Median ms of a webcam-shaped frame at `working_size` painted at `stroke`, after the runtime's build for
    that size; a frame slower than `give_up_ms` ends the timing there (a slow CPU need not pay for more to be
    ruled out)."""
    height = round(working_size / WEBCAM_ASPECT) // 4 * 4
    frame = np.zeros((1, height, working_size, 3), np.uint8)
    channels = stylizer.model.target_channels
    neutral = stylizer.styles.neutral  # None for weights without built-in styles
    look = Look(neutral if neutral is not None else torch.zeros(channels, channels), stroke=stroke)
    stylizer.warm_up(height, working_size, stroke=stroke)
    times = []
    for _ in range(frames):
        began = time.perf_counter()
        stylizer.stylize_frames(frame, look)
        times.append((time.perf_counter() - began) * 1000.0)
        if times[-1] > give_up_ms:
            break
    return median(times)


def _keyframes_fit(ms: float, budget_ms: float) -> bool:
    """Too slow to paint every frame within `budget_ms`, fast enough for keyframes to follow the scene.

    Between the two, painting every frame gave a poorer picture than keyframes on every count: fewer frames,
    older ones, and strokes blurred by the stabiliser that steadies them (docs/benchmarks.md)."""
    return budget_ms < ms <= KEYFRAME_MAX_MS


def choose_generator(
    weights: str | None = None,
    *,
    device: str = "auto",
    style_size: int = DEFAULT_STYLE_SIZE,
    on_build: Callable[[str], None] | None = None,
    model: str = "auto",
    working_size: int | None = None,
    min_fps: float = MIN_LIVE_FPS,
    budget_ms: float | None = None,
    stroke: float = DEFAULT_STROKE,
    keyframes: str = "auto",
) -> Timed:
    """The generator a live session runs, and how: every frame, or keyframes beside the loop.

    With `model` auto on a CPU the picture is chosen by timing this CPU, best first: the full model on every
    frame where it runs within `budget_ms` (None = `FRAME_BUDGET_MS`; and at `min_fps` or more); else the
    fast model on every frame where it does; else the full model's keyframes (`keyframes` auto or on) where
    one takes at most `KEYFRAME_MAX_MS`; else the fast model at the smallest working size (the light model
    where no fast one ships). A named model or a weights file is never second-guessed: `keyframes` auto
    paints its keyframes on a CPU where it takes longer than the frame budget but within `KEYFRAME_MAX_MS`;
    on, on a CPU always. Off a CPU every frame is painted, at the device's default size."""
    budget = FRAME_BUDGET_MS if budget_ms is None else budget_ms
    if weights is None and model == "auto" and resolve_device(device).type == "cpu":
        return LiveChoice(device, style_size, on_build, working_size, min_fps, budget, stroke, keyframes).choose()
    stylizer = Stylizer.load(weights, device, style_size, on_build=on_build, model=model)
    if stylizer.device.type != "cpu":
        if keyframes == "on" and on_build is not None:
            on_build(f"{stylizer.device.type} paints every frame: keyframes are for a CPU")
        return Timed(stylizer, working_size or default_working_size(stylizer.device.type))
    size = working_size or default_working_size("cpu", stylizer.model.shape)
    if keyframes == "on":
        return Timed(stylizer, size, keyframes=True)
    if keyframes == "off" and working_size is not None:
        return Timed(stylizer, working_size)
    ms = frame_ms(stylizer, size, stroke=stroke)
    if keyframes == "auto" and _keyframes_fit(ms, budget):
        return Timed(stylizer, size, ms, KEYFRAME_MAX_MS, keyframes=True)
    lowest = size if ms * min_fps <= 1000.0 else min(size, default_working_size("cpu"))
    return Timed(stylizer, size, ms, budget, lowest=lowest)


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
        return Stylizer.load(None, self.device, self.style_size, on_build=self.on_build, model=model)

    def choose(self) -> Timed:
        full = self.load("full")
        size = self.working_size or default_working_size("cpu", MODELS["full"])
        if self.keyframes == "on":
            return Timed(full, size, keyframes=True)
        carried = self.keyframes == "auto"
        give_up = 2 * KEYFRAME_MAX_MS if carried else 2000.0 / self.min_fps
        ms = frame_ms(full, size, give_up_ms=give_up, stroke=self.stroke)
        if ms * self.min_fps <= 1000.0 and (ms <= self.budget or not carried):
            return Timed(full, size, ms, self.budget)
        slow = f"the full model takes {ms:.0f} ms a frame at working size {size} on this CPU"
        fast = self.load("fast") if shipped_weights_path("fast") is not None else None
        if fast is not None:
            fast_size = self.working_size or default_working_size("cpu", MODELS["fast"])
            fast_ms = frame_ms(fast, fast_size, stroke=self.stroke)
            if fast_ms <= self.budget:
                return self._instead(fast, fast_size, fast_ms, f"{slow}: the fast model paints every frame instead")
        if carried and _keyframes_fit(ms, self.budget):
            return Timed(full, size, ms, KEYFRAME_MAX_MS, keyframes=True, why="the full model")
        over = f"over {KEYFRAME_MAX_MS:.0f} ms a keyframe" if carried else f"under {self.min_fps:g} fps"
        if fast is not None:
            return self._instead(fast, fast_size, fast_ms, f"{slow}, {over}: running the fast model instead")
        light = self.load("light")
        light_size = self.working_size or default_working_size("cpu", MODELS["light"])
        light_ms = frame_ms(light, light_size, stroke=self.stroke)
        return self._instead(light, light_size, light_ms, f"{slow}, {over}: running the light model instead")

    def _instead(self, stylizer: Stylizer, size: int, ms: float, why: str) -> Timed:
        return Timed(stylizer, size, ms, self.budget, why=f"{why} (--model full keeps the full one)")
