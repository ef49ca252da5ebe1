"""`realtime video`: a whole clip through the generator, keeping its timing and audio."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from realtime.cli.options import (
    BuildNotes,
    add_model_options,
    add_refine_options,
    add_style_options,
    fade_seconds,
    look_settings,
    non_negative_int,
    positive_int,
    stabilize_strength,
    timed_style,
)
from realtime.imaging.limits import MAX_WORKING_SIDE
from realtime.video.settings import DEFAULT_CODEC, DEFAULT_FADE, STABILIZE_STRENGTH


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
    from realtime.batch.videos import stylize_video_folder, video_files
    from realtime.device import resolve_device
    from realtime.perceptual.refine import default_refine_steps
    from realtime.runtimes.cuda import FastSettings
    from realtime.runtimes.stylizer import Stylizer
    from realtime.video.reader import VideoReader
    from realtime.video.stylize import StyleSchedule, check_paths, stylize_video

    folder = Path(args.input).is_dir()
    if folder:
        video_files(args.input, args.output)  # no videos, or the output inside out, fails before the model loads
    else:
        check_paths(args.input, args.output)
        VideoReader(args.input).close()  # a bad input fails before the model loads
    device = resolve_device(args.device)
    optimize = FastSettings.compiled_for(device) if args.compile else None
    stylizer = Stylizer.load(
        args.weights, str(device), args.style_size, optimize=optimize, on_build=BuildNotes(), model=args.model
    )
    refine = args.refine
    if refine is None:
        refine = default_refine_steps(args.vgg, [timed.spec.source for timed in args.style])
        if refine:
            cost = "10-20 s each on a CPU" if stylizer.device.type == "cpu" else "seconds each"
            print(f"realtime: fitting each painting's target first ({cost}, once; --refine 0 skips)", file=sys.stderr)
    stylizer.refine_styles(refine, args.vgg, progress=True)
    settings = look_settings(args)
    palette = stylizer.styles.blend_palette if settings.pop("palette") else None
    schedule = StyleSchedule(args.style, stylizer.styles.blend, args.fade, palette, **settings)
    batch = args.batch or (4 if stylizer.device.type == "cuda" else 1)
    run = {"size": args.size, "batch": batch, "stabilize": args.stabilize, "codec": args.codec}
    if folder:
        label = " ".join(f"{t.spec.source}:{t.spec.weight:g}@{t.start:g}" for t in args.style)
        summary = stylize_video_folder(args.input, args.output, stylizer, schedule, label, **run)
        if args.json:
            print(json.dumps({**dataclasses.asdict(summary), "seconds": round(summary.seconds, 4)}, indent=2))
        failed = f", {summary.failed} failed (see {summary.manifest})" if summary.failed else ""
        print(
            f"realtime: {summary.written} written, {summary.skipped} already done{failed}; "
            f"{summary.videos} videos in {summary.seconds:.1f} s",
            file=sys.stderr,
        )
        return 0
    result = stylize_video(args.input, args.output, stylizer, schedule, **run)
    if args.json:
        summary = {
            "input": result.source,
            "output": result.output,
            "device": str(stylizer.device),
            "weights": stylizer.weights.source,
            "styles": [
                {"at": start, "styles": [{"style": s.source, "weight": s.weight} for s in specs]}
                for start, specs in schedule.keyframes
            ],
            "frames": result.frames,
            "width": result.width,
            "height": result.height,
            "video_seconds": round(result.video_seconds, 4),
            "seconds": round(result.seconds, 4),
            "fps": round(result.fps, 3),
            "realtime_factor": round(result.realtime_factor, 3),
            "audio": result.audio,
            "batch": batch,
            "stabilize": args.stabilize,
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
    return 0
