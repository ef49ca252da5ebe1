"""`realtime gatys`: one slow, gallery-quality still by optimisation."""

from __future__ import annotations

import argparse
import json
import sys

from realtime.cli.options import add_model_options, non_negative_int, positive_int, style_spec
from realtime.errors import RealtimeError
from realtime.gatys.settings import (
    DEFAULT_ADAM_LR,
    DEFAULT_CONTENT_LAYER,
    DEFAULT_STYLE_WEIGHT,
    DEFAULT_TV_WEIGHT,
    INITS,
    OPTIMIZERS,
    POOLS,
    GatysSettings,
    parse_layer_list,
    parse_weight_list,
)
from realtime.gatys.settings import DEFAULT_SIZE as GATYS_SIZE
from realtime.gatys.settings import DEFAULT_STEPS as GATYS_STEPS
from realtime.imaging.images import check_output_path
from realtime.perceptual.layers import ARCHITECTURES as VGG_ARCHITECTURES
from realtime.perceptual.layers import STYLE_LAYERS


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gatys = commands.add_parser(
        "gatys",
        help="render one image at gallery quality by optimisation (Gatys et al.; slow)",
        description="Optimise an image until its VGG features match the photo's content and the styles' Gram "
        "matrices (Gatys, Ecker & Bethge 2016). Coarse-to-fine, L-BFGS by default; Ctrl-C saves the best image so far.",
    )
    gatys.add_argument("content", metavar="CONTENT", help="photo: image file, - (stdin) or sample:NAME")
    gatys.add_argument("-o", "--output", required=True, help="output image file, or - for PNG on stdout")
    gatys.add_argument(
        "--style",
        action="append",
        required=True,
        type=style_spec,
        metavar="PATH|NAME[:WEIGHT]",
        help="style image, sample:NAME or built-in style; repeat to mix (a.jpg:0.7 --style b.jpg:0.3)",
    )
    gatys.add_argument(
        "--size", type=positive_int, default=GATYS_SIZE, help=f"long side of the render (default {GATYS_SIZE})"
    )
    gatys.add_argument(
        "--steps", type=positive_int, default=GATYS_STEPS, help=f"optimiser steps per level (default {GATYS_STEPS})"
    )
    gatys.add_argument(
        "--levels",
        type=non_negative_int,
        default=0,
        help="coarse-to-fine levels, each twice the size of the last (default 0 = start near 256 px; 1 = full size only)",
    )
    gatys.add_argument("--optimizer", choices=OPTIMIZERS, default="lbfgs", help="default lbfgs (as Gatys et al.)")
    gatys.add_argument(
        "--lr", type=float, default=DEFAULT_ADAM_LR, help=f"Adam learning rate (default {DEFAULT_ADAM_LR})"
    )
    gatys.add_argument(
        "--style-layers",
        default=",".join(STYLE_LAYERS),
        metavar="L1,L2,...",
        help=f"VGG layers whose Gram matrices are matched (default {','.join(STYLE_LAYERS)})",
    )
    gatys.add_argument(
        "--style-layer-weights", metavar="W1,W2,...", help="relative weight of each style layer (default equal)"
    )
    gatys.add_argument(
        "--content-layer",
        default=DEFAULT_CONTENT_LAYER,
        help=f"VGG layer matched to the photo (default {DEFAULT_CONTENT_LAYER})",
    )
    gatys.add_argument("--content-weight", type=float, default=1.0, help="default 1")
    gatys.add_argument(
        "--style-weight",
        type=float,
        default=DEFAULT_STYLE_WEIGHT,
        help=f"default {DEFAULT_STYLE_WEIGHT:g}; higher = more paint",
    )
    gatys.add_argument(
        "--tv-weight",
        type=float,
        default=DEFAULT_TV_WEIGHT,
        help=f"smoothness (default {DEFAULT_TV_WEIGHT:g}; 0 = off)",
    )
    gatys.add_argument(
        "--style-size", type=non_negative_int, default=0, help="long side of style images (default 0 = same as --size)"
    )
    gatys.add_argument(
        "--init", choices=INITS, default="content", help="start from the photo, noise, or MSG-Net's stylisation"
    )
    gatys.add_argument("--seed", type=int, default=0, help="seed for --init noise")
    gatys.add_argument("--preserve-color", action="store_true", help="keep the photo's colours")
    gatys.add_argument(
        "--vgg",
        metavar="PATH",
        help="local VGG16/VGG19 features state dict, e.g. torchvision's saved with "
        "torch.save(torchvision.models.vgg16(weights='IMAGENET1K_V1').features.state_dict(), PATH) "
        "(default: torchvision's ImageNet VGG19, else VGG16, downloaded once)",
    )
    gatys.add_argument("--vgg-arch", choices=VGG_ARCHITECTURES, help="layout of --vgg (default: detected)")
    gatys.add_argument("--pool", choices=POOLS, default="max", help="VGG pooling (default max; avg as in the paper)")
    gatys.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_model_options(gatys)
    gatys.set_defaults(run=_run_gatys)


def _run_gatys(args: argparse.Namespace) -> int:
    from realtime.device import resolve_device
    from realtime.gatys.network import LossNetwork
    from realtime.gatys.optimize import Gatys
    from realtime.gatys.render_file import render_still

    if args.json and args.output == "-":
        raise RealtimeError("--json and -o - both want standard output; choose one")
    check_output_path(args.output)
    settings = GatysSettings(
        size=args.size,
        steps=args.steps,
        optimizer=args.optimizer,
        style_layers=parse_layer_list(args.style_layers),
        style_layer_weights=parse_weight_list(args.style_layer_weights) if args.style_layer_weights else None,
        content_layer=args.content_layer,
        content_weight=args.content_weight,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
        levels=args.levels,
        style_size=args.style_size,
        adam_lr=args.lr,
        seed=args.seed,
        preserve_color=args.preserve_color,
    )
    device = resolve_device(args.device)
    network = LossNetwork.load(args.vgg, args.vgg_arch, args.pool)
    renderer = Gatys(network, settings, device)
    result = render_still(
        args.content, args.output, args.style, renderer, args.init, args.weights, progress=True, model=args.model
    )
    h, w = result.frame.shape[:2]
    if args.json:
        summary = {
            "input": args.content,
            "output": args.output,
            "width": w,
            "height": h,
            "device": str(device),
            "vgg": network.describe(),
            "styles": [{"style": s.source, "weight": s.weight} for s in args.style],
            "init": args.init,
            "steps": result.steps,
            "interrupted": result.interrupted,
            "seconds": round(result.seconds, 3),
            "loss": {name: round(value, 6) for name, value in vars(result.loss).items()},
        }
        print(json.dumps(summary, indent=2))
    if result.interrupted:
        print(
            f"realtime: interrupted after {result.steps} steps; saved the best image so far to {args.output}",
            file=sys.stderr,
        )
        return 130
    if not args.json and args.output != "-":
        print(
            f"realtime: wrote {args.output}: {w}×{h}, {result.steps} steps in {result.seconds:.1f} s, "
            f"loss {result.loss.total:.4g} (style {result.loss.style:.4g}, content {result.loss.content:.4g})",
            file=sys.stderr,
        )
    return 0
