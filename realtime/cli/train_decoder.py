"""`realtime train-decoder`: train the WCT decoders; options not given stay unset, so --resume keeps the run's own."""

from __future__ import annotations

import argparse
import json
import sys

from realtime.cli.options import int_list, non_negative_int, positive_float, positive_int, wct_levels
from realtime.wct.settings import LEVELS, PRECISIONS, DecoderTrainConfig


def _levels(text: str) -> tuple[str, ...]:
    """Levels in training order: shallow first."""
    return tuple(reversed(wct_levels(text)))


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = DecoderTrainConfig()
    train = commands.add_parser(
        "train-decoder",
        help="train the decoders WCT (--method wct) turns VGG16 features back into pictures with",
        description="Train one decoder per VGG16 level to invert that level's features (pixel + feature "
        "reconstruction loss, Li et al. 2017), shallow levels first. Checkpoints every --checkpoint-every steps, "
        "after each level and on Ctrl-C; --resume continues. The decoders file is written after each level.",
        argument_default=argparse.SUPPRESS,
    )
    train.add_argument("--content", metavar="DIR", help="folder of photos")
    train.add_argument(
        "--vgg",
        metavar="PATH",
        help="local VGG16 features state dict: the VGG the decoders will invert "
        "(default: torchvision's ImageNet VGG16); WCT warns when run with another",
    )
    train.add_argument("--out", metavar="PATH", help="decoders file (.safetensors), written after each level")
    train.add_argument("--resume", metavar="CKPT", default=None, help="continue from this checkpoint")
    train.add_argument("--checkpoint", metavar="PATH", help="checkpoint file (default: OUT with .ckpt.pt)")
    train.add_argument("--log", metavar="PATH", help="JSON log of losses and PSNR (default: CHECKPOINT with .log.json)")
    train.add_argument(
        "--levels",
        type=_levels,
        metavar="L1,L2,...",
        help=f"levels to train (default {','.join(LEVELS)}; also 1–{len(LEVELS)})",
    )
    train.add_argument(
        "--steps",
        type=int_list,
        metavar="N[,N,...]",
        help=f"optimiser steps per level, shallow first, or one count for all (default {','.join(map(str, defaults.steps))})",
    )
    train.add_argument("--batch", type=positive_int, metavar="N", help=f"photos per step (default {defaults.batch})")
    train.add_argument(
        "--size", type=positive_int, metavar="PX", help=f"square crop side, a multiple of 8 (default {defaults.size})"
    )
    train.add_argument("--lr", type=positive_float, help=f"Adam learning rate (default {defaults.lr:g})")
    train.add_argument(
        "--lr-decay-from",
        type=positive_float,
        metavar="FRACTION",
        help=f"decay the rate linearly to a tenth after this fraction of a level's steps (default {defaults.lr_decay_from:g})",
    )
    train.add_argument(
        "--feature-weight",
        type=float,
        metavar="W",
        help=f"weight of the feature reconstruction next to the pixel one (default {defaults.feature_weight:g})",
    )
    train.add_argument(
        "--width",
        type=positive_float,
        metavar="F",
        help=f"decoder channels as a fraction of the VGG's (default {defaults.width:g})",
    )
    train.add_argument("--seed", type=int, metavar="N", help=f"default {defaults.seed}")
    train.add_argument("--precision", choices=PRECISIONS, help="auto = bf16 where the hardware has it, else fp32")
    train.add_argument(
        "--val-every",
        type=non_negative_int,
        metavar="N",
        help=f"steps between held-out PSNR measurements (default {defaults.val_every})",
    )
    train.add_argument(
        "--checkpoint-every",
        type=non_negative_int,
        metavar="N",
        help=f"steps between checkpoints (default {defaults.checkpoint_every})",
    )
    train.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    train.add_argument("--quiet", action="store_true", default=False, help="no progress bar")
    train.add_argument("--json", action="store_true", default=False, help="print a JSON summary on stdout")
    train.set_defaults(run=_run_train_decoder)


def _run_train_decoder(args: argparse.Namespace) -> int:
    from realtime.wct.train import run_decoder_training

    reserved = {"resume", "device", "quiet", "json", "run", "command"}
    options = {name: value for name, value in vars(args).items() if name not in reserved}
    result = run_decoder_training(options, args.resume, args.device, progress=not args.quiet)
    scores = ", ".join(f"{level} {psnr:.2f} dB" for level, psnr in result.psnr.items())
    if args.json:
        print(
            json.dumps(
                {
                    "status": result.status,
                    "levels": result.levels_done,
                    "psnr": result.psnr,
                    "checkpoint": str(result.checkpoint),
                    "out": str(result.out) if result.out else None,
                }
            )
        )
    if result.status == "finished":
        where = f"decoders: {result.out}" if result.out else f"checkpoint: {result.checkpoint} (no --out given)"
        print(f"realtime: trained {', '.join(result.levels_done)} (held-out PSNR {scores}); {where}", file=sys.stderr)
        return 0
    print(
        f"realtime: interrupted; checkpoint saved: {result.checkpoint} (continue with --resume {result.checkpoint})",
        file=sys.stderr,
    )
    return 130
