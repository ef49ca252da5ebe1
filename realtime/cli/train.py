"""`realtime train`: training, checkpoint export and weight averaging; options not given stay unset, so --resume keeps the run's own."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from realtime.cli.options import float_list, int_list, non_negative_int, positive_int
from realtime.errors import RealtimeError
from realtime.model.shapes import MODELS
from realtime.perceptual.layers import STYLE_LAYERS
from realtime.training.config import LOSSES, PRECISIONS, TRAIN_OPTIONS, TrainConfig


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = TrainConfig()
    train = commands.add_parser(
        "train",
        help="train MSG-Net weights on your photos and styles (CUDA GPU recommended)",
        description="Train MSG-Net (Zhang & Dana 2017): a frozen VGG16 perceptual loss, one style per sample. "
        "Checkpoints every --checkpoint-every steps, at --time-limit and on Ctrl-C; --resume continues a run "
        "(options given again override the checkpoint's). --export CKPT only writes a checkpoint's weights file.",
        argument_default=argparse.SUPPRESS,
    )
    train.add_argument("--content", metavar="DIR", help="folder of content photos")
    train.add_argument(
        "--styles", metavar="DIR", help="folder of style images; their file names become the style names"
    )
    train.add_argument(
        "--vgg", metavar="PATH", help="local VGG16 features state dict (default: torchvision's ImageNet VGG16)"
    )
    train.add_argument("--out", metavar="PATH", help="weights file (.safetensors) written when training finishes")
    train.add_argument("--resume", metavar="CKPT", default=None, help="continue from this checkpoint")
    train.add_argument("--export", metavar="CKPT", default=None, help="write CKPT's generator to --out and stop")
    train.add_argument(
        "--average",
        metavar="WEIGHTS[:FRACTION]",
        action="append",
        default=None,
        help="give twice or more: write the weighted average of these weights files' generators to --out "
        "(WiSE-FT: a fine-tune averaged with the weights it started from), the style bank from --styles, and stop",
    )
    train.add_argument(
        "--checkpoint", metavar="PATH", help="checkpoint file (default: --resume's, else OUT with .ckpt.pt)"
    )
    train.add_argument(
        "--log", metavar="PATH", help="JSON log of losses and validation (default: CHECKPOINT with .log.json)"
    )
    train.add_argument(
        "--steps", type=positive_int, metavar="N", help=f"total optimiser steps (default {defaults.steps})"
    )
    train.add_argument("--batch", type=positive_int, metavar="N", help=f"photos per step (default {defaults.batch})")
    train.add_argument(
        "--styles-per-batch",
        type=non_negative_int,
        metavar="N",
        help="distinct styles per batch, each shared by BATCH/N samples (default 0 = a style per sample)",
    )
    train.add_argument(
        "--size", type=positive_int, metavar="PX", help=f"content crop side in pixels (default {defaults.size})"
    )
    train.add_argument(
        "--style-sizes",
        type=int_list,
        metavar="A,B,...",
        help=f"long sides style images are trained at, one at random per step (default {_ints(defaults.style_sizes)})",
    )
    train.add_argument(
        "--style-size",
        type=positive_int,
        metavar="PX",
        help=f"long side for the exported style bank and validation targets (default {defaults.style_size})",
    )
    train.add_argument("--content-weight", type=float, metavar="W", help=f"default {defaults.content_weight:g}")
    train.add_argument("--style-weight", type=float, metavar="W", help=f"default {defaults.style_weight:g}")
    train.add_argument(
        "--style-layer-weights",
        type=float_list,
        metavar="W1,...",
        help=f"each style layer's weight, {', '.join(STYLE_LAYERS)} "
        f"(default {','.join(f'{w:g}' for w in defaults.style_layer_weights)})",
    )
    train.add_argument(
        "--loss",
        choices=LOSSES,
        help="gram: the paper's content and Gram-matrix errors; ratio: each sample's Gram distance over its "
        "photo's own and the relative content change, so every painting weighs alike (default gram)",
    )
    train.add_argument(
        "--style-head",
        type=non_negative_int,
        metavar="N",
        help="train only a style head of N channels for the --init generator, which stays as it is: it corrects "
        "the encoder's targets of paintings the generator never saw (needs --init; default 0 = none)",
    )
    train.add_argument(
        "--tv-weight", type=float, metavar="W", help=f"total-variation weight (default {defaults.tv_weight:g})"
    )
    train.add_argument("--lr", type=float, help=f"Adam learning rate (default {defaults.lr:g})")
    train.add_argument(
        "--lr-decay-from",
        type=float,
        metavar="FRACTION",
        help=f"decay the learning rate linearly to a tenth after this fraction of the steps (default {defaults.lr_decay_from:g})",
    )
    train.add_argument(
        "--model",
        choices=tuple(MODELS),
        help="generator shape: full = the paper's, light = narrow enough for a CPU (default full; "
        "--ngf, --n-blocks, --width and --out-kernel override parts of it)",
    )
    train.add_argument("--ngf", type=positive_int, metavar="N", help=f"generator width (default {defaults.ngf})")
    train.add_argument(
        "--n-blocks", type=positive_int, metavar="N", help=f"residual blocks (default {defaults.n_blocks})"
    )
    train.add_argument(
        "--width",
        type=positive_int,
        metavar="N",
        help=f"channels at full resolution, a multiple of 4 (default {defaults.width})",
    )
    train.add_argument(
        "--out-kernel", type=positive_int, metavar="K", help=f"odd output kernel size (default {defaults.out_kernel})"
    )
    train.add_argument("--seed", type=int, metavar="N", help=f"default {defaults.seed}")
    train.add_argument("--precision", choices=PRECISIONS, help="auto = bf16 on CUDA, fp32 on CPU")
    train.add_argument(
        "--init",
        metavar="WEIGHTS",
        help="start from this weights file's generator (fine-tuning; same shape; ignored by --resume)",
    )
    train.add_argument(
        "--teacher",
        metavar="WEIGHTS",
        help="hold the built-in styles (--styles) to this generator's output (a pixel loss), e.g. the weights a "
        "fine-tune starts from, so learning --extra-styles does not cost the built-ins",
    )
    train.add_argument(
        "--teacher-weight",
        type=float,
        metavar="W",
        help=f"weight of the teacher loss (default {defaults.teacher_weight:g})",
    )
    train.add_argument("--extra-styles", metavar="DIR", help="more paintings to train on (not in the style bank)")
    train.add_argument(
        "--extra-fraction",
        type=float,
        metavar="P",
        help=f"chance a sample's style is an extra one (default {defaults.extra_fraction:g})",
    )
    train.add_argument(
        "--holdout",
        type=non_negative_int,
        metavar="N",
        help="extra styles kept out of training for validation (default 0)",
    )
    train.add_argument(
        "--val-count",
        type=non_negative_int,
        metavar="N",
        help=f"content photos held out (default {defaults.val_count})",
    )
    train.add_argument(
        "--val-every",
        type=non_negative_int,
        metavar="N",
        help=f"steps between validations (default {defaults.val_every})",
    )
    train.add_argument(
        "--checkpoint-every",
        type=non_negative_int,
        metavar="N",
        help=f"steps between checkpoints (default {defaults.checkpoint_every})",
    )
    train.add_argument(
        "--export-every",
        type=non_negative_int,
        metavar="N",
        help="also write the weights every N steps, as OUT with .stepN before the suffix: averaging the last few "
        "with --average smooths a run's end (default 0 = only at the end)",
    )
    train.add_argument(
        "--part-mb",
        type=float,
        metavar="MIB",
        help="split checkpoints into files of at most this many MiB, to copy them through something that caps "
        "file sizes; resuming reads the parts back (default 0 = one file)",
    )
    train.add_argument(
        "--compact-checkpoint",
        action=argparse.BooleanOptionalAction,
        help="store Adam's moments as bf16 (a third smaller; resumes are then not bit-exact)",
    )
    train.add_argument(
        "--time-limit", type=float, default=None, metavar="MINUTES", help="checkpoint and stop before this"
    )
    train.add_argument(
        "--chunk-steps", type=positive_int, metavar="N", default=None, help="checkpoint and stop after this many steps"
    )
    train.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="torch.compile the step (default: on CUDA only)",
    )
    train.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    train.add_argument("--quiet", action="store_true", default=False, help="no progress bar or validation lines")
    train.add_argument("--json", action="store_true", default=False, help="print a JSON summary on stdout")
    train.set_defaults(run=_run_train)


def _ints(values: Sequence[int]) -> str:
    return ",".join(str(v) for v in values)


def _run_train(args: argparse.Namespace) -> int:
    options = {name: value for name, value in vars(args).items() if name in TRAIN_OPTIONS}
    for name, value in MODELS.get(getattr(args, "model", ""), {}).items():
        options.setdefault(name, value)
    if args.export is not None:
        from realtime.training.export import export_checkpoint

        if "out" not in options:
            raise RealtimeError("--export needs --out PATH for the weights file")
        weights = export_checkpoint(
            args.export,
            options["out"],
            options.get("styles"),
            options.get("vgg"),
            options.get("style_size"),
            args.device,
        )
        summary = {"out": options["out"], "styles": weights.bank.names(), "steps": weights.training["steps"]}
        if args.json:
            print(json.dumps(summary))
        print(
            f"realtime: wrote {options['out']}: generator after {summary['steps']} steps, "
            f"{len(summary['styles'])} built-in styles",
            file=sys.stderr,
        )
        return 0
    if args.average is not None:
        return _run_average(args.average, options)
    from realtime.training.run import run_training

    result = run_training(
        options, args.resume, args.device, args.compile, args.time_limit, args.chunk_steps, progress=not args.quiet
    )
    if args.json:
        print(
            json.dumps(
                {
                    "status": result.status,
                    "step": result.step,
                    "steps": result.steps,
                    "images_seen": result.images_seen,
                    "train_minutes": round(result.train_seconds / 60, 2),
                    "images_per_second": result.images_per_second,
                    "checkpoint": str(result.checkpoint),
                    "log": str(result.log),
                    "out": str(result.out) if result.out else None,
                    "val": result.last_val,
                }
            )
        )
    if result.status == "finished":
        where = f"weights: {result.out}" if result.out else f"checkpoint: {result.checkpoint} (no --out given)"
        print(
            f"realtime: finished {result.steps} steps ({result.images_seen} images, "
            f"{result.train_seconds / 60:.1f} min of training); {where}",
            file=sys.stderr,
        )
        return 0
    print(
        f"realtime: {result.status} at step {result.step} of {result.steps}; checkpoint saved: "
        f"{result.checkpoint} (continue with --resume {result.checkpoint})",
        file=sys.stderr,
    )
    return 130 if result.status == "interrupted" else 0


def _run_average(parts: list[str], options: dict[str, Any]) -> int:
    from realtime.model.averaging import write_average

    if "out" not in options or "styles" not in options:
        raise RealtimeError("--average needs --out PATH and --styles DIR (the built-in styles' images)")
    weights = write_average(
        parts, options["styles"], options["out"], options.get("style_size", TrainConfig().style_size)
    )
    shares = ", ".join(f"{part['file']} × {part['fraction']:.3g}" for part in weights.training["average_of"])
    print(f"realtime: wrote {options['out']}: {shares}; {len(weights.bank)} built-in styles", file=sys.stderr)
    return 0
