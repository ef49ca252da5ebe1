"""The `realtime` command: argument parsing and messages over the Python API, nothing more.

Exit codes: 0 success, 2 bad usage or bad input (one line on stderr), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence

import torch
from tqdm import tqdm

from .errors import RealtimeError
from .stills import DEFAULT_IMAGE_SIZE, plan_jobs, stylize_file
from .stylizer import Stylizer
from .targets import DEFAULT_STYLE_SIZE, StyleSpec
from .weights import default_weights_path, load_weights, untrained_weights


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line rather than the usage block plus a line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _style_spec(text: str) -> StyleSpec:
    try:
        return StyleSpec.parse(text)
    except RealtimeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _strength(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", help="weights file (default: the shipped weights)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")


def _add_style_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--style",
        action="append",
        required=True,
        type=_style_spec,
        metavar="NAME|PATH[:WEIGHT]",
        help="built-in style name, style image or sample:NAME; repeat to blend (a.jpg:0.7 --style b.jpg:0.3)",
    )
    parser.add_argument("--strength", type=_strength, default=1.0, help="0 = photo, 1 = full style (default 1)")
    parser.add_argument("--preserve-color", action="store_true", help="stylise luminance, keep the photo's colours")
    parser.add_argument(
        "--style-size",
        type=_positive_int,
        default=DEFAULT_STYLE_SIZE,
        help=f"long side a style image is scaled to before its target is computed (default {DEFAULT_STYLE_SIZE})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="realtime", description="Real-time style transfer with MSG-Net.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    image = commands.add_parser(
        "image",
        help="stylise images or folders of images",
        description="Stylise images. INPUT is a file, a folder (every image in it), - (stdin) or sample:NAME.",
    )
    image.add_argument("inputs", nargs="+", metavar="INPUT")
    image.add_argument("-o", "--output", required=True, help="output file, - (stdout, PNG) or folder for several inputs")
    image.add_argument(
        "--size",
        type=_non_negative_int,
        default=DEFAULT_IMAGE_SIZE,
        help=f"downscale larger images to this long side (default {DEFAULT_IMAGE_SIZE}; 0 = full size)",
    )
    image.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    _add_style_options(image)
    _add_model_options(image)
    image.set_defaults(run=_run_image)

    styles = commands.add_parser("styles", help="list the built-in styles", description="List the built-in styles.")
    styles.add_argument("--weights", help="weights file (default: the shipped weights)")
    styles.add_argument("--json", action="store_true", help="print the list as JSON")
    styles.set_defaults(run=_run_styles)
    return parser


def _run_image(args: argparse.Namespace) -> int:
    if args.json and args.output == "-":
        raise RealtimeError("--json and -o - both want standard output; choose one")
    jobs = plan_jobs(args.inputs, args.output)
    stylizer = Stylizer.load(args.weights, args.device, args.style_size)
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
                {"input": r.source, "output": r.output, "width": r.width, "height": r.height, "seconds": round(r.seconds, 4)}
                for r in results
            ],
            "failed": failures,
        }
        print(json.dumps(summary, indent=2))
    return 2 if failures else 0


def _run_styles(args: argparse.Namespace) -> int:
    path = args.weights or default_weights_path()
    weights = load_weights(path) if path is not None else untrained_weights()
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


def _one_line_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    return f"realtime: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except RealtimeError as exc:
        print(f"realtime: error: {exc}", file=sys.stderr)
        return 2
    except torch.OutOfMemoryError:
        print("realtime: error: out of memory at this size; try a smaller --size", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("realtime: interrupted; no partial output was left behind", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
