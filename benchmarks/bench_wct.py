"""WCT still speed: the reference pipeline next to the app's, on one photo at one size, and where the time goes.

Contenders, in one run and alternating rounds (a busy machine slows all of them alike; medians reported):
  fp32, full size    Li et al.'s pipeline as published: every level on the whole picture, float32 (the reference)
  fp32, coarse       the deep levels (relu4_3, relu3_3) at --coarse-size, the shallow ones at full size
  bf16, full size    bfloat16 convolutions (where the processor has them natively), every level at full size
  bf16, coarse       the app's default
Pixel differences are to the reference, and between bf16 and fp32 at the same working sizes (what bf16 alone
changes). The painting's statistics are computed once per painting, before the rounds, and timed apart, as is
start-up (loading the decoders and the VGG). The breakdown of the app's path comes from torch.profiler's record
of the pipeline's named parts (encode, transform with its eigendecompositions, decode).

    python benchmarks/bench_wct.py --vgg VGG_PATH --style docs/example-painting.jpg
    python benchmarks/bench_wct.py --vgg VGG_PATH --photo sample:astronaut --size 1024 --rounds 3 --device cuda
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from realtime.device import resolve_device
from realtime.errors import RealtimeError
from realtime.imaging.frames import resize_frame
from realtime.imaging.images import read_image
from realtime.wct.reconstruction import psnr
from realtime.wct.settings import DEFAULT_COARSE_SIZE, DEFAULT_DECODERS
from realtime.wct.stylize import WCT

PARTS = ("wct.encode", "wct.transform", "wct.eigh", "wct.decode")


def photo_at(source: str, size: int) -> np.ndarray:
    """The photo with its long side at `size` (enlarged if smaller: the timing depends on the pixel count only)."""
    frame = read_image(source)
    scale = size / max(frame.shape[:2])
    return resize_frame(frame, (round(frame.shape[0] * scale), round(frame.shape[1] * scale)))


def difference(a: np.ndarray, b: np.ndarray) -> str:
    as_tensor = lambda f: torch.from_numpy(f).permute(2, 0, 1)[None].float()  # noqa: E731
    mean = np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()
    return f"{mean:.2f} / {float(psnr(as_tensor(a), as_tensor(b))[0]):.1f} dB"


def breakdown(wct: WCT, photo: np.ndarray) -> dict[str, float]:
    """Seconds inside each named part of one render (CPU time as the profiler records it), and the total."""
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if wct.device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        start = time.perf_counter()
        wct(photo)
        total = time.perf_counter() - start
    seconds = {part: 0.0 for part in PARTS}
    for event in prof.key_averages():
        if event.key in seconds:
            seconds[event.key] = event.cpu_time_total / 1e6
    return {**seconds, "total": total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo", default="sample:astronaut", help="photo (default sample:astronaut)")
    parser.add_argument("--style", default="sample:coffee", help="painting (default sample:coffee)")
    parser.add_argument("--size", type=int, default=1024, help="the photo's long side (default 1024)")
    parser.add_argument("--coarse-size", type=int, default=DEFAULT_COARSE_SIZE, help="the app's coarse size")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per contender (default 3)")
    parser.add_argument("--decoders", default=DEFAULT_DECODERS, help=f"decoders file (default {DEFAULT_DECODERS})")
    parser.add_argument("--vgg", help="VGG16 features state dict (default: torchvision's)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    try:
        device = resolve_device(args.device)
        start = time.perf_counter()
        wct = WCT.load(args.decoders, args.vgg, str(device))
        startup = time.perf_counter() - start
        photo = photo_at(args.photo, args.size)
        start = time.perf_counter()
        wct.set_style([args.style])
        painting = time.perf_counter() - start
    except RealtimeError as exc:
        print(f"bench_wct: error: {exc}", file=sys.stderr)
        return 2

    contenders = {
        "fp32, full size (reference)": {"precision": "fp32", "coarse_size": 0},
        f"fp32, coarse {args.coarse_size}": {"precision": "fp32", "coarse_size": args.coarse_size},
        "bf16, full size": {"precision": "bf16", "coarse_size": 0},
        f"bf16, coarse {args.coarse_size} (the app's)": {"precision": "bf16", "coarse_size": args.coarse_size},
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    outputs: dict[str, np.ndarray] = {}
    for round_ in range(args.rounds + 1):  # round 0 warms up (oneDNN primitives, allocations)
        for name, settings in contenders.items():
            wct.configure(**settings)
            start = time.perf_counter()
            outputs[name] = wct(photo)
            if round_:
                times[name].append(time.perf_counter() - start)
    parts = breakdown(wct, photo)  # the app's path: the last contender

    names = list(contenders)
    h, w = photo.shape[:2]
    print(
        f"\nWCT still {w}×{h}, painting {args.style}, {args.rounds} rounds; {platform.processor() or platform.machine()}, "
        f"{device.type}, {torch.get_num_threads()} threads; start-up {startup:.1f} s, painting statistics {painting:.2f} s\n"
    )
    print("| contender | median s | min s | mean abs diff / PSNR to the reference | bf16 next to fp32, same sizes |")
    print("|---|---|---|---|---|")
    for name in names:
        same_sizes = names[names.index(name) - 2] if name.startswith("bf16") else None
        print(
            f"| {name} | {statistics.median(times[name]):.2f} | {min(times[name]):.2f} | "
            f"{difference(outputs[name], outputs[names[0]])} | "
            f"{difference(outputs[name], outputs[same_sizes]) if same_sizes else '–'} |"
        )
    print(f"\nThe app's path, one render of {parts['total']:.2f} s, by part (profiler CPU time):\n")
    print("| part | seconds |\n|---|---|")
    for part in PARTS:
        print(f"| {part.removeprefix('wct.')} | {parts[part]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
