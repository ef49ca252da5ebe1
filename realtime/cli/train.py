"""`realtime train`: training, checkpoint export and weight averaging; options not given stay unset, so --resume keeps the run's own.

The run's options are built from `TrainConfig`'s fields, where each default and help is stated once.
"""

from __future__ import annotations

import argparse
import json
import sys
from argparse import BooleanOptionalAction
from dataclasses import Field, fields
from typing import Any

from realtime.cli.options import add_device_option, float_list, int_list, non_negative_int, positive_int
from realtime.errors import RealtimeError
from realtime.model.shapes import MODELS
from realtime.training.config import OPTION_GROUPS, TRAIN_OPTIONS, TrainConfig, option_help

# How a field's annotation (text: the config module postpones annotations) parses; str unless listed.
PARSERS = {"float": float, "int": int, "tuple[int, ...]": int_list, "tuple[float, ...]": float_list}
BOUNDED = {0: non_negative_int, 1: positive_int}
MODEL_HELP = (
    "generator shape: full = the paper's, light = narrow enough for a CPU (default full; "
    "--ngf, --n-blocks, --width and --out-kernel override parts of it)"
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    train = commands.add_parser(
        "train",
        help="train MSG-Net weights on your photos and styles (CUDA GPU recommended)",
        description="Train MSG-Net (Zhang & Dana 2017): a frozen VGG16 perceptual loss, one style per sample. "
        "Checkpoints every --checkpoint-every steps, at --time-limit and on Ctrl-C; --resume continues a run "
        "(options given again override the checkpoint's). --export CKPT only writes a checkpoint's weights file.",
        argument_default=argparse.SUPPRESS,
    )
    add = train.add_argument
    add("--resume", metavar="CKPT", default=None, help="continue from this checkpoint")
    add("--export", metavar="CKPT", default=None, help="write CKPT's generator to --out and stop")
    add(
        "--average",
        metavar="WEIGHTS[:FRACTION]",
        action="append",
        default=None,
        help="give twice or more: write the weighted average of these weights files' generators to --out "
        "(WiSE-FT: a fine-tune averaged with the weights it started from), the style bank from --styles, and stop",
    )
    add("--time-limit", type=float, default=None, metavar="MINUTES", help="checkpoint and stop before this")
    add("--chunk-steps", type=positive_int, default=None, metavar="N", help="checkpoint and stop after N steps")
    add("--compile", action=BooleanOptionalAction, default=None, help="torch.compile the step (default: on CUDA only)")
    add_device_option(train)
    add("--quiet", action="store_true", default=False, help="no progress bar or validation lines")
    add("--json", action="store_true", default=False, help="print a JSON summary on stdout")
    for title, options in OPTION_GROUPS:
        group = train.add_argument_group(f"{title} options")
        if title == "generator":
            group.add_argument("--model", choices=tuple(MODELS), help=MODEL_HELP)
        for field in fields(options):
            if field.metadata.get("cli", False):
                group.add_argument(f"--{field.name.replace('_', '-')}", **_argument(field))
    train.set_defaults(run=_run_train)


def _argument(field: Field) -> dict[str, Any]:
    """argparse's keywords for a config field: parsed as its annotation and bound say, its help with its default."""
    if field.type == "bool":
        return {"action": BooleanOptionalAction, "help": option_help(field)}
    meta = field.metadata
    parse = BOUNDED.get(meta["least"], PARSERS.get(field.type, str))
    return {"type": parse, "metavar": meta["metavar"], "choices": meta["choices"], "help": option_help(field)}


def _run_train(args: argparse.Namespace) -> int:
    options = {name: value for name, value in vars(args).items() if name in TRAIN_OPTIONS}
    for name, value in MODELS.get(getattr(args, "model", ""), {}).items():
        options.setdefault(name, value)
    if args.export is not None:
        return _run_export(args, options)
    if args.average is not None:
        return _run_average(args.average, options)
    from realtime.training.run import run_training

    result = run_training(
        options, args.resume, args.device, args.compile, args.time_limit, args.chunk_steps, not args.quiet
    )
    if args.json:
        print(json.dumps(result.summary()))
    print(f"realtime: {result.message()}", file=sys.stderr)
    return 130 if result.status == "interrupted" else 0


def _run_export(args: argparse.Namespace, options: dict[str, Any]) -> int:
    from realtime.training.export import export_checkpoint

    if "out" not in options:
        raise RealtimeError("--export needs --out PATH for the weights file")
    out, get = options["out"], options.get
    weights = export_checkpoint(args.export, out, get("styles"), get("vgg"), get("style_size"), args.device)
    steps, styles = weights.training["steps"], weights.bank.names()
    if args.json:
        print(json.dumps({"out": out, "styles": styles, "steps": steps}))
    print(f"realtime: wrote {out}: generator after {steps} steps, {len(styles)} built-in styles", file=sys.stderr)
    return 0


def _run_average(parts: list[str], options: dict[str, Any]) -> int:
    from realtime.model.averaging import write_average

    if "out" not in options or "styles" not in options:
        raise RealtimeError("--average needs --out PATH and --styles DIR (the built-in styles' images)")
    style_size = options.get("style_size", TrainConfig.style_size)
    weights = write_average(parts, options["styles"], options["out"], style_size)
    shares = ", ".join(f"{part['file']} × {part['fraction']:.3g}" for part in weights.training["average_of"])
    print(f"realtime: wrote {options['out']}: {shares}; {len(weights.bank)} built-in styles", file=sys.stderr)
    return 0
