"""`realtime bench`: the eager fp32 generator next to the fast path, timed and compared in one run.

The fast path is what the app runs on that device: PyTorch's fast path on CUDA (`realtime.runtimes.cuda`),
onnxruntime on a CPU (`realtime.runtimes.onnx`); `--runtime torch` times PyTorch's on a CPU too.

Per working size it reports ms per frame and fps of both paths, their ratio, and the largest and mean
absolute pixel difference (0–255) between their outputs on the same photo. Timing covers
`Stylizer.stylize_tensor` (a float frame already on the device in, the stylised frame out) after
warm-up; on CUDA it uses events around back-to-back frames, and the fast path's one-off compile/capture
is reported separately.

Runs as `realtime bench` or, where PyAV is missing (the CLI's video commands need it),
as `python -m realtime.runtimes.bench` with the same options.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import cv2
import numpy as np
import torch
from torch import Tensor

from realtime.device import resolve_device
from realtime.errors import RealtimeError
from realtime.imaging.frames import frame_to_tensor, tensor_to_frame
from realtime.imaging.images import sample_image
from realtime.model.msgnet import MODELS
from realtime.model.weights import (
    MODEL_CHOICES,
    Weights,
    load_weights,
    model_for,
    shipped_weights,
    untrained_weights,
)
from realtime.runtimes.cuda import COMPILE_MODES, DTYPES, FastSettings, resolve_settings
from realtime.runtimes.onnx import OnnxGenerator
from realtime.runtimes.stylizer import Stylizer

CUDA_SIZES = ((854, 480), (1280, 720), (1920, 1080))
# Webcam sizes: the light model's targets (issue 8) are set at 320×240 and 640×480.
CPU_SIZES = ((320, 240), (640, 480))
RUNTIMES = ("auto", "onnx", "torch")
PHOTO = "astronaut"
FALLBACK_STYLE = "sample:chelsea"
MAX_SIDE = 7680  # 8K: larger frames only exhaust memory, on any device this runs on


@dataclass
class SizeResult:
    width: int
    height: int
    eager_ms: float
    fast_ms: float
    build_s: float
    max_diff: int
    mean_diff: float

    @property
    def speedup(self) -> float:
        return self.eager_ms / self.fast_ms

    def as_dict(self) -> dict[str, object]:
        return {
            **asdict(self),
            "eager_fps": 1000.0 / self.eager_ms,
            "fast_fps": 1000.0 / self.fast_ms,
            "speedup": self.speedup,
        }


@dataclass
class BenchReport:
    device: str
    torch_version: str
    model: str
    fast_path: str
    settings: FastSettings | None
    frames: int
    warmup: int
    note: str = ""
    results: list[SizeResult] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "device": self.device,
            "torch": self.torch_version,
            "model": self.model,
            "fast_path": self.fast_path,
            "fast_settings": self.settings.as_dict() if self.settings else None,
            "frames": self.frames,
            "warmup": self.warmup,
            "note": self.note,
            "sizes": [r.as_dict() for r in self.results],
            "profiles": self.profiles,
        }


def width_for(height: int) -> int:
    """16:9 width for a height, as video sizes name it (480 → 854)."""
    return int(height * 16 / 9 + 0.5) // 2 * 2


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    return f"CPU ({torch.get_num_threads()} threads)"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_per_frame(run: Callable[[], Tensor], device: torch.device, frames: int, warmup: int) -> float:
    """Milliseconds per frame over `frames` back-to-back calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        run()
    _sync(device)
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(frames):
            run()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / frames
    began = time.perf_counter()
    for _ in range(frames):
        run()
    return (time.perf_counter() - began) * 1000.0 / frames


def _photo(height: int, width: int) -> np.ndarray:
    return cv2.resize(sample_image(PHOTO), (width, height), interpolation=cv2.INTER_AREA)


def bench_size(reference: Stylizer, fast: Stylizer, height: int, width: int, frames: int, warmup: int) -> SizeResult:
    """Time both paths at one size on the same photo and style, and compare their pixels."""
    content = frame_to_tensor(_photo(height, width), reference.device)
    build_s = fast.warm_up(height, width)
    eager_out = tensor_to_frame(reference.stylize_tensor(content)).astype(np.int16)
    fast_out = tensor_to_frame(fast.stylize_tensor(content)).astype(np.int16)
    diff = np.abs(eager_out - fast_out)
    eager_ms = time_per_frame(lambda: reference.stylize_tensor(content), reference.device, frames, warmup)
    fast_ms = time_per_frame(lambda: fast.stylize_tensor(content), fast.device, frames, warmup)
    return SizeResult(width, height, eager_ms, fast_ms, build_s, int(diff.max()), float(diff.mean()))


def profile_table(stylizer: Stylizer, height: int, width: int, frames: int = 5, rows: int = 25) -> str:
    """Where a path's time goes at one size: torch.profiler's operators and kernels, most device time first."""
    content = frame_to_tensor(_photo(height, width), stylizer.device)
    stylizer.warm_up(height, width)
    cuda = stylizer.device.type == "cuda"
    for _ in range(2):
        stylizer.stylize_tensor(content)
    activities = [torch.profiler.ProfilerActivity.CPU]
    if cuda:
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(frames):
            stylizer.stylize_tensor(content)
        _sync(stylizer.device)
    order = "self_device_time_total" if cuda else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=order, row_limit=rows)


def load_bench_weights(path: str | None, model: str, device: torch.device) -> Weights:
    """The given weights, else the shipped ones of `model`, else an untrained generator of its shape
    (the same speed)."""
    if path is not None:
        return load_weights(path)
    chosen = model_for(model, device)
    return shipped_weights(chosen) or untrained_weights(**MODELS[chosen])


def run_bench(
    device: str = "auto",
    sizes: Sequence[int] | None = None,
    frames: int | None = None,
    warmup: int | None = None,
    weights: str | None = None,
    settings: FastSettings | None = None,
    progress: Callable[[str], None] | None = None,
    profile: bool = False,
    model: str = "auto",
    runtime: str = "auto",
) -> BenchReport:
    """Benchmark the reference and the fast path at each (width, height); None picks per-device defaults.

    `runtime`: auto = the app's fast path on this device, onnx = onnxruntime (CPU only), torch =
    PyTorch's fast path with `settings`.
    """
    torch_device = resolve_device(device)
    cuda = torch_device.type == "cuda"
    if runtime not in RUNTIMES:
        raise RealtimeError(f"unknown runtime '{runtime}'; use {', '.join(RUNTIMES)}")
    if runtime == "onnx" and cuda:
        raise RealtimeError("the onnx runtime is the CPU path; use --device cpu or --runtime torch")
    onnx = runtime == "onnx" or (runtime == "auto" and not cuda)
    settings = None if onnx else settings or replace(resolve_settings(True, torch_device), dynamic=False)
    torch.compiler.reset()  # each run compiles afresh (and earlier runs don't use up dynamo's recompile limit)
    sizes = sizes or (CUDA_SIZES if cuda else CPU_SIZES)
    frames = frames or (50 if cuda else 10)
    warmup = warmup if warmup is not None else (10 if cuda else 2)
    note = "" if cuda else "CPU: these timings say nothing about a GPU"
    loaded = load_bench_weights(weights, model, torch_device)
    reference = Stylizer(loaded, torch_device, optimize=False)
    fast = Stylizer(loaded, torch_device, optimize=None if onnx else settings, on_build=progress)
    style = loaded.bank.names()[0] if loaded.bank.names() else FALLBACK_STYLE
    reference.set_style([style])
    fast.target = reference.target
    if onnx:
        fast_path = "onnxruntime fp32"
    else:
        settings = fast.fast.settings  # what actually runs: e.g. no CUDA graph on a CPU
        fast_path = f"PyTorch {settings.describe()}"
    shape = ", ".join(f"{k}={v}" for k, v in loaded.model.shape.items())
    report = BenchReport(
        _device_name(torch_device),
        torch.__version__,
        f"{loaded.source} ({shape})",
        fast_path,
        settings,
        frames,
        warmup,
        note,
    )
    for width, height in sizes:
        if progress:
            progress(f"benchmarking {width}×{height}…")
        report.results.append(bench_size(reference, fast, height, width, frames, warmup))
    if profile:
        width, height = max(sizes, key=lambda size: size[0] * size[1])
        report.profiles = {
            "eager fp32": profile_table(reference, height, width),
            f"fast ({fast_path})": (
                "onnxruntime runs outside PyTorch, where torch.profiler cannot see it; its time per frame is the table's"
                if isinstance(fast.fast, OnnxGenerator)
                else profile_table(fast, height, width)
            ),
        }
    return report


def format_table(report: BenchReport) -> str:
    lines = [
        f"device: {report.device}, torch {report.torch_version}",
        f"model: {report.model}",
        f"fast path: {report.fast_path}; {report.frames} timed frames after {report.warmup} warm-up",
        (
            f"{'size':>10} {'eager fp32 ms':>14} {'fps':>7} {'fast ms':>9} {'fps':>7} {'speedup':>8}"
            f" {'max|diff|':>9} {'mean|diff|':>10} {'build s':>8}"
        ),
    ]
    for r in report.results:
        lines.append(
            f"{r.width:>5}×{r.height:<4} {r.eager_ms:>14.2f} {1000 / r.eager_ms:>7.1f} {r.fast_ms:>9.2f}"
            f" {1000 / r.fast_ms:>7.1f} {r.speedup:>7.2f}x {r.max_diff:>9d} {r.mean_diff:>10.3f} {r.build_s:>8.1f}"
        )
    if report.note:
        lines.append(f"note: {report.note}")
    for name, table in report.profiles.items():
        lines += ["", f"profile of the {name} path at the largest size:", table]
    return "\n".join(lines)


def _sizes(text: str) -> tuple[tuple[int, int], ...]:
    """`720` is a 16:9 frame of that height, `640x480` a width and height."""
    try:
        sizes = tuple(
            tuple(int(side) for side in part.lower().split("x"))
            if "x" in part.lower()
            else (width_for(int(part)), int(part))
            for part in text.split(",")
        )
    except ValueError:
        sizes = ()
    if not sizes or any(len(size) != 2 for size in sizes):
        raise argparse.ArgumentTypeError(
            f"expected sizes like 480,720,1080 (16:9 heights) or 320x240,640x480, got '{text}'"
        )
    if min(min(size) for size in sizes) < 16:
        raise argparse.ArgumentTypeError(f"sides must be 16 or more, got '{text}'")
    if max(max(size) for size in sizes) > MAX_SIDE:
        raise argparse.ArgumentTypeError(f"sides must be {MAX_SIDE} or less (8K), got '{text}'")
    return sizes


def _whole(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {text}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench's options, shared by `realtime bench` and `python -m realtime.runtimes.bench`."""
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    parser.add_argument(
        "--weights", help="weights file (default: the shipped weights of --model, else an untrained one)"
    )
    parser.add_argument(
        "--model",
        choices=MODEL_CHOICES,
        default="auto",
        help="shipped generator (default auto: full on CUDA, light on a CPU)",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="auto",
        help="fast path to time: auto = the app's (onnx on a CPU, torch on CUDA), onnx = onnxruntime, torch = PyTorch",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        help="16:9 heights or WxH sizes, comma-separated (default 480,720,1080 on CUDA, 320x240,640x480 on CPU)",
    )
    parser.add_argument(
        "--frames", type=_whole(1), help="timed frames per size and path (default 50 on CUDA, 10 on CPU)"
    )
    parser.add_argument("--warmup", type=_whole(0), help="untimed frames first (default 10 on CUDA, 2 on CPU)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print where each path's time goes at the largest size (torch.profiler)",
    )
    tuning = parser.add_argument_group("fast-path settings (defaults: what the app uses on this device)")
    tuning.add_argument("--dtype", choices=tuple(DTYPES), help="compute precision (default fp16)")
    tuning.add_argument(
        "--compile", choices=COMPILE_MODES, help="torch.compile mode (default: default on CUDA, none on CPU)"
    )
    tuning.add_argument(
        "--no-cuda-graph", action="store_true", help="launch kernels per frame instead of replaying a graph"
    )
    tuning.add_argument("--no-channels-last", action="store_true", help="keep activations in NCHW")
    tuning.add_argument(
        "--dynamic",
        action="store_true",
        help="compile with dynamic shapes (what the app switches to after a change of size)",
    )


def settings_from(args: argparse.Namespace, device: torch.device) -> FastSettings:
    base = resolve_settings(True, device)
    return FastSettings(
        dtype=args.dtype or base.dtype,
        channels_last=base.channels_last and not args.no_channels_last,
        compile=args.compile or base.compile,
        cuda_graph=base.cuda_graph and not args.no_cuda_graph,
        dynamic=bool(args.dynamic),  # each size specialised, as for the app's first working size
    )


def run_command(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    progress = None if args.json else (lambda message: print(message, file=sys.stderr, flush=True))
    report = run_bench(
        args.device,
        args.sizes,
        args.frames,
        args.warmup,
        args.weights,
        settings_from(args, device),
        progress,
        args.profile,
        args.model,
        args.runtime,
    )
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_table(report))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m realtime.runtimes.bench`: the same command without importing the CLI package (and PyAV)."""
    parser = argparse.ArgumentParser(prog="python -m realtime.runtimes.bench", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_command(args)
    except RealtimeError as exc:
        print(f"realtime: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
