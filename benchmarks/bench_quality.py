"""Stylisation quality as numbers: MSG-Net next to the unstylised photo and a Gatys render, on unseen photos.

For every style and photo the yardstick is the style's VGG Gram target (a built-in style's `vgg_bank` entry
from the weights file, or a style image's Grams at --style-size: the same layers and normalisation as
training). Each image (the photo itself, MSG-Net's output, Gatys' render) gets:

  style loss      sum over relu1_2, relu2_2, relu3_3, relu4_3 of the mean squared Gram difference (training's term)
  ratio           its style loss ÷ the unstylised photo's: lower is more stylised; the photo is 1 by definition
  content loss    relu2_2 mean squared difference from the photo (training's content term; the photo's is 0)
  content change  the same relative to the photo's own features, ‖F − F₀‖² / ‖F₀‖²

Styles come in groups: "trained" (the weights' built-in styles, or --styles DIR) and "unseen" (--unseen DIR:
paintings the generator never trained on). Photos default to scikit-image's bundled samples, which no
training set here contains. Gatys renders use `realtime.gatys` (--gatys-steps 0 leaves that column pending).
--refine-steps N adds MSG-Net with style images' targets fitted by `realtime.perceptual.refine` (`--refine`), in the
same run; the photos it fits on must not be among the photos scored.

    python benchmarks/bench_quality.py --weights weights/msgnet21.safetensors --unseen my_paintings/ --json q.json
    OMP_NUM_THREADS=2 python benchmarks/bench_quality.py --weights w.safetensors --size 64 --limit 3 --gatys-steps 20
    python benchmarks/bench_quality.py --model full --limit 0 --unseen my_paintings/ --gatys-steps 0 \
        --refine-steps 20 --photos sample:chelsea,sample:rocket
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from realtime.device import resolve_device
from realtime.errors import RealtimeError
from realtime.gatys.network import LossNetwork
from realtime.gatys.optimize import Gatys
from realtime.gatys.settings import DEFAULT_CONTENT_LAYER as GATYS_CONTENT_LAYER
from realtime.gatys.settings import DEFAULT_TV_WEIGHT as GATYS_TV_WEIGHT
from realtime.gatys.settings import GatysSettings
from realtime.imaging.frames import fit_long_side, frame_to_tensor
from realtime.imaging.images import image_files, read_image
from realtime.model.shapes import MODEL_CHOICES
from realtime.model.weights import Weights, load_weights, model_for, shipped_weights
from realtime.perceptual.losses import CONTENT_LAYER, STYLE_LAYERS, content_loss, style_grams
from realtime.perceptual.quality import content_change, style_distance
from realtime.perceptual.refine import TargetRefiner
from realtime.perceptual.settings import DEFAULT_PHOTOS as REFINE_PHOTOS
from realtime.perceptual.settings import RefineSettings
from realtime.perceptual.vgg import VGGFeatures
from realtime.runtimes.stylizer import Stylizer

DEFAULT_PHOTOS = "sample:astronaut,sample:coffee,sample:chelsea,sample:rocket"
METHODS = ("photo", "msgnet", "refined", "gatys")


def style_groups(
    weights: Weights, vgg: VGGFeatures, args: argparse.Namespace, device: torch.device
) -> list[tuple[str, str, dict]]:
    """(group, style source for MSG-Net and Gatys, VGG Gram yardstick) for every style benchmarked."""
    styles: list[tuple[str, str, dict]] = []
    if args.styles:
        styles += [
            ("trained", str(p), image_grams(vgg, p, args.style_size, device))
            for p in image_files(args.styles, "style")[: args.limit]
        ]
    else:
        if not weights.vgg_bank:
            raise RealtimeError(f"{weights.source} has no VGG style bank; pass --styles DIR with the style images")
        for row, name in enumerate(weights.bank.names()[: args.limit]):
            styles.append(("trained", name, {layer: weights.vgg_bank[layer][row].to(device) for layer in STYLE_LAYERS}))
    if args.unseen:
        unseen = image_files(args.unseen, "unseen style")[: args.unseen_limit or None]
        styles += [("unseen", str(p), image_grams(vgg, p, args.style_size, device)) for p in unseen]
    return styles


@torch.no_grad()
def image_grams(vgg: VGGFeatures, path: Path, style_size: int, device: torch.device) -> dict:
    frame = fit_long_side(read_image(path, style_size), style_size)
    return {k: v[0] for k, v in style_grams(vgg(frame_to_tensor(frame, device), STYLE_LAYERS)).items()}


@torch.no_grad()
def score(
    vgg: VGGFeatures, image: np.ndarray, photo_features: dict, grams: dict, device: torch.device
) -> dict[str, float]:
    features = vgg(frame_to_tensor(image, device), STYLE_LAYERS)
    return {
        "style": float(style_distance(features, grams)[0]),
        "content": float(content_loss(features[CONTENT_LAYER], photo_features[CONTENT_LAYER])),
        "content_change": float(content_change(features[CONTENT_LAYER], photo_features[CONTENT_LAYER])[0]),
    }


def mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def fmt(value: float | None, digits: int = 3, missing: str = "pending") -> str:
    return missing if value is None else f"{value:.{digits}g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="weights file (default: the shipped weights)")
    parser.add_argument("--styles", help="trained style images (default: the weights' built-in styles by name)")
    parser.add_argument("--unseen", help="folder of style images the generator never trained on")
    parser.add_argument("--photos", default=DEFAULT_PHOTOS, help=f"comma list of photos (default {DEFAULT_PHOTOS})")
    parser.add_argument("--size", type=int, default=256, help="photos' long side (default 256, the training size)")
    parser.add_argument("--style-size", type=int, default=512, help="style images' long side (default 512)")
    parser.add_argument("--limit", type=int, default=None, help="trained styles to use (default all)")
    parser.add_argument("--unseen-limit", type=int, default=0, help="unseen styles to use (default all)")
    parser.add_argument(
        "--gatys-steps", type=int, default=300, help="Gatys L-BFGS steps (0 = leave the column pending)"
    )
    parser.add_argument(
        "--gatys-content-weight", type=float, default=1.0, help="Gatys' content weight (default 1, as `realtime gatys`)"
    )
    parser.add_argument(
        "--gatys-content-layer",
        default=GATYS_CONTENT_LAYER,
        help=f"Gatys' content layer (default {GATYS_CONTENT_LAYER}; training uses {CONTENT_LAYER})",
    )
    parser.add_argument(
        "--gatys-tv-weight",
        type=float,
        default=GATYS_TV_WEIGHT,
        help=f"Gatys' total-variation weight (default {GATYS_TV_WEIGHT:g})",
    )
    parser.add_argument(
        "--refine-steps",
        type=int,
        default=0,
        help="also score MSG-Net with refined image-style targets (default 0 = no)",
    )
    parser.add_argument(
        "--refine-photos",
        default=",".join(REFINE_PHOTOS),
        help=f"photos the refinement fits on (default {','.join(REFINE_PHOTOS)})",
    )
    parser.add_argument(
        "--vgg", help="VGG16 features state dict, as training used (default: torchvision's ImageNet VGG16)"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--model", choices=MODEL_CHOICES, default="auto", help="shipped model when no --weights (auto: light on a CPU)"
    )
    parser.add_argument("--json", help="also write every score here")
    args = parser.parse_args(argv)

    try:
        device = resolve_device(args.device)
        weights = load_weights(args.weights) if args.weights else shipped_weights(model_for(args.model, device))
        if weights is None:
            raise RealtimeError(f"no trained {model_for(args.model, device)} model is installed; pass --weights PATH")
        network = LossNetwork.load(args.vgg, "vgg16")
        vgg = network.vgg.to(device)
        stylizer = Stylizer(weights, device, args.style_size)
        gatys_settings = GatysSettings(
            size=args.size,
            steps=args.gatys_steps,
            style_size=args.style_size,
            content_weight=args.gatys_content_weight,
            content_layer=args.gatys_content_layer,
            tv_weight=args.gatys_tv_weight,
        )
        gatys = Gatys(network, gatys_settings, device) if args.gatys_steps else None
        photos = [(p, fit_long_side(read_image(p, args.size), args.size)) for p in args.photos.split(",")]
        styles = style_groups(weights, vgg, args, device)
        refiner = None
        if args.refine_steps:
            refine_photos = tuple(args.refine_photos.split(","))
            if set(refine_photos) & {p for p, _ in photos}:
                raise RealtimeError(
                    f"--photos overlap --refine-photos ({args.refine_photos}): refined targets would be scored on the photos they were fitted to"
                )
            refiner = TargetRefiner(
                stylizer.model, network.vgg, RefineSettings(steps=args.refine_steps, photos=refine_photos), device
            )
    except RealtimeError as exc:
        print(f"bench_quality: error: {exc}", file=sys.stderr)
        return 2

    rows = []
    start = time.perf_counter()
    for group, source, grams in tqdm(styles, desc="styles", unit="style", file=sys.stderr):
        stylizer.styles.refiner = None
        stylizer.set_style([source])
        plain = stylizer.target
        refined = None
        if refiner is not None and source not in weights.bank:
            stylizer.styles.refiner = refiner
            stylizer.set_style([source])
            refined = stylizer.target
        gatys_grams = gatys.styles([source], weights) if gatys else None
        for name, photo in photos:
            with torch.no_grad():
                photo_features = vgg(frame_to_tensor(photo, device), STYLE_LAYERS)
            stylizer.target = plain
            outputs = {"photo": photo, "msgnet": stylizer(photo)}
            if refined is not None:
                stylizer.target = refined
                outputs["refined"] = stylizer(photo)
            if gatys:
                outputs["gatys"] = gatys.render(photo, gatys_grams).frame
            scores = {method: score(vgg, image, photo_features, grams, device) for method, image in outputs.items()}
            base = scores["photo"]["style"]
            for s in scores.values():
                s["ratio"] = s["style"] / base
            rows.append({"group": group, "style": Path(source).stem, "content_photo": name, **scores})
    seconds = time.perf_counter() - start

    print(
        f"\nQuality on {len(photos)} photos ({', '.join(Path(p).name for p, _ in photos)}) at {args.size} px, style images at "
        f"{args.style_size} px (built-in VGG targets at {weights.vgg_bank_info.get('style_size', '?')} px); weights {Path(weights.source).name} ({weights.training.get('images_seen', '?')} images seen); "
        f"Gatys {args.gatys_steps} steps (content {args.gatys_content_weight:g} at {args.gatys_content_layer}, tv {args.gatys_tv_weight:g}); "
        f"{f'refined {args.refine_steps} steps on {args.refine_photos}; ' if refiner else ''}"
        f"{device.type}, {seconds:.0f} s\n"
    )
    print(
        "| styles | n | photo style loss | MSG-Net style loss | Gatys style loss | MSG-Net ÷ Gatys | MSG-Net ratio | "
        "Gatys ratio | MSG-Net content loss | Gatys content loss | MSG-Net content change | Gatys content change | "
        "refined ratio | refined content change |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for group in dict.fromkeys(r["group"] for r in rows):
        chosen = [r for r in rows if r["group"] == group]
        m = {
            (method, key): mean([r[method][key] for r in chosen if method in r])
            for method in METHODS
            for key in ("style", "ratio", "content", "content_change")
        }
        versus = mean([r["msgnet"]["style"] / r["gatys"]["style"] for r in chosen if "gatys" in r])
        print(
            f"| {group} | {len({r['style'] for r in chosen})} | {fmt(m['photo', 'style'])} | {fmt(m['msgnet', 'style'])} | "
            f"{fmt(m['gatys', 'style'])} | {fmt(versus)} | {fmt(m['msgnet', 'ratio'])} | {fmt(m['gatys', 'ratio'])} | "
            f"{fmt(m['msgnet', 'content'])} | {fmt(m['gatys', 'content'])} | {fmt(m['msgnet', 'content_change'])} | "
            f"{fmt(m['gatys', 'content_change'])} | {fmt(m['refined', 'ratio'], missing='–')} | "
            f"{fmt(m['refined', 'content_change'], missing='–')} |"
        )
    print(
        "\n| style | group | MSG-Net ratio | Gatys ratio | MSG-Net content change | Gatys content change | refined ratio | refined content change |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for style in dict.fromkeys((r["style"], r["group"]) for r in rows):
        chosen = [r for r in rows if (r["style"], r["group"]) == style]
        cells = [
            fmt(
                mean([r[method][key] for r in chosen if method in r]), missing="–" if method == "refined" else "pending"
            )
            for method, key in (
                ("msgnet", "ratio"),
                ("gatys", "ratio"),
                ("msgnet", "content_change"),
                ("gatys", "content_change"),
                ("refined", "ratio"),
                ("refined", "content_change"),
            )
        ]
        print(f"| {style[0]} | {style[1]} | {' | '.join(cells)} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "seconds": seconds, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
