"""`realtime image` and `realtime styles`: stills with the fast generator, and the styles it knows."""

from __future__ import annotations

import argparse
import json
import sys

from tqdm import tqdm

from realtime.atomic import refuse_overwrite
from realtime.cli.options import (
    add_model_options,
    add_refine_options,
    add_style_options,
    non_negative_int,
)
from realtime.errors import RealtimeError
from realtime.imaging.images import DEFAULT_IMAGE_SIZE


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    image = commands.add_parser(
        "image",
        help="stylise images or folders of images",
        description="Stylise images. INPUT is a file, a folder (every image in it), - (stdin) or sample:NAME.",
    )
    image.add_argument("inputs", nargs="+", metavar="INPUT")
    image.add_argument(
        "-o", "--output", required=True, help="output file, - (stdout, PNG) or folder for several inputs"
    )
    image.add_argument(
        "--size",
        type=non_negative_int,
        default=DEFAULT_IMAGE_SIZE,
        help=f"downscale larger images to this long side (default {DEFAULT_IMAGE_SIZE}; 0 = full size)",
    )
    image.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_style_options(image)
    add_refine_options(image)
    add_model_options(image)
    image.set_defaults(run=_run_image)

    styles = commands.add_parser("styles", help="list the built-in styles", description="List the built-in styles.")
    add_model_options(styles)
    styles.add_argument("--json", action="store_true", help="print the list as JSON")
    styles.set_defaults(run=_run_styles)


def _run_image(args: argparse.Namespace) -> int:
    from realtime.device import resolve_device
    from realtime.runtimes.stylizer import Stylizer
    from realtime.stills import plan_jobs, stylize_file

    if args.json and args.output == "-":
        raise RealtimeError("--json and -o - both want standard output; choose one")
    jobs = plan_jobs(args.inputs, args.output)
    for job in jobs:
        refuse_overwrite(job.output, [spec.source for spec in args.style], "the style image")
    device = resolve_device(args.device)
    # Eager on CUDA: compiling the fast path for a still's size costs more than hundreds of eager renders.
    # A CPU keeps its default, onnxruntime.
    optimize = False if device.type == "cuda" else None
    stylizer = Stylizer.load(args.weights, str(device), args.style_size, optimize=optimize, model=args.model)
    stylizer.refine_styles(args.refine, args.vgg, progress=True)
    stylizer.set_style(args.style)
    stylizer.strength = args.strength
    stylizer.preserve_color = args.preserve_color

    results, failures = [], []
    for job in tqdm(jobs, desc="images", unit="img", disable=len(jobs) < 2, file=sys.stderr):
        try:
            result = stylize_file(stylizer, job, args.size)
        except RealtimeError as exc:
            if len(jobs) == 1:
                raise
            tqdm.write(f"realtime: error: {exc}", file=sys.stderr)
            failures.append({"input": job.source, "error": str(exc)})
            continue
        results.append(result)
        if result.downscaled:
            tqdm.write(
                f"realtime: note: {job.source} was larger than --size {args.size}; output is "
                f"{result.width}×{result.height}",
                file=sys.stderr,
            )
    if args.json:
        summary = {
            "device": str(stylizer.device),
            "weights": stylizer.weights.source,
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
    return 2 if failures else 0


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
