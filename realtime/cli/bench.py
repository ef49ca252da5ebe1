"""`realtime bench`: the eager fp32 generator and the fast path, timed and compared on this machine."""

from __future__ import annotations

import argparse
import json
import sys

from realtime.cli.options import add_device_option, non_negative_int, positive_int
from realtime.imaging.limits import MAX_WORKING_SIDE
from realtime.model.shapes import MODEL_CHOICES
from realtime.runtimes.settings import COMPILE_MODES, CPU_SIZES, CUDA_SIZES, DTYPES, RUNTIMES, width_for


def _size_list(sizes: tuple[tuple[int, int], ...], heights: bool) -> str:
    return ",".join(str(height) if heights else f"{width}x{height}" for width, height in sizes)


def sizes(text: str) -> tuple[tuple[int, int], ...]:
    """An argparse type: `720` is a 16:9 frame of that height, `640x480` a width and height."""
    try:
        parsed = tuple(
            tuple(int(side) for side in part.lower().split("x"))
            if "x" in part.lower()
            else (width_for(int(part)), int(part))
            for part in text.split(",")
        )
    except ValueError:
        parsed = ()
    if not parsed or any(len(size) != 2 for size in parsed):
        raise argparse.ArgumentTypeError(
            f"expected sizes like {_size_list(CUDA_SIZES, True)} (16:9 heights) or {_size_list(CPU_SIZES, False)}, "
            f"got '{text}'"
        )
    if min(min(size) for size in parsed) < 16:
        raise argparse.ArgumentTypeError(f"sides must be 16 or more, got '{text}'")
    if max(max(size) for size in parsed) > MAX_WORKING_SIDE:
        raise argparse.ArgumentTypeError(f"sides must be {MAX_WORKING_SIDE} or less (8K), got '{text}'")
    return parsed


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "bench",
        help="time the generator: eager fp32 next to the fast path, with their pixel difference",
        description="Per 16:9 size: ms per frame and fps of the eager fp32 reference and the fast path, "
        "their ratio, and the max and mean absolute pixel difference (0–255) between their outputs.",
    )
    add_device_option(parser)
    parser.add_argument(
        "--weights", help="weights file (default: the shipped weights of --model, else an untrained one)"
    )
    parser.add_argument(
        "--model",
        choices=MODEL_CHOICES,
        default="auto",
        help="shipped generator (default auto: full on CUDA and on CPUs with AMX, else light)",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="auto",
        help="fast path to time: auto = the app's (a CPU runtime on a CPU, torch on CUDA), openvino or onnxruntime = "
        "that CPU runtime, torch = PyTorch's fast path",
    )
    parser.add_argument(
        "--sizes",
        type=sizes,
        help=f"16:9 heights or WxH sizes, comma-separated (default {_size_list(CUDA_SIZES, True)} on CUDA, "
        f"{_size_list(CPU_SIZES, False)} on CPU)",
    )
    parser.add_argument(
        "--frames", type=positive_int, help="timed frames per size and path (default 50 on CUDA, 10 on CPU)"
    )
    parser.add_argument("--warmup", type=non_negative_int, help="untimed frames first (default 10 on CUDA, 2 on CPU)")
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
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from realtime.device import resolve_device
    from realtime.runtimes.bench import format_table, run_bench
    from realtime.runtimes.cuda import FastSettings, resolve_settings

    base = resolve_settings(True, resolve_device(args.device))
    settings = FastSettings(
        dtype=args.dtype or base.dtype,
        channels_last=base.channels_last and not args.no_channels_last,
        compile=args.compile or base.compile,
        cuda_graph=base.cuda_graph and not args.no_cuda_graph,
        dynamic=bool(args.dynamic),  # each size specialised, as for the app's first working size
    )
    progress = None if args.json else (lambda message: print(message, file=sys.stderr, flush=True))
    report = run_bench(
        args.device,
        args.sizes,
        args.frames,
        args.warmup,
        args.weights,
        settings,
        progress,
        args.profile,
        args.model,
        args.runtime,
    )
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_table(report))
    return 0
