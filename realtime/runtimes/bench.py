"""`realtime bench`: the eager fp32 generator next to the fast path, timed and compared in one run.

The fast path is what the app runs on that device: PyTorch's fast path on CUDA (`realtime.runtimes.cuda`),
a CPU runtime on a CPU (`realtime.runtimes.cpu`: OpenVINO, else onnxruntime); `--runtime` picks another.

Per working size it reports ms per frame and fps of both paths, their ratio, and the largest and mean
absolute pixel difference (0–255) between their outputs on the same photo. Timing covers what the app
does per frame after warm-up: on a CPU a uint8 frame in and out (`Stylizer.__call__`), on CUDA a float
frame already on the device (`Stylizer.stylize_tensor`), with events around back-to-back frames; the
fast path's one-off export, compile or capture is reported separately.
"""

from __future__ import annotations

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
from realtime.model.shapes import MODELS
from realtime.model.weights import Weights, load_weights, model_for, shipped_weights, untrained_weights
from realtime.runtimes.cpu import CpuGenerator
from realtime.runtimes.cuda import FastSettings, resolve_settings
from realtime.runtimes.settings import CPU_RUNTIMES, CPU_SIZES, CUDA_SIZES, RUNTIMES
from realtime.runtimes.stylizer import Stylizer

PHOTO = "astronaut"
FALLBACK_STYLE = "sample:chelsea"


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


def _per_frame(stylizer: Stylizer, photo: np.ndarray) -> Callable[[], Tensor | np.ndarray]:
    """One frame of the app's work: bytes in and out on a CPU, a float frame on the device on CUDA."""
    if stylizer.device.type == "cpu":
        return lambda: stylizer(photo)
    content = frame_to_tensor(photo, stylizer.device)
    return lambda: stylizer.stylize_tensor(content)


def _as_frame(out: Tensor | np.ndarray) -> np.ndarray:
    return (out if isinstance(out, np.ndarray) else tensor_to_frame(out)).astype(np.int16)


def bench_size(reference: Stylizer, fast: Stylizer, height: int, width: int, frames: int, warmup: int) -> SizeResult:
    """Time both paths at one size on the same photo and style, and compare their pixels."""
    photo = _photo(height, width)
    build_s = fast.warm_up(height, width, stroke=0.0)
    eager, quick = _per_frame(reference, photo), _per_frame(fast, photo)
    diff = np.abs(_as_frame(eager()) - _as_frame(quick()))
    eager_ms = time_per_frame(eager, reference.device, frames, warmup)
    fast_ms = time_per_frame(quick, fast.device, frames, warmup)
    return SizeResult(width, height, eager_ms, fast_ms, build_s, int(diff.max()), float(diff.mean()))


def profile_table(stylizer: Stylizer, height: int, width: int, frames: int = 5, rows: int = 25) -> str:
    """Where a path's time goes at one size: torch.profiler's operators and kernels, most device time first."""
    content = frame_to_tensor(_photo(height, width), stylizer.device)
    stylizer.warm_up(height, width, stroke=0.0)
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
    sizes: Sequence[tuple[int, int]] | None = None,
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

    `runtime`: auto = the app's fast path on this device, openvino or onnxruntime = that CPU runtime (CPU
    only), torch = PyTorch's fast path with `settings`.
    """
    torch_device = resolve_device(device)
    cuda = torch_device.type == "cuda"
    if runtime not in RUNTIMES:
        raise RealtimeError(f"unknown runtime '{runtime}'; use {', '.join(RUNTIMES)}")
    if runtime in CPU_RUNTIMES and runtime != "auto" and cuda:
        raise RealtimeError(f"{runtime} is a CPU runtime; use --device cpu or --runtime torch")
    on_cpu_runtime = runtime in CPU_RUNTIMES or (runtime == "auto" and not cuda)
    settings = None if on_cpu_runtime else settings or replace(resolve_settings(True, torch_device), dynamic=False)
    torch.compiler.reset()  # each run compiles afresh (and earlier runs don't use up dynamo's recompile limit)
    sizes = sizes or (CUDA_SIZES if cuda else CPU_SIZES)
    frames = frames or (50 if cuda else 10)
    warmup = warmup if warmup is not None else (10 if cuda else 2)
    note = "" if cuda else "CPU: these timings say nothing about a GPU"
    loaded = load_bench_weights(weights, model, torch_device)
    reference = Stylizer(loaded, torch_device, optimize=False)
    fast = Stylizer(
        loaded,
        torch_device,
        optimize=None if on_cpu_runtime else settings,
        on_build=progress,
        cpu_runtime=runtime if runtime in CPU_RUNTIMES else "auto",
    )
    # One generator pass at each size: a large frame's second, stroke-size pass is a picture setting
    # (benchmarks/bench_strokes.py), not the generator's speed.
    style = loaded.bank.names()[0] if loaded.bank.names() else FALLBACK_STYLE
    for stylizer in (reference, fast):
        stylizer.set_style([style], stroke=0.0)
    if not on_cpu_runtime:
        settings = fast.fast.settings  # what actually runs: e.g. no CUDA graph on a CPU
    fast_path = fast.runtime
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
                f"{fast.runtime} runs outside PyTorch, where torch.profiler cannot see it; its time per frame is the table's"
                if isinstance(fast.fast, CpuGenerator)
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
