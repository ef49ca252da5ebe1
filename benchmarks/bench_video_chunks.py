"""A long video in chunks: one pass against chunks on this machine and on a local Ray, in one run, and the
seam each join leaves, measured as warping error.

The clip is a photo panned 2 px a frame at 30 fps with a stereo AAC track and a keyframe every 2 s (what a
camera or a streaming encoder writes). It is stylised with `--stabilize` by:
- one pass: `stylize_video`, decode, generator and encode threads around one generator (the reference);
- chunks on this machine: `stylize_in_chunks` with `LocalChunks`, 1 and 2 chunks at once around that generator;
- chunks on a local Ray: `RayChunks`, 1 worker owning every CPU, then 1 worker per CPU. Ray's start (a few
  seconds) is counted, as a user waits for it.
Beside the second Ray run is what the first predicts for one CPU-bound node (`docs/video.md`'s model): the same
work at the node's rate, however it is split. Last, the warping error into each chunk's first frame against the
rest, for the chunked outputs, for the one-pass output at the same frames, and at the one-pass output's own
keyframes (every H.264 file's keyframes show its codec noise afresh).

`--io-only` swaps the generator for one that returns its input: what chunks do where the generator is fast
(a GPU) and decoding, stabilising and encoding set the pace (Ray is skipped: its workers load real models).

    python benchmarks/bench_video_chunks.py --seconds 20            # the light model at the clip's size
    python benchmarks/bench_video_chunks.py --io-only --seconds 60
    python benchmarks/bench_video_chunks.py --weights W.safetensors --style candy --device cuda --seconds 120
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import ray
import torch
from bench_video import FPS, PassThrough, make_clip

from realtime.batch.video_cluster import RayChunks
from realtime.model.style_spec import StyleSpec
from realtime.video.chunked import LocalChunks, stylize_in_chunks
from realtime.video.chunks import plan_chunks, warm_up_frames
from realtime.video.job import VideoJob
from realtime.video.reader import VideoReader
from realtime.video.seams import seam_and_interior, seam_frames, warping_errors
from realtime.video.settings import STABILIZE_STRENGTH, TimedStyle, VideoSettings
from realtime.video.stylize import stylize_video


def frames_of(path: Path) -> list:
    with VideoReader(path) as reader:
        return list(reader)


def keyframes_of(path: Path) -> list[int]:
    """Indices of a video's keyframes but the first, in presentation order."""
    with av.open(str(path)) as container:
        packets = sorted((p.pts, p.is_keyframe) for p in container.demux(container.streams.video[0]) if p.size)
    return [index for index, (_, key) in enumerate(packets) if key and index > 0]


def ray_rows(timed, threads: int) -> list[tuple[str, str, float]]:
    """Ray with 1 worker owning every CPU, then 1 worker per CPU, the second beside what the first predicts for
    one CPU-bound node: the same work at the node's rate, however it is split."""
    rows, first = [], None
    for workers in (1, threads):
        began = time.perf_counter()
        ray.init(num_cpus=threads, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        start = time.perf_counter() - began
        seconds = timed(f"ray{workers}.mp4", RayChunks(workers=workers))
        ray.shutdown()
        predicted = "" if first is None else f"{start + first:.1f}"
        first = first or seconds
        label = f"chunks on a local Ray, {workers} worker{'s' * (workers > 1)} × {threads // workers} CPU"
        rows.append((f"{label} (Ray's start {start:.1f} s in it)", predicted, start + seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="weights file (default: the shipped model --model picks)")
    parser.add_argument("--model", default="light", help="shipped model when no --weights (default light)")
    parser.add_argument("--style", default="candy")
    parser.add_argument("--image", default="sample:astronaut", help="the photo the clip pans across")
    parser.add_argument("--seconds", type=float, default=20.0, help="clip length (default 20)")
    parser.add_argument("--chunk-seconds", type=float, default=4.0, help="chunk length (default 4)")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--size", type=int, default=0, help="working long side (default 0: the clip's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--io-only", action="store_true", help="no generator: where decode and encode set the pace")
    args = parser.parse_args()

    frames = round(args.seconds * FPS)
    settings = VideoSettings(size=args.size, stabilize=STABILIZE_STRENGTH)
    style = (TimedStyle(StyleSpec(args.style)),)
    job = VideoJob(style, weights=args.weights, model=args.model, device=args.device, video=settings)
    stylizer, schedule = job.load()
    if args.io_only:
        stylizer = PassThrough(stylizer.weights, stylizer.device)
    threads = torch.get_num_threads()
    model = "none (--io-only)" if args.io_only else f"{stylizer.weights.source}, {stylizer.runtime}"
    print(f"model: {model}; {platform.machine()}, {threads} threads")
    print(
        f"clip: {args.width}×{args.height}, {frames} frames at {FPS} fps, a keyframe every 2 s; chunks ≥ {args.chunk_seconds:g} s"
    )
    print()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        clip = make_clip(root / "clip.mp4", args.width, args.height, frames, args.image, keyframe_every=2 * FPS)
        plan = plan_chunks(clip, args.chunk_seconds, warm_up_frames(STABILIZE_STRENGTH))
        chunks = len(plan.chunks)
        stylizer(np.zeros((args.height, args.width, 3), np.uint8), schedule.look_at([0.0]))  # compiles for the size

        def timed(name: str, runner: LocalChunks | RayChunks | None) -> float:
            """Seconds to stylise the clip into `name`: in one pass (no runner), else in chunks by `runner`."""
            began = time.perf_counter()
            if runner is None:
                stylize_video(clip, root / name, stylizer, schedule, settings, progress=False)
            else:
                stylize_in_chunks(clip, root / name, job, runner, chunk_seconds=args.chunk_seconds, progress=False)
            return time.perf_counter() - began

        rows = [("one pass (reference)", "", timed("one.mp4", None))]
        for jobs in (1, 2):
            rows.append(
                (
                    f"chunks on this machine, {jobs} at once",
                    "",
                    timed(f"local{jobs}.mp4", LocalChunks(stylizer, schedule, jobs)),
                )
            )
        outputs = ["one.mp4", "local2.mp4"]
        if not args.io_only:
            rows += ray_rows(timed, threads)
            outputs.append(f"ray{threads}.mp4")

        reference = rows[0][2]
        print("| path | predicted s | wall s | fps | vs one pass |")
        print("|---|---|---|---|---|")
        for name, predicted, seconds in rows:
            print(f"| {name} | {predicted} | {seconds:.1f} | {frames / seconds:.1f} | {reference / seconds:.2f}× |")

        print()
        contents = [frame.image for frame in frames_of(clip)]
        print(
            f"warping error (mean |Δ| over trusted pixels, 0–255) into each chunk's first frame ({chunks - 1} joins) against the rest:"
        )
        print("| output | at the joins | elsewhere | joins ÷ elsewhere |")
        print("|---|---|---|---|")
        for name in outputs:
            output = frames_of(root / name)
            errors = warping_errors(contents, [frame.image for frame in output])
            seam, interior = seam_and_interior(errors, seam_frames(plan, [frame.time for frame in output]))
            print(f"| {name} | {seam:.2f} | {interior:.2f} | {seam / interior:.3f} |")
            if name == "one.mp4":  # the encoder's own keyframes: what any H.264 file shows every few seconds
                own, rest = seam_and_interior(errors, keyframes_of(root / name))
                print(
                    f"| {name} at its own {len(keyframes_of(root / name))} keyframes | {own:.2f} | {rest:.2f} | {own / rest:.3f} |"
                )


if __name__ == "__main__":
    main()
