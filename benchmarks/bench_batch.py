"""`realtime batch` throughput: images/s of the local path and of Ray, next to a loop of `realtime image` calls.

For each size, a small dataset (two class folders) is cut from the photos given, every image at that long
side, and stylised three ways in the same run, with the same seeded paintings:
- loop: one `realtime image` process per image, what a user would script today (first `--loop-images` only);
- local: `realtime.batch.stylize_dataset` in this process;
- ray: the same job on a local Ray with `--ray-workers` stylizer actors;
- I/O only: the local path with a generator that returns its input, the decode + encode ceiling of this CPU.
"wall" includes start-up (loading the generator, starting Ray and its actors); "first output" is when the
first output landed; "after it" is the rate from then to the last output (outputs landing with the first, a
Ray batch's, left out), the rate a long job settles at.

    python benchmarks/bench_batch.py --photos PHOTOS --paintings PAINTINGS
    python benchmarks/bench_batch.py --photos PHOTOS --paintings PAINTINGS --device cuda --images 256 --no-ray
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from realtime.batch import BatchJob, stylize_dataset
from realtime.batch.local import LocalRunner
from realtime.batch.plan import Plan
from realtime.batch.settings import DEFAULT_WEIGHTS, RenderSettings
from realtime.imaging.frames import resize_frame
from realtime.imaging.images import image_files, read_image, write_image
from realtime.imaging.palette import Palette
from realtime.model.weights import load_weights
from realtime.runtimes.look import Look
from realtime.runtimes.stylizer import Stylizer


def make_dataset(photos: Path, folder: Path, count: int, side: int) -> Path:
    """`count` photos scaled so the long side is `side`, split over two class folders, as JPEG."""
    for index, source in enumerate(image_files(photos, "photos")[:count]):
        frame = read_image(source)
        h, w = frame.shape[:2]
        scale = side / max(h, w)
        target = folder / f"class{index % 2}" / f"{source.stem}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        write_image(resize_frame(frame, (round(h * scale), round(w * scale))), target)
    return folder


def pick_paintings(paintings: Path, folder: Path, count: int) -> Path:
    """The first `count` paintings: a long job meets each painting again and again, so its target is cached."""
    folder.mkdir(parents=True)
    for source in image_files(paintings, "paintings")[:count]:
        shutil.copy(source, folder / source.name)
    return folder


def run_loop(dataset: Path, styles: Path, out: Path, args: argparse.Namespace) -> tuple[int, float]:
    """One `realtime image` process per image, each with the painting the batch job gives that image."""
    plan = Plan.build(dataset, out, styles)
    command = [str(Path(sys.executable).with_name("realtime")), "image", "--weights", args.weights]
    command += ["--device", args.device, "--size", "0"]
    tasks = plan.tasks[: args.loop_images]
    began = time.perf_counter()
    for task in tasks:
        (output,) = task.outputs
        target = out / output.path
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [*command, str(dataset / task.source), "-o", str(target), "--style", str(styles / output.style)],
            check=True,
            capture_output=True,
        )
    return len(tasks), time.perf_counter() - began


def timings(began: float, stamps: list[float]) -> tuple[float, float]:
    """(seconds to the first output, outputs/s from then on), outputs within 0.1 s of the first left out."""
    later = [t for t in stamps if t > stamps[0] + 0.1]
    rate = len(later) / (stamps[-1] - stamps[0]) if later else 0.0
    return stamps[0] - began, rate


def run_job(dataset: Path, styles: Path, out: Path, args: argparse.Namespace, ray: bool) -> tuple[int, float, tuple]:
    """(outputs, wall seconds, `timings`) of one batch job."""
    stamps: list[float] = []
    began = time.perf_counter()
    summary = stylize_dataset(
        dataset,
        out,
        styles,
        weights=args.weights,
        device=args.device,
        size=0,
        ray=ray,
        workers=args.ray_workers if ray else None,
        progress=False,
        on_output=lambda row: stamps.append(time.perf_counter()),
    )
    wall = time.perf_counter() - began
    if summary.failed:
        raise SystemExit(f"{summary.failed} outputs failed; see {summary.manifest}")
    return summary.written, wall, timings(began, stamps)


class NoTargets:
    """Style targets that cost nothing, for a generator that ignores them."""

    def target(self, source: str) -> torch.Tensor:
        return torch.zeros(1, 1)

    def palette(self, source: str) -> Palette | None:
        return None


class PassThrough(Stylizer):
    """A generator that returns its input: what listing, decoding, encoding and the manifest cost on their own."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.styles = NoTargets()

    def stylize_frames(self, frames: np.ndarray, look: Look | None = None) -> np.ndarray:
        return frames


def run_io_only(dataset: Path, styles: Path, out: Path, args: argparse.Namespace) -> tuple[int, float, tuple]:
    settings = RenderSettings(weights=args.weights, device="cpu", size=0)
    stylizer = PassThrough(load_weights(args.weights), "cpu")
    stamps: list[float] = []
    began = time.perf_counter()
    job = BatchJob(Plan.build(dataset, out, styles), settings)
    summary = job.run(LocalRunner(settings, stylizer=stylizer), False, lambda row: stamps.append(time.perf_counter()))
    return summary.written, time.perf_counter() - began, timings(began, stamps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, required=True, help="folder of content photos")
    parser.add_argument("--paintings", type=Path, required=True, help="folder of style images")
    parser.add_argument("--sizes", default="256,512", help="long sides to measure (default 256,512)")
    parser.add_argument("--images", type=int, default=48, help="images per size for the batch runs (default 48)")
    parser.add_argument("--loop-images", type=int, default=3, help="images for the realtime-image loop (default 3)")
    parser.add_argument("--style-count", type=int, default=8, help="paintings drawn from (default 8)")
    parser.add_argument("--weights", default=DEFAULT_WEIGHTS, help=f"default {DEFAULT_WEIGHTS}, the command's")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ray-workers", type=int, default=2)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray run")
    args = parser.parse_args()

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, device {args.device}")
    print(f"# weights {args.weights}, {args.images} images per size, {args.style_count} paintings")
    print("| size | path | images | wall s | images/s (wall) | first output s | images/s after it |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        styles = pick_paintings(args.paintings, root / "paintings", args.style_count)
        for side in (int(s) for s in args.sizes.split(",")):
            dataset = make_dataset(args.photos, root / f"in{side}", args.images, side)
            count, wall = run_loop(dataset, styles, root / f"loop{side}", args)
            print(f"| {side} | `realtime image` loop | {count} | {wall:.1f} | {count / wall:.2f} | — | — |", flush=True)
            runs = [("local", False)] if args.no_ray else [("local", False), (f"Ray, {args.ray_workers} workers", True)]
            for name, ray in [*runs, ("I/O only, local, no generator", None)]:
                out = root / f"{name[:3]}{side}"
                if ray is None:
                    count, wall, (first, rate) = run_io_only(dataset, styles, out, args)
                else:
                    count, wall, (first, rate) = run_job(dataset, styles, out, args, ray)
                row = f"| {side} | {name} | {count} | {wall:.1f} | {count / wall:.2f} | {first:.1f} | {rate:.2f} |"
                print(row, flush=True)


if __name__ == "__main__":
    main()
