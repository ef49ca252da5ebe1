"""Options and argparse value types shared by the subcommands, so each command says them the same way.

Like every module of the command line, it imports only torch-free modules at the top, so `--help` is instant;
the commands import the heavy ones when they run.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

from tqdm import tqdm

from realtime.errors import RealtimeError
from realtime.live.settings import FRAME_BUDGET_MS, KEYFRAME_MAX_MS, MIN_LIVE_FPS
from realtime.model.shapes import MODEL_CHOICES
from realtime.model.style_spec import DEFAULT_STYLE_SIZE, StyleSpec
from realtime.perceptual.settings import DEFAULT_REFINE_STEPS
from realtime.runtimes.settings import DEFAULT_STROKE, MAX_STRENGTH, MAX_STROKE, STROKE_REFERENCE
from realtime.video.settings import TimedStyle
from realtime.wct.settings import parse_levels


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line rather than the usage block plus a line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _number(convert: Callable[[str], float], ok: Callable[[float], bool], requirement: str) -> Callable[[str], float]:
    """An argparse type: `convert` the text, then insist on a finite value that is `ok`."""

    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
        return value

    return parse


non_negative_int = _number(int, lambda v: v >= 0, "0 or more")
positive_int = _number(int, lambda v: v > 0, "1 or more")
positive_float = _number(float, lambda v: v > 0, "a positive number")
strength = _number(float, lambda v: 0 <= v <= MAX_STRENGTH, f"between 0 and {MAX_STRENGTH:g}")
stroke = _number(float, lambda v: 0 <= v <= MAX_STROKE, f"between 0 and {MAX_STROKE:g}")
stabilize_strength = _number(float, lambda v: 0 <= v < 1, "at least 0 and below 1")
fade_seconds = _number(float, lambda v: v >= 0, "0 or more seconds")
fraction = _number(float, lambda v: 0 <= v <= 1, "between 0 and 1")
image_quality = _number(int, lambda v: 1 <= v <= 100, "between 1 and 100")


def int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers like 256,384,512, got '{text}'"
        ) from None
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"sizes must be 1 or more, got '{text}'")
    return values


def float_list(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers like 1,1e3,1e6, got '{text}'") from None


def _parsed_by(parse: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse type from one of our parsers: its RealtimeError message becomes the usage error."""

    def convert(text: str) -> object:
        try:
            return parse(text)
        except RealtimeError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


style_spec = _parsed_by(StyleSpec.parse)
timed_style = _parsed_by(TimedStyle.parse)
wct_levels = _parsed_by(parse_levels)


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")


def add_model_options(parser: argparse.ArgumentParser, default: str = "auto") -> None:
    """--weights, --model and --device; `default` is the model a command picks unless told (stills: full)."""
    parser.add_argument(
        "--weights",
        help="weights file, or the name of a shipped one (msgnet21-wikiart); default: the shipped weights of --model",
    )
    auto = (
        "auto = full on CUDA and on CPUs with Intel AMX, else fast where its weights are in the weights folder, "
        "else light; live and demo time them on this CPU and keep the best picture that runs live: the full model "
        f"on every frame within {FRAME_BUDGET_MS:g} ms, else the fast one, else the full one's keyframes within "
        f"{KEYFRAME_MAX_MS:g} ms, else the "
        f"fast or light one (serve: the full model at {MIN_LIVE_FPS:g} fps, else the fast or light one)"
    )
    parser.add_argument(
        "--model",
        choices=MODEL_CHOICES,
        default=default,
        help=f"shipped generator: full (the paper's), light (runs live on a CPU), fast (a student of the full one "
        f"that `realtime distill` trains; none ships yet); {auto} (default {default})",
    )
    add_device_option(parser)


def add_style_options(
    parser: argparse.ArgumentParser,
    style_type: Callable[[str], object] = style_spec,
    style_metavar: str = "NAME|PATH[:WEIGHT]",
    style_help: str = "built-in style name, style image or sample:NAME; repeat to blend (a.jpg:0.7 --style b.jpg:0.3)",
    required: bool = True,
) -> None:
    parser.add_argument(
        "--style", action="append", required=required, type=style_type, metavar=style_metavar, help=style_help
    )
    parser.add_argument(
        "--strength",
        type=strength,
        default=1.0,
        help=f"0 = photo, 1 = the style as trained (default), up to {MAX_STRENGTH:g} = bolder than the painting",
    )
    parser.add_argument(
        "--stroke",
        type=stroke,
        default=DEFAULT_STROKE,
        metavar="S",
        help=f"brush-stroke size relative to the picture, the same at any picture size: 1 (default) = as on a "
        f"{STROKE_REFERENCE} px picture, 2 = twice as large; 0 = the finest (MSG-Net and WCT, not Gatys)",
    )
    parser.add_argument("--preserve-color", action="store_true", help="stylise luminance, keep the photo's colours")
    parser.add_argument(
        "--no-palette",
        dest="palette",
        action="store_false",
        help="keep MSG-Net's own colours for a style picture (default: recolour to the picture's palette)",
    )
    parser.add_argument(
        "--style-size",
        type=positive_int,
        default=DEFAULT_STYLE_SIZE,
        help=f"long side a style image is scaled to before its target is computed (default {DEFAULT_STYLE_SIZE})",
    )


def look_settings(args: argparse.Namespace) -> dict[str, object]:
    """What `add_style_options` asked for, as `Stylizer.look`'s keyword arguments: the one place a command's
    arguments become a look."""
    return {
        "strength": args.strength,
        "stroke": args.stroke,
        "preserve_color": args.preserve_color,
        "palette": args.palette,
    }


def add_refine_options(parser: argparse.ArgumentParser, vgg: bool = True, auto: bool = False) -> None:
    """`--refine [STEPS]`, and `--vgg` for its loss network unless the command has one already; with `auto`,
    the default (None) leaves it to `default_refine_steps`."""
    default = (
        f"default: {DEFAULT_REFINE_STEPS} when a style is a picture and a VGG16 is at hand, else 0"
        if auto
        else "default 0"
    )
    parser.add_argument(
        "--refine",
        type=non_negative_int,
        nargs="?",
        const=DEFAULT_REFINE_STEPS,
        default=None if auto else 0,
        metavar="STEPS",
        help=f"fit each style image's target in STEPS gradient steps (--refine alone = {DEFAULT_REFINE_STEPS}; "
        f"{default}): paintings the generator never trained on transfer far more fully; seconds per painting, "
        "tens on a CPU, once (cached); needs VGG16 (--vgg or torchvision's download); built-in styles are unaffected",
    )
    if vgg:
        parser.add_argument(
            "--vgg",
            metavar="PATH",
            help="local VGG16 features state dict for --refine (default: torchvision's ImageNet VGG16)",
        )


class BuildNotes:
    """A command's notes from loading and compiling generators (seconds, once per working size), printed above
    any progress bar, each once: a command that times one model and keeps another hears the same runtime twice."""

    def __init__(self) -> None:
        self._said: set[str] = set()

    def __call__(self, message: str) -> None:
        if message not in self._said:
            self._said.add(message)
            tqdm.write(f"realtime: {message}", file=sys.stderr)
