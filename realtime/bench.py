"""`realtime bench`: the eager fp32 generator next to the fast path, timed and compared in one run.

Per working size it reports ms per frame and fps of both paths, their ratio, and the largest and mean
absolute pixel difference (0–255) between their outputs on the same photo. Timing covers
`Stylizer.stylize_tensor` (a float frame already on the device in, the stylised frame out) after
warm-up; on CUDA it uses events around back-to-back frames, and the fast path's one-off compile/capture
is reported separately.

Runs as `realtime bench` or, where PyAV is missing (the CLI's video commands need it),
as `python -m realtime.bench` with the same options.
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

from .device import resolve_device
from .errors import RealtimeError
from .fast import COMPILE_MODES, DTYPES, FastSettings, resolve_settings
from .frames import frame_to_tensor, tensor_to_frame
from .images import sample_image
from .stylizer import Stylizer
from .weights import Weights, default_weights_path, load_weights, untrained_weights

CUDA_SIZES = (480, 720, 1080)
# The full generator takes seconds per frame on a CPU: small 16:9 frames keep the run short.
CPU_SIZES = (144, 240)
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
    settings: FastSettings
    frames: int
    warmup: int
    note: str = ""
    results: list[SizeResult] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "device": self.device,
            "torch": self.torch_version,
            "fast_settings": self.settings.as_dict(),
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


def bench_size(
    reference: Stylizer, fast: Stylizer, height: int, width: int, frames: int, warmup: int
) -> SizeResult:
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


def load_bench_weights(path: str | None) -> Weights:
    """The given weights, else the shipped ones, else the untrained full-size generator (same speed)."""
    path = path if path is not None else default_weights_path()
    return load_weights(path) if path is not None else untrained_weights()


def run_bench(
    device: str = "auto",
    sizes: Sequence[int] | None = None,
    frames: int | None = None,
    warmup: int | None = None,
    weights: str | None = None,
    settings: FastSettings | None = None,
    progress: Callable[[str], None] | None = None,
    profile: bool = False,
) -> BenchReport:
    """Benchmark the reference and the fast path at each height (16:9 frames); None picks per-device defaults."""
    torch_device = resolve_device(device)
    cuda = torch_device.type == "cuda"
    settings = settings or replace(resolve_settings(True, torch_device), dynamic=False)
    torch.compiler.reset()  # each run compiles afresh (and earlier runs don't use up dynamo's recompile limit)
    sizes = sizes or (CUDA_SIZES if cuda else CPU_SIZES)
    frames = frames or (50 if cuda else 3)
    warmup = warmup if warmup is not None else (10 if cuda else 1)
    note = "" if cuda else (
        "CPU: small sizes by default, no CUDA graphs and no torch.compile unless --compile is given;"
        " these timings say nothing about a GPU"
    )
    loaded = load_bench_weights(weights)
    reference = Stylizer(loaded, torch_device, optimize=False)
    fast = Stylizer(loaded, torch_device, optimize=settings, on_build=progress)
    style = loaded.bank.names()[0] if loaded.bank.names() else FALLBACK_STYLE
    reference.set_style([style])
    fast.target = reference.target
    effective = fast.fast.settings  # what actually runs: e.g. no CUDA graph on a CPU
    report = BenchReport(_device_name(torch_device), torch.__version__, effective, frames, warmup, note)
    for height in sizes:
        width = width_for(height)
        if progress:
            progress(f"benchmarking {width}×{height}…")
        report.results.append(bench_size(reference, fast, height, width, frames, warmup))
    if profile:
        height = max(sizes)
        report.profiles = {
            name: profile_table(stylizer, height, width_for(height))
            for name, stylizer in (("eager fp32", reference), (f"fast ({effective.describe()})", fast))
        }
    return report


def format_table(report: BenchReport) -> str:
    lines = [
        f"device: {report.device}, torch {report.torch_version}",
        f"fast path: {report.settings.describe()}; {report.frames} timed frames after {report.warmup} warm-up",
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


def _heights(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated frame heights like 480,720,1080, got '{text}'") from None
    if min(values) < 16:
        raise argparse.ArgumentTypeError(f"heights must be 16 or more, got '{text}'")
    return values


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
    """The bench's options, shared by `realtime bench` and `python -m realtime.bench`."""
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    parser.add_argument("--weights", help="weights file (default: the shipped weights, else the untrained generator)")
    parser.add_argument(
        "--sizes", type=_heights, help="16:9 frame heights (default 480,720,1080 on CUDA, 144,240 on CPU)"
    )
    parser.add_argument("--frames", type=_whole(1), help="timed frames per size and path (default 50 on CUDA, 3 on CPU)")
    parser.add_argument("--warmup", type=_whole(0), help="untimed frames first (default 10 on CUDA, 1 on CPU)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument(
        "--profile", action="store_true", help="also print where each path's time goes at the largest size (torch.profiler)"
    )
    tuning = parser.add_argument_group("fast-path settings (defaults: what the app uses on this device)")
    tuning.add_argument("--dtype", choices=tuple(DTYPES), help="compute precision (default fp16)")
    tuning.add_argument("--compile", choices=COMPILE_MODES, help="torch.compile mode (default: default on CUDA, none on CPU)")
    tuning.add_argument("--no-cuda-graph", action="store_true", help="launch kernels per frame instead of replaying a graph")
    tuning.add_argument("--no-channels-last", action="store_true", help="keep activations in NCHW")
    tuning.add_argument("--dynamic", action="store_true", help="compile with dynamic shapes (what the app switches to after a change of size)")


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
        args.device, args.sizes, args.frames, args.warmup, args.weights, settings_from(args, device), progress, args.profile
    )
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_table(report))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m realtime.bench`: the same command without importing the CLI package (and PyAV)."""
    parser = argparse.ArgumentParser(prog="python -m realtime.bench", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_command(args)
    except RealtimeError as exc:
        print(f"realtime: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
