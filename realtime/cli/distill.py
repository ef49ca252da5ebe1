"""`realtime distill`: teach a small generator to paint what a large one paints (the fast model's recipe)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from realtime.cli.options import add_device_option, int_list, positive_int
from realtime.distillation.settings import DistillConfig
from realtime.errors import RealtimeError
from realtime.model.shapes import MODELS

# The schedule and the loss weights: (option, type, what it sets).
TUNABLES = (
    ("steps", positive_int, "optimiser steps in all"),
    ("batch", positive_int, "crops per step"),
    ("crop", positive_int, "crop side in pixels"),
    ("style_side", positive_int, "long side the built-in styles' pictures are encoded at"),
    ("lr", float, "Adam learning rate"),
    ("lr_decay_from", float, "fraction of the steps after which the learning rate decays to a tenth"),
    ("edge_weight", float, "weight of the edge term"),
    ("palette_weight", float, "weight of the palette term"),
    ("feature_weight", float, "weight of the teacher's trunk features (0: no teacher pass in a step)"),
    ("texture_weight", float, "weight of the VGG texture term (0: no VGG needed)"),
    ("texture_every", positive_int, "steps between texture terms"),
    ("texture_crop", positive_int, "side of the window the texture term scores"),
    ("val_every", positive_int, "steps between validations"),
    ("checkpoint_every", positive_int, "steps between checkpoints"),
    ("seed", int, "seed of the pictures' plan, the student's start and its batches"),
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = DistillConfig(pictures="", out="", checkpoint="")
    distill = commands.add_parser(
        "distill",
        help="teach a small generator (the fast model) to paint what the full one paints",
        description="Distillation in two stages. With --content, the teacher first paints crops of those photos "
        "in the built-in styles (--styles: their pictures, named as the teacher's bank) and in --paintings through "
        "its style head, into --pictures (resumable: only missing shards are painted). Then the student trains on "
        "those pictures: pixels, edges, and every --texture-every steps the VGG texture ratio. Checkpoints every "
        "--checkpoint-every steps, at --time-limit and on Ctrl-C, writing --out each time; --resume continues.",
    )
    distill.add_argument("--pictures", metavar="DIR", required=True, help="folder of the teacher's pictures")
    distill.add_argument("--out", metavar="PATH", required=True, help="the student's weights file (.safetensors)")
    distill.add_argument("--teacher", metavar="WEIGHTS", help="teacher weights (default: the shipped full model)")
    distill.add_argument("--content", metavar="DIR", help="paint the teacher's pictures of these photos first")
    distill.add_argument("--styles", metavar="DIR", help="the built-in styles' pictures, named as the teacher's bank")
    distill.add_argument("--paintings", metavar="DIR", help="more paintings, through the teacher's style head")
    distill.add_argument(
        "--holdout", type=int, default=100, metavar="N", help="paintings kept out, evenly spaced by name (default 100)"
    )
    distill.add_argument(
        "--per-photo",
        type=int_list,
        default=(2, 1),
        metavar="B,P",
        help="pictures per photo in built-in styles and in paintings (default 2,1)",
    )
    distill.add_argument("--size", type=positive_int, default=256, metavar="PX", help="picture side (default 256)")
    distill.add_argument(
        "--vgg", metavar="PATH", help="VGG16 features file for the texture term (default: torchvision's)"
    )
    distill.add_argument(
        "--init",
        metavar="WEIGHTS",
        help="start the student as this generator (e.g. msgnet21-light): the parts of the same shape copied, the "
        "others fitted to paint as it does",
    )
    distill.add_argument("--resume", metavar="CKPT", help="continue from this checkpoint")
    distill.add_argument("--checkpoint", metavar="PATH", help="checkpoint file (default: OUT with .ckpt.pt)")
    distill.add_argument(
        "--time-limit", type=float, default=0.0, metavar="MIN", help="stop after this many minutes (0 = none)"
    )
    distill.add_argument(
        "--shape",
        type=int_list,
        default=tuple(MODELS["fast"].values()),
        metavar="N,...",
        help=f"student shape {','.join(MODELS['fast'])} (default the fast model's: "
        f"{','.join(map(str, MODELS['fast'].values()))})",
    )
    for name, kind, meaning in TUNABLES:
        default = getattr(defaults, name)
        distill.add_argument(
            f"--{name.replace('_', '-')}",
            type=kind,
            default=default,
            metavar="N",
            help=f"{meaning} (default {default:g})",
        )
    distill.add_argument(
        "--texture-layers",
        type=lambda text: tuple(text.split(",")),
        default=defaults.texture_layers,
        metavar="L,...",
        help=f"VGG layers of the texture term (default {','.join(defaults.texture_layers)})",
    )
    add_device_option(distill)
    distill.add_argument("--quiet", action="store_true", help="no progress bars")
    distill.set_defaults(run=_run_distill)


def _run_distill(args: argparse.Namespace) -> int:
    if len(args.shape) != len(MODELS["fast"]):
        raise RealtimeError(f"--shape takes {len(MODELS['fast'])} numbers: {','.join(MODELS['fast'])}")
    if len(args.per_photo) != 2:
        raise RealtimeError("--per-photo takes two numbers: built-in pictures and painting pictures per photo")
    config = DistillConfig(
        pictures=args.pictures,
        out=args.out,
        checkpoint=args.checkpoint or args.resume or str(Path(args.out).with_suffix(".ckpt.pt")),
        vgg=args.vgg,
        init=args.init,
        shape=dict(zip(MODELS["fast"], args.shape)),
        texture_layers=args.texture_layers,
        **{name: getattr(args, name) for name, _, _ in TUNABLES},
    )
    config.validate()
    from realtime.distillation.run import distill

    status = distill(
        config,
        teacher=args.teacher,
        content=args.content,
        styles=args.styles,
        paintings=args.paintings,
        holdout=args.holdout,
        per_photo=tuple(args.per_photo),
        size=args.size,
        resume=args.resume,
        time_limit=args.time_limit * 60.0,
        progress=not args.quiet,
        device=args.device,
    )
    print(f"realtime: {status}; weights: {config.out}, checkpoint: {config.checkpoint}", file=sys.stderr)
    return 130 if status == "stopped" else 0
