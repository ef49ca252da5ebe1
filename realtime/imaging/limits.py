"""The largest pictures the app takes: past them, decoding or painting alone would exhaust a machine's memory.

Every reader (stills, video files, live sources, batch, uploads) refuses a picture over `MAX_FRAME_PIXELS`
from its header, before decoding it. Below that, the generator never works on a long side over
`MAX_WORKING_SIDE`: an 8K frame through the full model already takes gigabytes.
"""

from __future__ import annotations

from realtime.errors import RealtimeError

MAX_FRAME_PIXELS = 100_000_000  # past any camera's photo and 8K video (33 MP)
MAX_WORKING_SIDE = 7680  # 8K


def check_frame_size(height: int, width: int, name: str) -> None:
    """Refuse a picture of more than `MAX_FRAME_PIXELS`, in one line that says how large it is."""
    if height * width > MAX_FRAME_PIXELS:
        raise RealtimeError(
            f"{name} is {width}×{height} ({height * width / 1e6:.0f} MP); "
            f"the most this app takes is {MAX_FRAME_PIXELS / 1e6:.0f} MP"
        )


def working_side(size: int) -> int:
    """The long side the generator works at for a requested `size` (0 = the input's own, up to 8K)."""
    return MAX_WORKING_SIDE if size <= 0 else min(size, MAX_WORKING_SIDE)
