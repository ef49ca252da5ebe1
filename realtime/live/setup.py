"""A live session's generator and its starting working size, in one call: the generator chosen by timing
(`realtime.live.model_choice`), then the working size from the frame it timed (`realtime.live.starting_size`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from realtime.live.model_choice import choose_generator
from realtime.live.settings import MIN_LIVE_FPS
from realtime.live.starting_size import starting_size
from realtime.model.style_spec import DEFAULT_STYLE_SIZE
from realtime.runtimes.settings import DEFAULT_STROKE
from realtime.runtimes.stylizer import Stylizer


@dataclass(frozen=True)
class LiveSetup:
    """The generator a live session runs, the working size it starts at, and whether it paints keyframes."""

    stylizer: Stylizer
    working_size: int
    keyframes: bool = False


def load_live(
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
) -> LiveSetup:
    """`Stylizer.load` for a live session (`choose_generator`: the model, CUDA or a CPU, every frame or
    keyframes), and its working size (`starting_size`): `working_size` when given, else the device's
    default on CUDA and on a CPU the largest that keeps the generator within its budget, painting at `stroke`."""
    timed = choose_generator(
        weights,
        device=device,
        style_size=style_size,
        on_build=on_build,
        model=model,
        working_size=working_size,
        min_fps=min_fps,
        budget_ms=budget_ms,
        stroke=stroke,
        keyframes=keyframes,
    )
    return LiveSetup(timed.stylizer, starting_size(timed, working_size, stroke, on_build), timed.keyframes)
