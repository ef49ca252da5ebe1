"""The live app's settings and defaults, free of heavy imports so `realtime --help` can show them quickly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from realtime.model.shapes import MODELS

# The working size is the long side of the frame the generator sees: on CUDA the display's (a sharp
# picture); a CPU needs a small one to stay interactive: the light model's, or, where the CPU runs the full
# model live, a size whose picture holds the still's looks at ~15 fps (benchmarks/bench_live_quality.py and
# bench_live.py). A CPU with time to spare grows them (`realtime.live.cpu_budget`).
DEFAULT_WORKING_SIZE = {"cuda": 1280, "cpu": 320, "cpu-full": 448}
# Where a CPU's working size stops growing (`realtime.live.cpu_budget`): a webcam's own width, beyond which it
# only enlarges the camera's picture.
MAX_CPU_WORKING_SIZE = 640
DISPLAY_MAX_SIDE = 1280
# How a CPU's working-size picture is enlarged to the display: interpolated, or along the photo's edges.
UPSAMPLERS = ("bicubic", "guided")
DEFAULT_UPSAMPLE = "bicubic"
# Weight of the previous frame, carried along the motion, where the motion is trusted (0 = off).
DEFAULT_STABILIZE = 0.6
# --keyframes: "auto" paints keyframes on a CPU whose generator is too slow for every frame but not for
# a few a second (`realtime.live.cpu_budget`).
KEYFRAME_CHOICES = ("auto", "on", "off")
# Offline (the demo video), a keyframe every this many frames: at 30 fps the rate of a CPU whose keyframe takes
# the 400 ms that `--keyframes auto` allows, so the video shows what such a CPU's window shows.
OFFLINE_KEYFRAME_EVERY = 12
MORPH_SECONDS = 1.0
DEMO_SECONDS = 8.0


def default_working_size(device_type: str, model_shape: dict[str, int] | None = None) -> int:
    """The default working size on a device of this type ("cuda", "cpu", …) for a generator of `model_shape`:
    on a CPU, the full model's own, the one of the light and fast models for any other shape (None too)."""
    if device_type == "cuda":
        return DEFAULT_WORKING_SIZE["cuda"]
    return DEFAULT_WORKING_SIZE["cpu-full" if model_shape == MODELS["full"] else "cpu"]


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
    keyframes: bool = False  # a CPU generator paints beside the loop; frames between carry its picture
