"""`realtime image` and `realtime styles`: stills by MSG-Net, WCT or Gatys, and the styles MSG-Net knows."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tqdm import tqdm

from realtime.atomic import refuse_overwrite
from realtime.cli.options import (
    add_model_options,
    add_refine_options,
    add_style_options,
    fraction,
    look_settings,
    non_negative_int,
    wct_levels,
)
from realtime.errors import RealtimeError
from realtime.gatys.settings import DEFAULT_SIZE as GATYS_SIZE
from realtime.imaging.images import DEFAULT_IMAGE_SIZE
from realtime.imaging.limits import MAX_WORKING_SIDE
from realtime.wct.settings import DEFAULT_ALPHA, DEFAULT_COARSE_SIZE, DEFAULT_DECODERS, LEVELS, MIN_COARSE_SIZE

METHODS = ("auto", "msgnet", "wct", "gatys")
STILLS_MODEL = "full"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    image = commands.add_parser(
        "image",
        help="stylise images or folders of images",
        description="Stylise images. INPUT is a file, a folder (every image in it), - (stdin) or sample:NAME. "
        "--method msgnet is the fast generator, wct follows any painting closely in seconds (Li et al. 2017), "
        "gatys optimises each image for minutes.",
    )
    image.add_argument("inputs", nargs="+", metavar="INPUT")
    image.add_argument(
        "-o", "--output", required=True, help="output file, - (stdout, PNG) or folder for several inputs"
    )
    image.add_argument(
        "--size",
        type=non_negative_int,
        default=None,
        help=f"downscale larger images to this long side (default {DEFAULT_IMAGE_SIZE}, gatys {GATYS_SIZE}; 0 = full size, up to {MAX_WORKING_SIDE})",
    )
    image.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    image.add_argument(
        "--method",
        choices=METHODS,
        default="auto",
        help="msgnet: the generator (built-in styles, any picture); wct: follows any painting closely, seconds "
        "per image, needs VGG16; gatys: optimisation, minutes per image, needs VGG16; auto (default): wct when "
        "every style is a picture, VGG16 is at hand (--vgg or torchvision's download cache) and no MSG-Net "
        "option (--refine, --weights, --model) is given, else msgnet",
    )
    add_style_options(image)
    add_refine_options(image, vgg=False)
    image.add_argument(
        "--vgg",
        metavar="PATH",
        help="local VGG16 features state dict for --refine, --method wct and gatys (default: torchvision's ImageNet VGG16)",
    )
    wct = image.add_argument_group("WCT (--method wct)")
    wct.add_argument(
        "--alpha",
        type=fraction,
        default=DEFAULT_ALPHA,
        help=f"blend of the painting's and the photo's features at every level: 0 = photo, 1 = painting (default {DEFAULT_ALPHA:g})",
    )
    wct.add_argument(
        "--levels",
        type=wct_levels,
        default=tuple(reversed(LEVELS)),
        metavar="L1,L2,...",
        help=f"VGG levels transformed, applied deep to shallow (default {','.join(reversed(LEVELS))}; also 4,3,2,1)",
    )
    wct.add_argument(
        "--coarse-size",
        type=non_negative_int,
        default=DEFAULT_COARSE_SIZE,
        metavar="PX",
        help=f"long side the deep levels work at; larger is slower and makes strokes smaller (default {DEFAULT_COARSE_SIZE}; 0 = full size)",
    )
    wct.add_argument(
        "--decoders",
        metavar="PATH",
        help=f"decoders file from `realtime train-decoder` (default: the shipped {DEFAULT_DECODERS})",
    )
    add_model_options(image, default=STILLS_MODEL)  # a still can wait the second the full model takes on a CPU
    image.set_defaults(run=_run_image)

    styles = commands.add_parser("styles", help="list the built-in styles", description="List the built-in styles.")
    add_model_options(styles)
    styles.add_argument("--json", action="store_true", help="print the list as JSON")
    styles.set_defaults(run=_run_styles)


def _run_image(args: argparse.Namespace) -> int:
    from realtime.stills import choose_method, is_image_source, plan_jobs, stylize_file

    if args.json and args.output == "-":
        raise RealtimeError("--json and -o - both want standard output; choose one")
    msgnet_asked = bool(args.refine) or args.weights is not None or args.model != STILLS_MODEL
    asked, args.method = args.method, choose_method(args.method, args.style, args.vgg, msgnet_asked)
    paintings = all(is_image_source(spec.source) for spec in args.style)
    for_want_of_vgg = asked == "auto" and args.method == "msgnet" and paintings and not msgnet_asked
    if args.refine and args.method != "msgnet":
        raise RealtimeError(f"--refine fits MSG-Net's style targets; --method {args.method} does not use them")
    jobs = plan_jobs(args.inputs, args.output)
    for job in jobs:
        refuse_overwrite(job.output, [spec.source for spec in args.style], "the style image")
    render, size, blend, about = {"msgnet": _msgnet, "wct": _wct, "gatys": _gatys}[args.method](args)

    limit = (
        f"--size {size}"
        if 0 < size <= MAX_WORKING_SIDE
        else f"{MAX_WORKING_SIDE} pixels, the largest the generator works at"
    )
    results, failures = [], []
    for job in tqdm(jobs, desc="images", unit="img", disable=len(jobs) < 2, file=sys.stderr):
        try:
            result = stylize_file(render, job, size, blend)
        except RealtimeError as exc:
            if len(jobs) == 1:
                raise
            tqdm.write(f"realtime: error: {exc}", file=sys.stderr)
            failures.append({"input": job.source, "error": str(exc)})
            continue
        results.append(result)
        if result.downscaled:
            tqdm.write(
                f"realtime: note: {job.source} was larger than {limit}; output is {result.width}×{result.height}",
                file=sys.stderr,
            )
    if args.json:
        summary = {
            "method": args.method,
            **about,
            "styles": [{"style": s.source, "weight": s.weight} for s in args.style],
            "images": [
                {
                    "input": r.source,
                    "output": r.output,
                    "width": r.width,
                    "height": r.height,
                    "seconds": round(r.seconds, 4),
                }
                for r in results
            ],
            "failed": failures,
        }
        print(json.dumps(summary, indent=2))
    else:
        if for_want_of_vgg and results:
            print(
                "realtime: note: the generator painted this painting; WCT would follow it more closely but needs a "
                "VGG16 (--vgg PATH; the README's VGG16 section has the one-line save)",
                file=sys.stderr,
            )
        print(_summary(results, failures, args), file=sys.stderr)
    return 2 if failures else 0


def _summary(results: list, failures: list[dict[str, str]], args: argparse.Namespace) -> str:
    """One line of what was written: a file, or how many went into the folder."""
    seconds = sum(r.seconds for r in results)
    if len(results) == 1 and not failures:
        result = results[0]
        where = "standard output" if result.output == "-" else result.output
        return f"realtime: wrote {where} ({result.width}×{result.height}) by {args.method} in {seconds:.1f} s"
    failed = f"; {len(failures)} failed" if failures else ""
    return f"realtime: wrote {len(results)} images to {args.output} by {args.method} in {seconds:.1f} s{failed}"


Method = tuple[Any, int, float, dict[str, Any]]  # renderer, working size, strength left to blend, JSON facts


def _msgnet(args: argparse.Namespace) -> Method:
    from realtime.device import resolve_device
    from realtime.runtimes.stylizer import Stylizer

    device = resolve_device(args.device)
    # Eager on CUDA: compiling the fast path for a still's size costs more than hundreds of eager renders.
    # A CPU keeps its default runtime.
    optimize = False if device.type == "cuda" else None
    stylizer = Stylizer.load(args.weights, str(device), args.style_size, optimize=optimize, model=args.model)
    stylizer.refine_styles(args.refine, args.vgg, progress=True)
    stylizer.set_style(args.style, **look_settings(args))
    size = DEFAULT_IMAGE_SIZE if args.size is None else args.size
    return stylizer, size, 1.0, {"device": str(stylizer.device), "weights": stylizer.weights.source}


def _wct(args: argparse.Namespace) -> Method:
    from realtime.stills import load_wct
    from realtime.wct.settings import WCTSettings

    settings = WCTSettings(
        alpha=args.alpha,
        levels=args.levels,
        style_size=args.style_size,
        coarse_size=_stroke_coarse_size(args.coarse_size, args.stroke),
        preserve_color=args.preserve_color,
    )
    wct = load_wct(args.style, settings, args.decoders, args.vgg, args.device)
    size = DEFAULT_IMAGE_SIZE if args.size is None else args.size
    facts = {"device": str(wct.device), "decoders": wct.source, "alpha": args.alpha, "levels": list(args.levels)}
    return wct, size, args.strength, facts


def _stroke_coarse_size(coarse_size: int, stroke: float) -> int:
    """WCT's strokes are set by the size its deep levels work at: --stroke scales it as it scales MSG-Net's."""
    if not stroke or not coarse_size:
        return 0
    return max(MIN_COARSE_SIZE, round(coarse_size / stroke))


def _gatys(args: argparse.Namespace) -> Method:
    from realtime.gatys.settings import GatysSettings
    from realtime.stills import load_gatys

    size = GATYS_SIZE if args.size is None else args.size
    settings = GatysSettings(size=size or GATYS_SIZE, preserve_color=args.preserve_color)
    render = load_gatys(args.style, settings, args.vgg, args.device, args.weights)
    return render, size, args.strength, {"steps": settings.steps}


def _run_styles(args: argparse.Namespace) -> int:
    from realtime.device import resolve_device
    from realtime.model.weights import resolve_weights

    weights = resolve_weights(args.weights, args.model, resolve_device(args.device))
    names = weights.bank.names()
    if args.json:
        print(json.dumps({"weights": weights.source, "styles": names}))
    elif names:
        print("\n".join(names))
    else:
        print(
            f"realtime: the weights in use ({weights.source}) have no built-in styles; pass a style image to --style",
            file=sys.stderr,
        )
    return 0
