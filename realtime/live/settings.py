"""The live app's settings and defaults, free of heavy imports so `realtime --help` can show them quickly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from realtime.model.shapes import MODELS
from realtime.runtimes.settings import DEFAULT_STROKE
from realtime.video.settings import STABILIZE_STRENGTH

# The working size is the long side of the frame the generator sees: on CUDA the display's (a sharp
# picture); a CPU needs a small one to stay interactive: the light model's, or, where the CPU runs the full
# model live, a size whose picture holds the still's looks at ~15 fps (benchmarks/bench_live_quality.py and
# bench_live.py). A CPU with time to spare grows them (`realtime.live.model_choice`).
DEFAULT_WORKING_SIZE = {"cuda": 1280, "cpu": 320, "cpu-full": 448}
# Where a CPU's working size stops growing (`realtime.live.model_choice`): a webcam's own width, beyond which it
# only enlarges the camera's picture.
MAX_CPU_WORKING_SIZE = 640
# The working sizes `[` and `]` step through; the display's long side is always the last one.
SIZE_STEPS = (128, 160, 192, 256, 320, 384, 448, 512, 640, 768, 960, 1280, 1600, 1920)
DISPLAY_MAX_SIDE = 1280
# How a CPU's working-size picture is enlarged to the display: interpolated, or along the photo's edges.
UPSAMPLERS = ("bicubic", "guided")
DEFAULT_UPSAMPLE = "bicubic"
# --keyframes: "auto" paints keyframes on a CPU whose generator is too slow for every frame but not for
# a few a second (`realtime.live.model_choice`).
KEYFRAME_CHOICES = ("auto", "on", "off")
# Offline (the demo video), a keyframe every this many frames: at 30 fps the rate of a CPU whose keyframe takes
# the longest that `--keyframes auto` allows (KEYFRAME_MAX_MS), so the video shows what such a CPU's window shows.
OFFLINE_KEYFRAME_EVERY = 12
MORPH_SECONDS = 1.0  # a style blends into the next over this long (the live window's b, and serve's pages)
# The generator's share of a 15 fps frame on a CPU: the loop's capture, stabilisation and display take the rest
# (benchmarks/bench_live.py).
FRAME_BUDGET_MS = 50.0
# Slower than this a frame (timed alone), keyframes come too rarely: beside the loop a keyframe takes about
# twice as long, and the carried picture then loses the scene of a hand-held camera (docs/benchmarks.md).
KEYFRAME_MAX_MS = 400.0
WEBCAM_ASPECT = 4 / 3  # the frame shape a CPU's working size is timed and grown at: a webcam's
MIN_LIVE_FPS = 12.0  # the full model's generator rate below which a smaller model's fluid picture wins
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
    stabilize: float = STABILIZE_STRENGTH
    keyframes: bool = False  # a CPU generator paints beside the loop; frames between carry its picture
    strength: float = 1.0  # the look the session starts with (`realtime.runtimes.look`)
    stroke: float = DEFAULT_STROKE
    preserve_color: bool = False
    palette: bool = True
