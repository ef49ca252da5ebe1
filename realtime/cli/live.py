"""`realtime live` and `realtime demo`: the live window, and the demo video rendered when there is none."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from realtime.atomic import refuse_overwrite
from realtime.cli.options import (
    BuildNotes,
    add_model_options,
    add_refine_options,
    add_style_options,
    look_settings,
    positive_float,
    positive_int,
    stabilize_strength,
)
from realtime.errors import RealtimeError
from realtime.gatys.settings import DEFAULT_SIZE as GATYS_SIZE
from realtime.gatys.settings import DEFAULT_STEPS as GATYS_STEPS
from realtime.live.hotkeys import hotkey_help
from realtime.live.settings import (
    DEFAULT_UPSAMPLE,
    DEFAULT_WORKING_SIZE,
    DEMO_SECONDS,
    FRAME_BUDGET_MS,
    KEYFRAME_CHOICES,
    KEYFRAME_MAX_MS,
    MAX_CPU_WORKING_SIZE,
    UPSAMPLERS,
    LiveOptions,
)
from realtime.video.settings import STABILIZE_STRENGTH

if TYPE_CHECKING:
    from realtime.live.catalog import StyleCatalog
    from realtime.live.setup import LiveSetup
    from realtime.live.stats import LiveSummary
    from realtime.live.virtual_camera import VirtualCamera
    from realtime.runtimes.stylizer import Stylizer
    from realtime.sources.capture import FrameSource


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    live = commands.add_parser(
        "live",
        help="stylise a camera, video file or stream live, with hotkeys",
        description="Stylise live video in a window: a camera, a video file (plays at its own frame rate and "
        "loops), a stream URL or 'sample' (built-in footage). Only the newest frame is stylised, so a slow "
        "generator drops frames instead of lagging behind.",
        epilog="hotkeys (in the window):\n" + hotkey_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    live.add_argument(
        "--source",
        default="0",
        metavar="0|PATH|URL|sample",
        help="camera index, video file, stream URL or sample (default 0)",
    )
    live.add_argument(
        "--styles",
        metavar="DIR",
        help="folder of style images to switch between; files added later appear when you switch",
    )
    live.add_argument(
        "--size",
        type=positive_int,
        help=f"working size, the long side the generator sees (default {DEFAULT_WORKING_SIZE['cuda']} on CUDA; on a "
        f"CPU the largest it runs at about 15 fps, from {DEFAULT_WORKING_SIZE['cpu-full']} with the full model or "
        f"{DEFAULT_WORKING_SIZE['cpu']} with the fast or light one up to {MAX_CPU_WORKING_SIZE}; [ and ] change it "
        "live)",
    )
    live.add_argument("--mirror", action="store_true", help="flip the picture left-right (selfie view)")
    live.add_argument("--record", metavar="PATH", help="record the stylised video from the start (.mp4, .mkv or .mov)")
    live.add_argument(
        "--output-dir",
        default=".",
        metavar="DIR",
        help="where snapshots (s) and recordings started with r go (default .)",
    )
    live.add_argument("--no-window", action="store_true", help="run headless (servers, tests): no window, no hotkeys")
    live.add_argument(
        "--virtual-camera",
        nargs="?",
        const="",
        metavar="DEVICE",
        help="also send the stylised picture (no HUD) to a virtual webcam for Zoom, Meet or OBS: the first one found, "
        "or DEVICE (/dev/videoN, 'OBS Virtual Camera'); needs pip install 'realtime[vcam]' and OBS or v4l2loopback",
    )
    live.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after N stylised frames")
    live.add_argument("--once", action="store_true", help="stop at the end of a video file instead of looping")
    live.add_argument(
        "--vgg",
        metavar="PATH",
        help="VGG features state dict: s then renders a Gatys snapshot in the background "
        "(without it, s saves the stylised frame); --refine uses it too",
    )
    live.add_argument(
        "--snapshot-size",
        type=positive_int,
        default=GATYS_SIZE,
        help=f"long side of Gatys snapshots (default {GATYS_SIZE})",
    )
    live.add_argument(
        "--snapshot-steps",
        type=positive_int,
        default=GATYS_STEPS,
        help=f"optimiser steps per level of Gatys snapshots (default {GATYS_STEPS}; fewer = faster on a CPU)",
    )
    add_style_options(
        live,
        style_help="style to start with (default: the first in the list): built-in name, image or sample:NAME; "
        "repeat to blend",
        required=False,
    )
    add_refine_options(live, vgg=False, auto=True)
    _add_picture_options(live)
    add_model_options(live)
    live.set_defaults(run=_run_live)

    demo = commands.add_parser(
        "demo",
        help="the live demo: camera or built-in footage; without a display, a demo video",
        description="Open the live window on the camera, or on built-in footage when there is no camera. With no "
        "display (or --no-window), stylise the footage into a video file instead, cycling through a few styles, "
        "and report the frame rate reached.",
        epilog="hotkeys (in the window):\n" + hotkey_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "-o",
        "--output",
        default="realtime-demo.mp4",
        help="the video written when there is no window (default %(default)s)",
    )
    demo.add_argument(
        "--seconds", type=positive_float, default=DEMO_SECONDS, help="length of that video (default %(default)g)"
    )
    demo.add_argument(
        "--size",
        type=positive_int,
        help=f"working size (default {DEFAULT_WORKING_SIZE['cuda']} on CUDA; on a CPU the largest it runs at about "
        f"15 fps, from {DEFAULT_WORKING_SIZE['cpu-full']} with the full model or {DEFAULT_WORKING_SIZE['cpu']} with the "
        f"fast or light one up to {MAX_CPU_WORKING_SIZE})",
    )
    demo.add_argument("--no-window", action="store_true", help="render the demo video even when a display is available")
    _add_picture_options(demo)
    add_model_options(demo)
    demo.set_defaults(run=_run_demo)


def _add_picture_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stabilize",
        type=stabilize_strength,
        nargs="?",
        const=STABILIZE_STRENGTH,
        default=STABILIZE_STRENGTH,
        metavar="S",
        help="steady the picture against flicker: lean each frame on the last one along the motion, weight S "
        f"(default and --stabilize alone: {STABILIZE_STRENGTH:g}; 0 = off); on a CPU",
    )
    parser.add_argument(
        "--upsample",
        choices=UPSAMPLERS,
        default=DEFAULT_UPSAMPLE,
        help="how the working-size picture is enlarged to the window on a CPU: bicubic, or guided along the "
        f"photo's edges (sharper edges, flatter brush strokes; default {DEFAULT_UPSAMPLE})",
    )
    parser.add_argument(
        "--keyframes",
        choices=KEYFRAME_CHOICES,
        default="auto",
        help="on a CPU, paint keyframes beside the loop and show every frame with the newest carried along the "
        "motion and enlarged with it, a new one fading in (in place of --stabilize and --upsample); auto: where "
        f"the generator takes over {FRAME_BUDGET_MS:g} ms a frame but under {KEYFRAME_MAX_MS:g} ms, which keeps the "
        f"full model's picture at the largest working size that paints one within {KEYFRAME_MAX_MS:g} ms unless "
        "--size is given (default auto)",
    )


def _options(args: argparse.Namespace, setup: LiveSetup, **more: object) -> LiveOptions:
    """The picture settings live and demo share, from the command line and the CPU's measurements."""
    return LiveOptions(
        working_size=setup.working_size,
        keyframes=setup.keyframes,
        stabilize=args.stabilize,
        upsample=args.upsample,
        **more,
    )


def _run_live(args: argparse.Namespace) -> int:
    from realtime.gatys.network import LossNetwork
    from realtime.gatys.optimize import Gatys
    from realtime.gatys.settings import GatysSettings
    from realtime.live.catalog import StyleCatalog
    from realtime.live.gatys_worker import GatysSnapshotRenderer
    from realtime.live.recorder import check_video_path
    from realtime.live.session import LiveSession
    from realtime.live.setup import load_live
    from realtime.live.snapshot import save_stylized
    from realtime.live.window import Window, check_display

    record = check_video_path(args.record) if args.record else None
    if record is not None:
        refuse_overwrite(record, [args.source], role="the --source file")
    output_dir = Path(args.output_dir)
    if not output_dir.is_dir():
        raise RealtimeError(
            f"--output-dir: {'not a folder' if output_dir.exists() else 'no such folder'}: {output_dir}"
        )
    if not args.no_window:
        check_display()
    with _open_source(args.source, loop=not args.once) as source:  # a bad source fails before the model loads
        sinks = [] if args.virtual_camera is None else [_virtual_camera(args.virtual_camera, source)]
        setup = load_live(
            args.weights,
            device=args.device,
            style_size=args.style_size,
            on_build=BuildNotes(),
            model=args.model,
            working_size=args.size,
            stroke=args.stroke,
            keyframes=args.keyframes,
        )
        stylizer = setup.stylizer
        catalog = StyleCatalog(stylizer.weights.bank.names(), args.styles, args.style or ())
        _refine_paintings(stylizer, catalog, args)
        _live_notes(stylizer, catalog, None if args.size else setup.working_size)
        if args.no_window and record is None:
            print("realtime: note: --no-window without --record shows and saves nothing", file=sys.stderr)
        options = _options(
            args,
            setup,
            mirror=args.mirror,
            record=record,
            max_frames=args.max_frames or 0,
            output_dir=output_dir,
            **look_settings(args),
        )
        window = None if args.no_window else Window()
        with ExitStack() as stack:
            snapshot = save_stylized
            if args.vgg:
                gatys = Gatys(
                    LossNetwork.load(args.vgg),
                    GatysSettings(size=args.snapshot_size, steps=args.snapshot_steps),
                    stylizer.device,
                )
                snapshot = stack.enter_context(GatysSnapshotRenderer(gatys, stylizer.weights)).hook
            session = LiveSession(stylizer, source, catalog, options, window=window, snapshot=snapshot, sinks=sinks)
            summary = session.run()
    _print_live_summary(summary)
    return _exit_code(summary)


def _refine_paintings(stylizer: Stylizer, catalog: StyleCatalog, args: argparse.Namespace) -> None:
    """--refine as given; by default, paintings are fitted when a VGG16 is at hand. Live's --vgg also feeds the
    Gatys snapshots, which take a VGG19 too: then fitting is skipped with a note instead of refusing to start."""
    from realtime.perceptual.refine import default_refine_steps

    if args.refine is not None:
        stylizer.refine_styles(args.refine, args.vgg, progress=True)
        return
    steps = default_refine_steps(args.vgg, [spec.source for entry in catalog.entries for spec in entry.specs])
    if not steps:
        return
    try:
        stylizer.refine_styles(steps, args.vgg, progress=True)
    except RealtimeError as exc:
        print(f"realtime: note: paintings keep their encoder targets ({exc})", file=sys.stderr)
        return
    print(
        "realtime: note: a painting shows at once and is fitted in the background, once (--refine 0 turns this off)",
        file=sys.stderr,
    )


def _run_demo(args: argparse.Namespace) -> int:
    from realtime.live.catalog import StyleCatalog
    from realtime.live.demo import demo_source, render_demo
    from realtime.live.recorder import check_video_path
    from realtime.live.session import LiveSession
    from realtime.live.setup import load_live
    from realtime.live.window import Window, display_problem

    no_window = "--no-window" if args.no_window else display_problem()
    output = check_video_path(args.output) if no_window else None
    setup = load_live(
        args.weights,
        device=args.device,
        on_build=BuildNotes(),
        model=args.model,
        working_size=args.size,
        keyframes=args.keyframes,
    )
    stylizer = setup.stylizer
    options = _options(args, setup)
    working_size = options.working_size
    if output is not None:
        print(f"realtime: no window ({no_window}): rendering the demo to {output}", file=sys.stderr)
        summary = render_demo(stylizer, output, seconds=args.seconds, options=options)
        _print_live_summary(summary, quiet=True)
        recording = summary.recordings[0] if summary.recordings else None
        if recording is None:
            return 2
        print(
            f"realtime: wrote {recording.path} ({recording.frames} frames, {args.seconds:g} s); stylised at "
            f"{summary.fps:.1f} fps on {stylizer.device} at working size {working_size}",
            file=sys.stderr,
        )
        print(recording.path)
        return _exit_code(summary)
    source, why_not_camera = demo_source()
    if why_not_camera:
        print(f"realtime: {why_not_camera}: showing built-in footage instead", file=sys.stderr)
    catalog = StyleCatalog(stylizer.weights.bank.names())
    _live_notes(stylizer, catalog, None if args.size else setup.working_size)
    session = LiveSession(stylizer, source, catalog, options, window=Window())
    summary = session.run()
    _print_live_summary(summary)
    return _exit_code(summary)


def _open_source(spec: str, *, loop: bool) -> FrameSource:
    """`--source` text → a frame source: `sample` (built-in footage), a camera index, a video file or a URL."""
    from realtime.sources.capture import VideoCaptureSource, parse_source
    from realtime.sources.sample import SampleSource

    if spec == "sample":
        return SampleSource()
    return VideoCaptureSource(parse_source(spec), loop=loop)


def _virtual_camera(device: str, source: FrameSource) -> VirtualCamera:
    """The virtual webcam at the size the session shows (and records) frames; no backend is one line, at once."""
    from realtime.imaging.frames import fit_size
    from realtime.live.settings import DISPLAY_MAX_SIDE
    from realtime.live.virtual_camera import VirtualCamera

    height, width = fit_size(source.height, source.width, DISPLAY_MAX_SIDE)
    camera = VirtualCamera(width, height, source.fps, device or None)
    print(f"realtime: sending the stylised picture to the virtual camera {camera.name}", file=sys.stderr)
    return camera


def _exit_code(summary: LiveSummary) -> int:
    """2 when the run reported errors (a recording that could not be written), as a failed command
    must; else 130 after Ctrl-C, 0 otherwise."""
    if summary.problems:
        return 2
    return 130 if summary.stop_reason == "interrupted" else 0


def _live_notes(stylizer: Stylizer, catalog: StyleCatalog, default_size: int | None) -> None:
    """`default_size`: the working size chosen for this CPU, None when --size gave it."""
    if stylizer.device.type == "cpu" and default_size is not None:
        print(
            f"realtime: note: running on the CPU at working size {default_size} "
            "(--size changes it; a CUDA GPU allows far larger sizes)",
            file=sys.stderr,
        )
    if catalog.uses_samples:
        print(
            "realtime: note: these weights have no built-in styles; switching between sample photos as styles "
            "(pass --styles DIR with paintings)",
            file=sys.stderr,
        )


def _print_live_summary(summary: LiveSummary, quiet: bool = False) -> None:
    if not quiet:
        dropped = f", {summary.dropped} source frames dropped" if summary.dropped else ""
        print(
            f"realtime: {summary.frames} frames in {summary.seconds:.1f} s ({summary.fps:.1f} fps; generator "
            f"{summary.generator_ms:.0f} ms, latency {summary.latency_ms:.0f} ms{dropped}); stopped: {summary.stop_reason}",
            file=sys.stderr,
        )
        for recording in summary.recordings:
            skipped = f", {recording.skipped} skipped while the encoder was behind" if recording.skipped else ""
            print(f"realtime: saved recording {recording.path} ({recording.frames} frames{skipped})", file=sys.stderr)
    for problem in summary.problems:
        print(f"realtime: error: {problem}", file=sys.stderr)
