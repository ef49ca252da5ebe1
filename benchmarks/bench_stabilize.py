"""Does `--stabilize` cut flicker? Warping error on a clip whose motion is known exactly.

A photo is panned by a fixed sub-pixel step per frame (plus a little sensor noise, which is what makes
per-frame stylisation flicker on real footage), every frame is stylised independently, and the
outputs are then stabilised at several strengths. Warping error is mean |out(t) − warp(out(t−1))|
over pixels visible in both frames, with warp the *true* pan, so the metric does not trust the
optical flow it evaluates. "change vs per-frame" is mean |stabilised − per-frame output|: the price
paid (smear, lag) for the stability.

    python benchmarks/bench_stabilize.py                       # untrained full-width generator
    python benchmarks/bench_stabilize.py --weights W.safetensors --style candy
    python benchmarks/bench_stabilize.py --ngf 32              # faster, clearly a smaller model
"""

from __future__ import annotations

import argparse
import math
import time
from itertools import pairwise

import cv2
import numpy as np

from realtime.device import resolve_device
from realtime.imaging.images import read_image
from realtime.model.weights import load_weights, untrained_weights
from realtime.runtimes.stylizer import Stylizer
from realtime.video.stabilize import TemporalStabilizer


def panned_clip(source: str, width: int, frames: int, step: float, noise: float, seed: int = 0) -> list[np.ndarray]:
    """`frames` windows of a photo sliding left by `step` pixels each, with Gaussian noise."""
    image = read_image(source)
    height = round(width * 9 / 16)
    span = width + math.ceil(step * frames) + 2
    scale = max(span / image.shape[1], height / image.shape[0])
    image = cv2.resize(
        image, (math.ceil(image.shape[1] * scale), math.ceil(image.shape[0] * scale)), interpolation=cv2.INTER_AREA
    )
    rng = np.random.default_rng(seed)
    clip = []
    for t in range(frames):
        shift = np.float32([[1, 0, -step * t], [0, 1, 0]])
        window = cv2.warpAffine(image, shift, (width, height), flags=cv2.INTER_LINEAR)
        clip.append(np.clip(window + rng.normal(0, noise, window.shape), 0, 255).astype(np.uint8))
    return clip


def warping_error(outputs: list[np.ndarray], step: float) -> float:
    """Mean |out(t) − out(t−1) moved by the true pan| over pixels visible in both frames."""
    margin = math.ceil(step) + 1
    shift = np.float32([[1, 0, -step], [0, 1, 0]])
    errors = []
    for prev, cur in pairwise(outputs):
        moved = cv2.warpAffine(prev.astype(np.float32), shift, (prev.shape[1], prev.shape[0]), flags=cv2.INTER_LINEAR)
        errors.append(np.abs(cur.astype(np.float32) - moved)[:, :-margin].mean())
    return float(np.mean(errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="trained weights file (default: an untrained generator of width --ngf)")
    parser.add_argument(
        "--ngf", type=int, default=128, help="width of the untrained generator (default 128, the full model)"
    )
    parser.add_argument(
        "--style", default="sample:chelsea", help="built-in style name or style image (default sample:chelsea)"
    )
    parser.add_argument("--image", default="sample:astronaut", help="photo to pan (default sample:astronaut)")
    parser.add_argument("--width", type=int, default=320, help="frame width (16:9), default 320")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--step", type=float, default=1.5, help="pan in pixels per frame (default 1.5)")
    parser.add_argument("--noise", type=float, default=3.0, help="per-frame sensor noise, grey levels (default 3)")
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.3, 0.5, 0.6, 0.8])
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    weights = load_weights(args.weights) if args.weights else untrained_weights(ngf=args.ngf)
    model_label = args.weights or f"untrained MSG-Net ngf={args.ngf} (random weights)"
    stylizer = Stylizer(weights, resolve_device(args.device))
    stylizer.set_style([args.style])
    clip = panned_clip(args.image, args.width, args.frames, args.step, args.noise)
    began = time.perf_counter()
    plain = [stylizer(frame) for frame in clip]
    generator_ms = (time.perf_counter() - began) / len(clip) * 1000

    base = warping_error(plain, args.step)
    print(f"model: {model_label}; device {stylizer.device}; style {args.style}")
    print(
        f"clip: {args.image} panned {args.step} px/frame, {args.frames} frames of "
        f"{clip[0].shape[1]}×{clip[0].shape[0]}, noise σ={args.noise}; generator {generator_ms:.0f} ms/frame"
    )
    print()
    print("| --stabilize | warping error | vs per-frame | change vs per-frame | stabilise ms/frame |")
    print("|---|---|---|---|---|")
    print(f"| off (per-frame) | {base:.2f} | 1.00× | 0.00 | 0 |")
    for strength in args.strengths:
        stabilizer = TemporalStabilizer(strength)
        began = time.perf_counter()
        steady = [stabilizer(frame, out) for frame, out in zip(clip, plain)]
        ms = (time.perf_counter() - began) / len(clip) * 1000
        error = warping_error(steady, args.step)
        change = float(np.mean([np.abs(a.astype(np.float32) - b).mean() for a, b in zip(steady, plain)]))
        print(f"| {strength} | {error:.2f} | {error / base:.2f}× | {change:.2f} | {ms:.1f} |")
    input_error = warping_error(clip, args.step)
    print(f"\n(the input clip itself: warping error {input_error:.2f} — noise and interpolation floor)")


if __name__ == "__main__":
    main()
