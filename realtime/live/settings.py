"""The live app's settings and defaults, free of heavy imports so `realtime --help` can show them quickly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The working size is the long side of the frame the generator sees: on CUDA the display's (a sharp
# picture); a CPU needs a small one to stay interactive (benchmarks/bench_cpu.py).
DEFAULT_WORKING_SIZE = {"cuda": 1280, "cpu": 320}
DISPLAY_MAX_SIDE = 1280
MORPH_SECONDS = 1.0
DEMO_SECONDS = 8.0


def default_working_size(device_type: str) -> int:
    """The default working size on a device of this type ("cuda", "cpu", …)."""
    return DEFAULT_WORKING_SIZE["cuda" if device_type == "cuda" else "cpu"]


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
