"""`realtime batch`: a whole image dataset in seeded random paintings, here or on a Ray cluster; resumable."""

from __future__ import annotations

import argparse
import sys

from realtime.batch.settings import DEFAULT_BATCH, DEFAULT_WEIGHTS, FORMATS, MANIFEST_NAME
from realtime.cli.options import (
    add_device_option,
    add_refine_options,
    image_quality,
    non_negative_int,
    positive_int,
)
from realtime.imaging.images import DEFAULT_IMAGE_SIZE, DEFAULT_QUALITY
from realtime.model.style_spec import DEFAULT_STYLE_SIZE


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    batch = commands.add_parser(
        "batch",
        help="stylise a dataset: every image under a folder in seeded random paintings (resumable; Ray optional)",
        description="Stylise every image under INPUT_DIR (recursively; the folder tree is kept under OUTPUT_DIR) "
        "in --per-image paintings drawn from PAINTINGS_DIR. The draw depends only on --seed and each image's path, "
        f"so any machine and any number of workers give the same outputs. OUTPUT_DIR/{MANIFEST_NAME} lists every "
        "output (input, style, output, seed, status, error); rerunning the command finishes an interrupted job.",
    )
    batch.add_argument("input", metavar="INPUT_DIR")
    batch.add_argument("-o", "--output", required=True, metavar="OUTPUT_DIR", help="folder for the stylised tree")
    batch.add_argument("--styles", required=True, metavar="PAINTINGS_DIR", help="folder of style images (recursive)")
    batch.add_argument(
        "--per-image",
        type=positive_int,
        default=1,
        metavar="K",
        help="paintings per image (default 1: outputs keep the input's name; K > 1: name__painting.ext)",
    )
    batch.add_argument("--seed", type=int, default=0, help="seed of the painting draw (default 0)")
    batch.add_argument(
        "--size",
        type=non_negative_int,
        default=DEFAULT_IMAGE_SIZE,
        help=f"downscale larger images to this long side (default {DEFAULT_IMAGE_SIZE}; 0 = full size)",
    )
    batch.add_argument(
        "--format", choices=FORMATS, default="same", help="output format (default same: each input's extension)"
    )
    batch.add_argument(
        "--quality",
        type=image_quality,
        default=DEFAULT_QUALITY,
        help=f"JPEG/WebP quality 1-100 (default {DEFAULT_QUALITY})",
    )
    batch.add_argument(
        "--weights",
        default=DEFAULT_WEIGHTS,
        help=f"weights file, or the name of a shipped one (default {DEFAULT_WEIGHTS}, made for unseen paintings)",
    )
    add_device_option(batch)
    batch.add_argument(
        "--style-size",
        type=positive_int,
        default=DEFAULT_STYLE_SIZE,
        help=f"long side a painting is scaled to before its target is computed (default {DEFAULT_STYLE_SIZE})",
    )
    add_refine_options(batch)
    batch.add_argument(
        "--no-palette",
        dest="palette",
        action="store_false",
        help="keep the generator's own colours (default: each output in its painting's palette)",
    )
    batch.add_argument(
        "--batch",
        type=positive_int,
        help=f"images per generator call (default {DEFAULT_BATCH['cuda']} on CUDA, {DEFAULT_BATCH['cpu']} on a CPU)",
    )
    batch.add_argument(
        "--ray",
        nargs="?",
        const=True,
        default=False,
        metavar="ADDRESS",
        help="run on Ray: a local Ray (or RAY_ADDRESS), or the cluster at ADDRESS; needs pip install 'realtime[cluster]'",
    )
    batch.add_argument(
        "--workers",
        type=positive_int,
        help="local: decode/encode threads (default one per core); --ray: stylizer actors "
        "(default one per GPU, or one per node without GPUs)",
    )
    batch.set_defaults(run=_run_batch)


def _run_batch(args: argparse.Namespace) -> int:
    from realtime.batch.job import BatchJob, make_runner
    from realtime.batch.plan import Plan
    from realtime.batch.settings import RenderSettings

    settings = RenderSettings(
        weights=args.weights,
        device=args.device,
        size=args.size,
        style_size=args.style_size,
        quality=args.quality,
        refine=args.refine,
        vgg=args.vgg,
        batch=args.batch or 0,
        palette=args.palette,
    )
    runner = make_runner(settings, args.ray, args.workers)
    runner.prepare()  # a missing Ray or weights file is said before listing a million files
    plan = Plan.build(args.input, args.output, args.styles, args.per_image, args.seed, args.format)
    print(
        f"realtime: {len(plan.tasks)} images × {args.per_image} of {len(plan.styles)} paintings = "
        f"{plan.outputs} outputs in {plan.roots.outputs}",
        file=sys.stderr,
    )
    job = BatchJob(plan, settings)
    try:
        summary = job.run(runner)
    except KeyboardInterrupt:
        done = job.summary
        print(
            f"realtime: interrupted with {done.skipped + done.written + done.failed} of {done.outputs} outputs done "
            f"({done.written} written now, {done.failed} failed) as {done.manifest} records them; no partial file "
            "was left behind: run the same command again to finish",
            file=sys.stderr,
        )
        return 130
    failed = f", {summary.failed} failed (reasons in {summary.manifest})" if summary.failed else ""
    print(
        f"realtime: {summary.written} written, {summary.skipped} already done{failed}; "
        f"{summary.seconds:.1f} s, {summary.rate:.2f} images/s ({summary.runner})",
        file=sys.stderr,
    )
    return 0
