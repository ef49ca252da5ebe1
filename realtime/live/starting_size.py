"""The working size a live session starts at on a CPU: grown from the chosen generator's timed frame while a
frame stays within its budget.

The picture's style ratio falls as the working size grows, and a fast CPU has time to spare at 320; one
timed frame is enough, since a frame's cost grows with the pixels painted (a larger picture's stroke pass
included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from realtime.live.settings import MAX_CPU_WORKING_SIZE, SIZE_STEPS, WEBCAM_ASPECT
from realtime.runtimes.settings import DEFAULT_STROKE
from realtime.runtimes.strokes import paint_size

if TYPE_CHECKING:
    from realtime.live.model_choice import Timed


def _pixels(working_size: int, stroke: float) -> int:
    """Pixels the generator paints for a webcam frame at `working_size`, the stroke pass's included."""
    height = round(working_size / WEBCAM_ASPECT)
    paint = paint_size(height, working_size, stroke)
    return height * working_size + (paint[0] * paint[1] if paint else 0)


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


def starting_size(
    timed: Timed,
    working_size: int | None = None,
    stroke: float = DEFAULT_STROKE,
    on_build: Callable[[str], None] | None = None,
) -> int:
    """`working_size` when given, else the largest that keeps `timed`'s generator within its budget; one note
    through `on_build` says what was chosen where a model was chosen or the size moved."""
    note = on_build or (lambda message: None)
    if timed.ms is None:
        return timed.size
    if timed.keyframes:
        painted = working_size or largest_size_within(timed.budget_ms, timed.size, timed.ms, stroke)
        note(
            f"{timed.why or 'the generator'} takes {timed.ms:.0f} ms a frame at working size {timed.size} on this "
            f"CPU: it paints keyframes at working size {painted} beside the loop, and every frame shows the newest "
            "carried along the motion (--keyframes off waits for each frame)"
        )
        return painted
    if working_size is not None:
        if timed.why:
            note(f"{timed.why}, at working size {working_size}")
        return working_size
    size, ms = timed.size, timed.ms
    chosen = largest_size_within(timed.budget_ms, size, ms, stroke, timed.lowest)
    if timed.why or chosen != size:
        grown = (
            "leaves this CPU time for a sharper picture"
            if chosen > size
            else "is too slow to be live"
            if chosen < size or ms > timed.budget_ms
            else "fits the frame budget"
        )
        where = f"working size {chosen}: {ms:.0f} ms a frame at {size} {grown} (--size sets it)"
        note(f"{timed.why}, at {where}" if timed.why else where)
    return chosen
