"""The generator runtimes' choices and the bench's sizes: torch-free, so the command line can offer them."""

from __future__ import annotations

# Precisions the fast path computes in, by the name options use → the torch dtype's name.
DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}
# "reduce-overhead" and "max-autotune" capture CUDA graphs themselves (cudagraph trees); the others
# leave that to `FastSettings.cuda_graph`.
COMPILE_MODES = ("none", "default", "max-autotune-no-cudagraphs", "reduce-overhead", "max-autotune")
# Strength: 0 = the photo, 1 = the style as trained, up to 2 = bolder than the painting (see `Stylizer`).
MAX_STRENGTH = 2.0
# Stroke size (see `realtime.runtimes.strokes`): 1 paints a picture's strokes as large, relative to it, as on a
# picture of STROKE_REFERENCE px (the style images' scale); 2 twice as large; 0 paints at the picture's own
# size, the finest strokes the generator makes.
STROKE_REFERENCE = 512
DEFAULT_STROKE = 1.0
MAX_STROKE = 4.0
# What runs the generator on a CPU: auto = OpenVINO where installed and willing, else onnxruntime.
CPU_RUNTIMES = ("auto", "openvino", "onnxruntime")
# Which fast path the bench times: the app's for the device, a CPU runtime, or PyTorch's.
RUNTIMES = ("auto", "openvino", "onnxruntime", "torch")

# The bench's default sizes: common video heights on CUDA; on a CPU, the webcam sizes the light model is for.
CUDA_SIZES = ((854, 480), (1280, 720), (1920, 1080))
CPU_SIZES = ((320, 240), (640, 480))


def width_for(height: int) -> int:
    """16:9 width for a height, as video sizes name it (480 → 854)."""
    return int(height * 16 / 9 + 0.5) // 2 * 2
