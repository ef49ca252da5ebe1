"""The working size: the long side of the frame the generator sees, which `[` and `]` change live.

The display size stays put while it changes, so the window never jumps; it never goes above the
display's long side, and drops a step when the GPU runs out of memory.
"""

from __future__ import annotations

from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_size
from realtime.live.messages import Messages
from realtime.live.settings import SIZE_STEPS


class WorkingSize:
    """The working size chosen (`chosen`) and the one in effect (`current`: capped by the display)."""

    def __init__(self, chosen: int, messages: Messages) -> None:
        self.chosen = chosen
        self.messages = messages
        self.display_side = SIZE_STEPS[-1]  # the display's long side, set once frames arrive

    @property
    def current(self) -> int:
        return min(self.chosen, self.display_side)

    def step(self, direction: int, frame_shape: tuple[int, ...] | None = None) -> None:
        """One step up (+1) or down (-1); with a frame's shape, the message gives the resulting frame size."""
        limit = self.display_side
        sizes = sorted({size for size in SIZE_STEPS if size < limit} | {limit})
        current = self.current
        candidates = [s for s in sizes if s > current] if direction > 0 else [s for s in sizes if s < current]
        if not candidates:
            self.messages.post(
                "already at the display size" if direction > 0 else "already at the smallest working size"
            )
            return
        self.chosen = candidates[0] if direction > 0 else candidates[-1]
        if frame_shape is not None:
            h, w = fit_size(frame_shape[0], frame_shape[1], self.current)
            self.messages.post(f"working size {w}x{h}")

    def shrink(self) -> None:
        """A step down after running out of GPU memory; raises `RealtimeError` when there is none smaller."""
        current = self.current
        smaller = [size for size in SIZE_STEPS if size < current]
        if not smaller:
            raise RealtimeError(f"out of GPU memory even at working size {current}; close other programs using the GPU")
        self.chosen = smaller[-1]
        self.messages.post(f"out of GPU memory at working size {current}: now {smaller[-1]}")
