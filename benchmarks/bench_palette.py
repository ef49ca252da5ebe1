"""What recolouring a stylised frame to a painting's palette costs, next to the generator that painted it, and
whether it makes the live picture less steady.

The full model paints sample:chelsea with docs/example-painting.jpg at each size through the CPU runtime, with
the palette off (the reference) and on (the app's default for a style picture); the recolouring alone
(`recolor_frames`: the frame's colour statistics from a sample of its pixels, then one affine pass) is timed
on the painted frame. Medians of repeated calls, alternating, in the same run. Then a live session runs in
real time on `bench_live_stabilize.py`'s hand-held clip (640×480, 30 fps), painting keyframes at 640 and
every frame at 448 stabilised, palette off and on, twice each: each frame's map is found afresh, so a map
that wandered from frame to frame would show as a higher warping error (`bench_live_keyframes.py`'s).

    python benchmarks/bench_palette.py
    python benchmarks/bench_palette.py --style my_painting.jpg --sizes 320x240,1280x720
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import torch
from bench_live_keyframes import live_run, warping_error
from bench_live_quality import cpu_name
from bench_live_stabilize import FPS, camera_path, film

from realtime.imaging.images import read_image
from realtime.imaging.palette import recolor_frames
from realtime.model.weights import shipped_weights
from realtime.runtimes.stylizer import Stylizer
from realtime.video.writer import VideoWriter

LIVE = (("keyframes at 640", 640, True, 0.0), ("every frame at 448, stabilised", 448, False, 0.6))


def median_ms(repeats: int, run: Callable[..., object], *args: object) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(*args)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--style", default="docs/example-painting.jpg", help="style picture")
    parser.add_argument("--sizes", default="320x240,640x480,1280x720", help="WxH, comma-separated")
    parser.add_argument("--repeats", type=int, default=9, help="calls per measurement (default 9)")
    parser.add_argument("--seconds", type=float, default=5.0, help="live clip length (default 5)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    stylizer = Stylizer(shipped_weights("full"), "cpu")
    # False: the generator's own colours (the reference); True: the painting's palette (the app's default).
    looks = {match: stylizer.look([args.style], palette=match) for match in (False, True)}
    photo = read_image("sample:chelsea")
    print(f"CPU: {cpu_name()}, 2 threads; the full model on {stylizer.runtime}; style {args.style}")
    print("| frame | generator, own colours ms | generator + palette ms | recolouring alone ms | share |")
    print("|---|---|---|---|---|")
    for text in args.sizes.split(","):
        width, height = map(int, text.split("x"))
        frame = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)
        stylizer(frame, looks[True])  # the runtime builds its graph for this size
        timings: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(3):
            for match in (False, True):
                timings[match].append(median_ms(args.repeats, stylizer, frame, looks[match]))
        painted = stylizer(frame, looks[True])[None]
        palettes = [looks[True].palette]
        recolour = median_ms(args.repeats * 5, recolor_frames, painted, palettes)
        own, with_palette = (statistics.median(timings[m]) for m in (False, True))
        print(f"| {width}×{height} | {own:.1f} | {with_palette:.1f} | {recolour:.2f} | {recolour / own:.1%} |")
    live(stylizer, args.style, args.seconds)


def live(stylizer: Stylizer, style: str, seconds: float) -> None:
    photo = read_image("sample:astronaut")
    photo = cv2.resize(photo, None, fx=1100 / min(photo.shape[:2]), fy=1100 / min(photo.shape[:2]))
    frames = round(seconds * FPS)
    poses = camera_path(frames)
    print("\n| live, hand-held clip | palette | warping error (two runs) | fps |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        clip = Path(scratch) / "handheld.mkv"
        with VideoWriter(clip, FPS, codec="ffv1") as writer:
            for frame in film(photo, poses, (640, 480), 3.0):
                writer.write(frame)
        for name, size, keyframes, stabilize in LIVE:
            rows: dict[bool, list] = {False: [], True: []}
            for _ in range(2):
                for match in (False, True):
                    shown, summary = live_run(stylizer, style, clip, size, keyframes, stabilize, frames, match)
                    rows[match].append((warping_error(shown, poses), summary.fps))
            for match, runs in rows.items():
                errors = " / ".join(f"{error:.2f}" for error, _ in runs)
                fps = statistics.mean(fps for _, fps in runs)
                print(f"| {name} | {'on' if match else 'off'} | {errors} | {fps:.1f} |")


if __name__ == "__main__":
    main()
