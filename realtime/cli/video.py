"""`realtime video`: a whole clip through the generator, keeping its timing and audio."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from realtime.cli.options import (
    BuildNotes,
    add_model_options,
    add_refine_options,
    add_style_options,
    fade_seconds,
    look_settings,
    non_negative_int,
    positive_float,
    positive_int,
    stabilize_strength,
    timed_style,
)
from realtime.errors import RealtimeError
from realtime.imaging.limits import MAX_WORKING_SIDE
from realtime.video.settings import DEFAULT_CHUNK_SECONDS, DEFAULT_CODEC, DEFAULT_FADE, STABILIZE_STRENGTH

if TYPE_CHECKING:
    from realtime.video.chunked import ChunkedResult, ChunkRunner
    from realtime.video.job import VideoJob
    from realtime.video.stylize import VideoResult

    Stylize = Callable[[Path, Path, bool], VideoResult | ChunkedResult]  # source, output, progress


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    video = commands.add_parser(
        "video",
        help="stylise a video file, keeping its audio and timing",
        description="Stylise a video file frame by frame. Frame times, frame rate and the audio stream are kept; "
        "OUTPUT appears only once complete. INPUT may be a folder: every video under it goes to the same path "
        "under the OUTPUT folder, listed in OUTPUT/manifest.jsonl; a rerun redoes only what is missing.",
    )
    video.add_argument("input", metavar="INPUT", help="a video file, or a folder of them")
    video.add_argument(
        "-o", "--output", required=True, help="output video file (.mp4, .mkv, .mov, ...), or folder for a folder"
    )
    video.add_argument(
        "--size",
        type=non_negative_int,
        default=0,
        help=f"downscale frames to this long side (default 0 = input size, up to {MAX_WORKING_SIDE})",
    )
    video.add_argument(
        "--stabilize",
        type=stabilize_strength,
        nargs="?",
        const=STABILIZE_STRENGTH,
        default=0.0,
        metavar="F",
        help=f"reduce flicker: blend in the previous output warped by optical flow, weight F in [0, 1) "
        f"(--stabilize alone = {STABILIZE_STRENGTH}; default off)",
    )
    video.add_argument(
        "--fade",
        type=fade_seconds,
        default=DEFAULT_FADE,
        metavar="SECONDS",
        help=f"cross-fade time for scheduled style changes (default {DEFAULT_FADE})",
    )
    video.add_argument("--batch", type=positive_int, help="frames per generator call (default 4 on CUDA, 1 on CPU)")
    video.add_argument(
        "--codec",
        help=f"FFmpeg video encoder, e.g. libx265, libvpx-vp9, h264_nvenc (default {DEFAULT_CODEC}; VP9 for .webm)",
    )
    video.add_argument(
        "--compile",
        action="store_true",
        help="compile the generator for the clip's frame size first (torch.compile: tens of seconds on a CPU, "
        "then faster frames: worth it for clips over a few hundred frames; on CUDA the default)",
    )
    video.add_argument(
        "--chunk-seconds",
        type=positive_float,
        metavar="S",
        help=f"cut the video at keyframes into chunks of at least S seconds, stylise them apart and join them without "
        f"re-encoding; a rerun after a kill redoes only missing chunks (default {DEFAULT_CHUNK_SECONDS:g} with --jobs "
        "or --ray, else one pass)",
    )
    video.add_argument(
        "--jobs",
        type=positive_int,
        help="chunks at once on this machine, each with its own decode and encode threads around the one generator "
        "(default 2 when chunked)",
    )
    video.add_argument(
        "--ray",
        nargs="?",
        const=True,
        default=False,
        metavar="ADDRESS",
        help="stylise the chunks on Ray: a local Ray (or RAY_ADDRESS), or the cluster at ADDRESS; paths must be the "
        "same on every node; needs pip install 'realtime[cluster]'",
    )
    video.add_argument(
        "--workers",
        type=positive_int,
        help="with --ray: stylizer actors (default one per GPU, or one per node without GPUs)",
    )
    video.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_style_options(
        video,
        timed_style,
        "NAME|PATH[:WEIGHT][@SECONDS]",
        "style, optionally from a time on: --style candy@0 --style the_scream@4.5 switches styles with a "
        "cross-fade; entries with the same time blend",
    )
    add_refine_options(video, auto=True)
    add_model_options(video)
    video.set_defaults(run=_run_video)


def _run_video(args: argparse.Namespace) -> int:
    from realtime.batch.videos import video_files
    from realtime.device import resolve_device
    from realtime.perceptual.refine import default_refine_steps
    from realtime.video.job import VideoJob
    from realtime.video.reader import VideoReader
    from realtime.video.settings import VideoSettings
    from realtime.video.stylize import check_paths

    if args.workers is not None and args.ray is False:
        raise RealtimeError(
            "--workers sets Ray's stylizer actors: add --ray (on this machine, --jobs sets chunks at once)"
        )
    if args.jobs is not None and args.ray is not False:
        raise RealtimeError("--jobs is for this machine; on Ray, --workers sets the stylizer actors")
    folder = Path(args.input).is_dir()
    if folder:
        video_files(args.input, args.output)  # no videos, or the output inside out, fails before the model loads
    else:
        check_paths(args.input, args.output)
        VideoReader(args.input).close()  # a bad input fails before the model loads
    refine = args.refine
    if refine is None:
        refine = default_refine_steps(args.vgg, [timed.spec.source for timed in args.style])
        if refine:
            cost = "10-20 s each on a CPU" if resolve_device(args.device).type == "cpu" else "seconds each"
            print(f"realtime: fitting each painting's target first ({cost}, once; --refine 0 skips)", file=sys.stderr)
    job = VideoJob(
        tuple(args.style),
        weights=args.weights,
        model=args.model,
        device=args.device,
        style_size=args.style_size,
        compile=args.compile,
        refine=refine,
        vgg=args.vgg,
        fade=args.fade,
        **look_settings(args),
        video=VideoSettings(args.size, args.batch or 0, args.stabilize, args.codec),
    )
    with ExitStack() as closing:
        stylize, runtime = _stylizer_of(job, args, closing)
        return _stylize(args, job, stylize, runtime, folder)


def _stylize(args: argparse.Namespace, job: VideoJob, stylize: Stylize, runtime: dict[str, str], folder: bool) -> int:
    from realtime.batch.videos import stylize_video_folder
    from realtime.video.stylize import VideoResult

    if folder:
        label = " ".join(f"{t.spec.source}:{t.spec.weight:g}@{t.start:g}" for t in args.style)
        summary = stylize_video_folder(args.input, args.output, stylize, label)
        if args.json:
            print(json.dumps({**dataclasses.asdict(summary), "seconds": round(summary.seconds, 4)}, indent=2))
        failed = f", {summary.failed} failed (see {summary.manifest})" if summary.failed else ""
        print(
            f"realtime: {summary.written} written, {summary.skipped} already done{failed}; "
            f"{summary.videos} videos in {summary.seconds:.1f} s",
            file=sys.stderr,
        )
        return 0
    result = stylize(Path(args.input), Path(args.output), True)
    if isinstance(result, VideoResult):
        _report(result, job, runtime, args.json)
    else:
        _report_chunked(result, args.json)
    return 0


def _stylizer_of(job: VideoJob, args: argparse.Namespace, closing: ExitStack) -> tuple[Stylize, dict[str, str]]:
    """What stylises one file for this command (one pass, chunks on this machine, or chunks on Ray), and the
    device and weights it runs, where this process loads them; what must be let go at the end goes on `closing`."""
    from realtime.video.chunked import LocalChunks
    from realtime.video.stylize import stylize_video

    chunk_seconds = args.chunk_seconds or DEFAULT_CHUNK_SECONDS
    if args.ray is not False:
        from realtime.batch.video_cluster import RayChunks

        runner = RayChunks(None if args.ray is True else args.ray, args.workers)
        closing.callback(runner.close)
        return partial(_in_chunks, job=job, runner=runner, seconds=chunk_seconds), {}
    stylizer, schedule = job.load(on_build=BuildNotes(), progress=True)
    runtime = {"device": str(stylizer.device), "weights": stylizer.weights.source}
    if args.jobs is None and args.chunk_seconds is None:

        def one_pass(source: Path, output: Path, progress: bool) -> VideoResult:
            return stylize_video(source, output, stylizer, schedule, job.video, progress=progress)

        return one_pass, runtime
    runner = LocalChunks(stylizer, schedule, args.jobs or 2)
    return partial(_in_chunks, job=job, runner=runner, seconds=chunk_seconds), runtime


def _in_chunks(
    source: Path, output: Path, progress: bool, *, job: VideoJob, runner: ChunkRunner, seconds: float
) -> ChunkedResult:
    from realtime.video.chunked import chunk_folder, stylize_in_chunks

    try:
        return stylize_in_chunks(source, output, job, runner, chunk_seconds=seconds, progress=progress)
    except KeyboardInterrupt:
        folder = chunk_folder(output)
        if folder.is_dir():
            print(f"realtime: finished chunks wait in {folder}; the same command goes on from them", file=sys.stderr)
        raise


def _report_chunked(result: ChunkedResult, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {**dataclasses.asdict(result), "seconds": round(result.seconds, 4), "fps": round(result.fps, 3)},
                indent=2,
            )
        )
        return
    audio = f"; {result.audio} audio copied" if result.audio else ""
    reused = f" ({result.reused} finished before)" if result.reused else ""
    print(
        f"realtime: wrote {result.output}: {result.frames} frames from {result.chunks} chunks{reused} on "
        f"{result.layout}, in {result.seconds:.1f} s ({result.fps:.1f} fps){audio}",
        file=sys.stderr,
    )


def _report(result: VideoResult, job: VideoJob, runtime: dict[str, str], as_json: bool) -> None:
    if as_json:
        starts = sorted({t.start for t in job.styles})
        summary = {
            "input": result.source,
            "output": result.output,
            **runtime,
            "styles": [
                {
                    "at": start,
                    "styles": [
                        {"style": t.spec.source, "weight": t.spec.weight} for t in job.styles if t.start == start
                    ],
                }
                for start in starts
            ],
            "frames": result.frames,
            "width": result.width,
            "height": result.height,
            "video_seconds": round(result.video_seconds, 4),
            "seconds": round(result.seconds, 4),
            "fps": round(result.fps, 3),
            "realtime_factor": round(result.realtime_factor, 3),
            "audio": result.audio,
            "batch": job.video.batch_for(runtime["device"].split(":")[0]),
            "stabilize": job.video.stabilize,
            "stage_seconds": {name: round(value, 4) for name, value in result.stages.items()},
        }
        print(json.dumps(summary, indent=2))
    else:
        audio = f"; {result.audio} audio copied" if result.audio else ""
        print(
            f"realtime: wrote {result.output}: {result.frames} frames, {result.width}×{result.height}, "
            f"in {result.seconds:.1f} s ({result.fps:.1f} fps, {result.realtime_factor:.2f}× real time){audio}",
            file=sys.stderr,
        )
    if result.incomplete:
        announced = f"{result.announced_frames} frames, " if result.announced_frames else ""
        print(
            f"realtime: warning: {result.source} decoded to {result.frames} frames, {result.decoded_seconds:.2f} s, of the "
            f"{announced}{result.video_seconds:.2f} s its header announces (truncated or damaged?); {result.output} holds those",
            file=sys.stderr,
        )
