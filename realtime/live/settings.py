"""The live app's settings and defaults, free of heavy imports so `realtime --help` can show them quickly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The working size is the long side of the frame the generator sees: on CUDA the display's (a sharp
# picture); a CPU needs a small one to stay interactive, and one with AMX runs the full model at a size
# whose picture holds the still's looks at ~15 fps (benchmarks/bench_live_quality.py and bench_live.py).
DEFAULT_WORKING_SIZE = {"cuda": 1280, "cpu": 320, "amx": 448}
DISPLAY_MAX_SIDE = 1280
# How a CPU's working-size picture is enlarged to the display: interpolated, or along the photo's edges.
UPSAMPLERS = ("bicubic", "guided")
DEFAULT_UPSAMPLE = "bicubic"
# Weight of the previous frame, carried along the motion, where the motion is trusted (0 = off).
DEFAULT_STABILIZE = 0.6
MORPH_SECONDS = 1.0
DEMO_SECONDS = 8.0


def default_working_size(device_type: str, amx: bool = False) -> int:
    """The default working size on a device of this type ("cuda", "cpu", …); `amx`: the CPU has Intel AMX."""
    if device_type == "cuda":
        return DEFAULT_WORKING_SIZE["cuda"]
    return DEFAULT_WORKING_SIZE["amx" if amx else "cpu"]


@dataclass
class LiveOptions:
    """How a live session starts. `realtime=False` runs it offline: lossless, on the stream's own timeline."""

    working_size: int = DEFAULT_WORKING_SIZE["cpu"]
    mirror: bool = False
    compare: bool = False
    record: Path | None = None
    max_frames: int = 0
    realtime: bool = True
    output_dir: Path = Path(".")
    morph_seconds: float = MORPH_SECONDS
    display_max_side: int = DISPLAY_MAX_SIDE
    upsample: str = DEFAULT_UPSAMPLE
    stabilize: float = DEFAULT_STABILIZE
