"""Stylisation quality as numbers: MSG-Net (encoder and refined targets), WCT and Gatys on the same unseen photos.

For every style and photo the yardstick is the style's VGG Gram target (a built-in style's `vgg_bank` entry
from the weights file, or a style image's Grams at --style-size: the same layers and normalisation as
training). Each image (the photo itself and every method's output) gets:

  style loss      sum over relu1_2, relu2_2, relu3_3, relu4_3 of the mean squared Gram difference (training's term)
  ratio           its style loss ÷ the unstylised photo's: lower is more stylised; the photo is 1 by definition
  layer ratio     the mean over the four layers of each layer's own ratio. The ratio above is relu1_2's (colour
                  and fine texture) almost alone: with this VGG convention a photo's Gram distance to a painting
                  falls ~10³× per layer. This one counts the strokes and shapes the deeper layers see as much
  content change  relu2_2 features' squared change relative to the photo's own, ‖F − F₀‖² / ‖F₀‖²
  seconds         the render of that one image, the style's preparation (encoder target, refined target, WCT
                  statistics, Gatys Grams) done before and reported per style

Methods: msgnet (the generator with its encoder's target), refined (`--refine`: the target fitted by
`realtime.perceptual.refine`, for style images; --refine-steps N), wct (`realtime.wct`, the shipped
decoders unless --wct-decoders; --no-wct leaves it out; --wct-picture adds wct-picture, the decoders
turning the transformed features into the picture itself as in Li et al., not the change) and gatys (`realtime.gatys`, --gatys-steps L-BFGS
steps; --gatys-limit N renders only N evenly spaced styles, since each render takes minutes on a CPU).

Styles come in groups: "trained" (the weights' built-in styles, or --styles DIR), "unseen" (--unseen DIR:
paintings the generator never trained on) and "own" (--own: the graphic pictures `own_paintings.py` draws,
a grid, thick strokes, a pencil sketch, a mosaic, plus any --own-extra files such as an old master).
Photos default to scikit-image's bundled samples, which no training set here contains; the photos refined
targets are fitted on must not be among them. --stroke and --strength set MSG-Net's (default 1 each).

    python benchmarks/bench_quality.py --weights weights/msgnet21.safetensors --unseen my_paintings/ --json q.json
    OMP_NUM_THREADS=2 python benchmarks/bench_quality.py --weights w.safetensors --size 64 --limit 3 --gatys-steps 20
    python benchmarks/bench_quality.py --model full --limit 0 --unseen PAINTINGS --vgg VGG --refine-steps 20 \
        --gatys-steps 300 --gatys-limit 4 --photos sample:chelsea,sample:rocket --json methods.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from own_paintings import write_own_paintings
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
from realtime.perceptual.losses import CONTENT_LAYER, STYLE_LAYERS, style_grams
from realtime.perceptual.quality import content_change, layer_distances
from realtime.perceptual.refine import TargetRefiner
from realtime.perceptual.settings import DEFAULT_PHOTOS as REFINE_PHOTOS
from realtime.perceptual.settings import RefineSettings
from realtime.perceptual.vgg import VGGFeatures
from realtime.runtimes.look import Look
from realtime.runtimes.stylizer import Stylizer
from realtime.wct.decoders import load_decoders
from realtime.wct.settings import DEFAULT_ALPHA, DEFAULT_DECODERS, WCTSettings
from realtime.wct.stylize import WCT

DEFAULT_PHOTOS = "sample:astronaut,sample:coffee,sample:chelsea,sample:rocket"
METHODS = ("msgnet", "refined", "wct", "wct-picture", "gatys")


def style_groups(
    weights: Weights, vgg: VGGFeatures, args: argparse.Namespace, device: torch.device, own_folder: Path
) -> list[tuple[str, str, dict]]:
    """(group, style source, VGG Gram yardstick) for every style benchmarked."""
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
    if args.own:
        own = [*write_own_paintings(own_folder), *map(Path, args.own_extra)]
        styles += [("own", str(p), image_grams(vgg, p, args.style_size, device)) for p in own]
    return styles


@torch.no_grad()
def image_grams(vgg: VGGFeatures, path: Path, style_size: int, device: torch.device) -> dict:
    frame = fit_long_side(read_image(path, style_size), style_size)
    return {k: v[0] for k, v in style_grams(vgg(frame_to_tensor(frame, device), STYLE_LAYERS)).items()}


@torch.no_grad()
def score(vgg: VGGFeatures, image: np.ndarray, photo_features: dict, grams: dict, device: torch.device) -> dict:
    features = vgg(frame_to_tensor(image, device), STYLE_LAYERS)
    layers = {name: float(distance[0]) for name, distance in layer_distances(features, grams).items()}
    return {
        "style": sum(layers.values()),
        "layers": layers,
        "content_change": float(content_change(features[CONTENT_LAYER], photo_features[CONTENT_LAYER])[0]),
    }


def with_ratios(scores: dict, base: dict) -> dict:
    """An image's `score` with its ratios to the photo's own `score` (`base`): overall, and layer by layer."""
    layer_ratio = float(np.mean([scores["layers"][k] / base["layers"][k] for k in STYLE_LAYERS]))
    return {**scores, "ratio": scores["style"] / base["style"], "layer_ratio": layer_ratio}


def timed(render, *args) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    out = render(*args)
    return out, time.perf_counter() - start


class Contenders:
    """Every method's renderer for one style at a time: `prepare(source)` (timed), then `render(photo)`."""

    def __init__(self, args: argparse.Namespace, weights: Weights, network: LossNetwork, device: torch.device) -> None:
        self.weights = weights
        self.stylizer = Stylizer(weights, device, args.style_size)
        # MSG-Net's look but for its target (each style's, from `prepare`), checked here: a bad --stroke or
        # --strength fails before any style is prepared.
        self.finish = Look(torch.zeros(0, 0), strength=args.strength, stroke=args.stroke)
        self.recolour = args.palette  # a style picture's output in its palette
        self.refiner = None
        if args.refine_steps:
            photos = tuple(args.refine_photos.split(","))
            settings = RefineSettings(steps=args.refine_steps, size=args.refine_size, photos=photos)
            self.refiner = TargetRefiner(self.stylizer.model, network.vgg, settings, device)
        self.wct: dict[str, WCT] = {}
        name = Path(network.source).name
        for method, wanted, change in (("wct", args.wct, True), ("wct-picture", args.wct_picture, False)):
            if wanted:
                settings = WCTSettings(alpha=args.wct_alpha, style_size=args.style_size, decode_change=change)
                self.wct[method] = WCT(load_decoders(args.wct_decoders), network.vgg, device, settings, name)
        gatys_settings = GatysSettings(
            size=args.size,
            steps=args.gatys_steps or 1,
            style_size=args.style_size,
            content_weight=args.gatys_content_weight,
            content_layer=args.gatys_content_layer,
            tv_weight=args.gatys_tv_weight,
        )
        self.gatys = Gatys(network, gatys_settings, device) if args.gatys_steps else None

    def prepare(self, source: str, with_gatys: bool) -> dict[str, float]:
        """Each method's per-style work, timed: encoder target, refined target, WCT statistics, Gatys Grams."""
        seconds: dict[str, float] = {}
        styles = self.stylizer.styles
        styles.refiner = None
        target, seconds["msgnet"] = timed(styles.target, source)
        self.plain = self.finish.with_changes(target=target, palette=styles.palette(source) if self.recolour else None)
        self.refined = None
        if self.refiner is not None and source not in self.weights.bank:
            styles.refiner = self.refiner
            target, seconds["refined"] = timed(styles.target, source)
            self.refined = self.plain.with_changes(target=target)
        self.wct_ready = source not in self.weights.bank
        for method, wct in self.wct.items() if self.wct_ready else ():
            _, seconds[method] = timed(wct.set_style, [source])
        self.gatys_grams = None
        if self.gatys is not None and with_gatys:
            self.gatys_grams, seconds["gatys"] = timed(self.gatys.styles, [source], self.weights)
        return seconds

    def warm_up(self, photos: list[np.ndarray]) -> None:
        """One untimed render of every photo by the fast methods: a CPU runtime builds its graph on the first call."""
        for photo in photos:
            self.stylizer(photo, self.plain)
            for wct in self.wct.values() if self.wct_ready else ():
                wct(photo)

    def render(self, photo: np.ndarray) -> dict[str, tuple[np.ndarray, float]]:
        outputs = {}
        outputs["msgnet"] = timed(self.stylizer, photo, self.plain)
        if self.refined is not None:
            outputs["refined"] = timed(self.stylizer, photo, self.refined)
        for method, wct in self.wct.items() if self.wct_ready else ():
            outputs[method] = timed(wct, photo)
        if self.gatys_grams is not None:
            outputs["gatys"] = timed(lambda p: self.gatys.render(p, self.gatys_grams).frame, photo)
        return outputs


def mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}g}"


def summary_table(rows: list[dict], title: str) -> None:
    """One line per group and method: ratios, content change and seconds over the pairs that method rendered."""
    print(f"\n{title}\n")
    print(
        "| styles | method | pairs | mean ratio | median ratio | pairs ≤ 0.3 | worse than the photo | "
        "layer ratio | content change | s / image | s / style (prep) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for group in dict.fromkeys(r["group"] for r in rows):
        for method in METHODS:
            chosen = [r for r in rows if r["group"] == group and method in r]
            if not chosen:
                continue
            ratios = [r[method]["ratio"] for r in chosen]
            prep = mean([r["prep"][method] for r in chosen if method in r["prep"]])
            print(
                f"| {group} | {method} | {len(chosen)} | {fmt(mean(ratios))} | {fmt(float(np.median(ratios)))} | "
                f"{sum(v <= 0.3 for v in ratios)} | {sum(v > 1 for v in ratios)} | "
                f"{fmt(mean([r[method]['layer_ratio'] for r in chosen]))} | "
                f"{fmt(mean([r[method]['content_change'] for r in chosen]))} | "
                f"{fmt(mean([r[method]['seconds'] for r in chosen]))} | {fmt(prep)} |"
            )


def style_table(rows: list[dict]) -> None:
    print(
        "\n| style | group | "
        + " | ".join(f"{m} ratio" for m in METHODS)
        + " | "
        + " | ".join(f"{m} change" for m in METHODS)
        + " |"
    )
    print("|---|---|" + "---|" * (2 * len(METHODS)))
    for style in dict.fromkeys((r["style"], r["group"]) for r in rows):
        chosen = [r for r in rows if (r["style"], r["group"]) == style]
        cells = [
            fmt(mean([r[m][key] for r in chosen if m in r])) for key in ("ratio", "content_change") for m in METHODS
        ]
        print(f"| {style[0]} | {style[1]} | {' | '.join(cells)} |")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="weights file (default: the shipped weights)")
    parser.add_argument("--styles", help="trained style images (default: the weights' built-in styles by name)")
    parser.add_argument("--unseen", help="folder of style images the generator never trained on")
    parser.add_argument("--photos", default=DEFAULT_PHOTOS, help=f"comma list of photos (default {DEFAULT_PHOTOS})")
    parser.add_argument("--size", type=int, default=256, help="photos' long side (default 256, the training size)")
    parser.add_argument("--style-size", type=int, default=512, help="style images' long side (default 512)")
    parser.add_argument("--own", action="store_true", help="also score the drawn own paintings (own_paintings.py)")
    parser.add_argument(
        "--own-extra", nargs="*", default=[], metavar="PATH", help="more own paintings, e.g. an old master"
    )
    parser.add_argument(
        "--stroke", type=float, default=1.0, help="MSG-Net's stroke size (default 1, as `realtime image`)"
    )
    parser.add_argument("--strength", type=float, default=1.0, help="MSG-Net's strength (default 1)")
    parser.add_argument(
        "--palette",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="recolour MSG-Net's output of a style picture to its palette, as the app does (default yes)",
    )
    parser.add_argument("--limit", type=int, default=None, help="trained styles to use (default all)")
    parser.add_argument("--unseen-limit", type=int, default=0, help="unseen styles to use (default all)")
    parser.add_argument("--gatys-steps", type=int, default=300, help="Gatys L-BFGS steps (0 = no Gatys)")
    parser.add_argument("--gatys-limit", type=int, default=0, help="Gatys on this many evenly spaced styles (0 = all)")
    parser.add_argument("--gatys-content-weight", type=float, default=1.0, help="Gatys' content weight (default 1)")
    parser.add_argument(
        "--gatys-content-layer",
        default=GATYS_CONTENT_LAYER,
        help=f"Gatys' content layer (default {GATYS_CONTENT_LAYER})",
    )
    parser.add_argument(
        "--gatys-tv-weight", type=float, default=GATYS_TV_WEIGHT, help=f"Gatys' TV weight (default {GATYS_TV_WEIGHT:g})"
    )
    parser.add_argument("--refine-steps", type=int, default=0, help="also score refined targets (default 0 = no)")
    parser.add_argument(
        "--refine-size", type=int, default=RefineSettings.size, help="refinement's photo crops (default %(default)s)"
    )
    parser.add_argument(
        "--refine-photos",
        default=",".join(REFINE_PHOTOS),
        help=f"photos the refinement fits on (default {','.join(REFINE_PHOTOS)})",
    )
    parser.add_argument("--wct", action=argparse.BooleanOptionalAction, default=True, help="score WCT (default yes)")
    parser.add_argument(
        "--wct-picture", action="store_true", help="also score WCT decoding the picture (Li et al.) for its change"
    )
    parser.add_argument("--wct-decoders", default=DEFAULT_DECODERS, help=f"decoders file (default {DEFAULT_DECODERS})")
    parser.add_argument(
        "--wct-alpha", type=float, default=DEFAULT_ALPHA, help=f"WCT's alpha (default {DEFAULT_ALPHA:g})"
    )
    parser.add_argument("--vgg", help="VGG16 features state dict, as training used (default: torchvision's)")
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--model", choices=MODEL_CHOICES, default="auto", help="shipped model when no --weights (auto: light on a CPU)"
    )
    parser.add_argument("--json", help="also write every score here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="own-paintings-") as folder:
        return run(args, Path(folder))


def run(args: argparse.Namespace, own_folder: Path) -> int:
    """The benchmark, with `own_folder` to draw the own paintings into."""
    try:
        device = resolve_device(args.device)
        weights = load_weights(args.weights) if args.weights else shipped_weights(model_for(args.model, device))
        if weights is None:
            raise RealtimeError(f"no trained {model_for(args.model, device)} model is installed; pass --weights PATH")
        network = LossNetwork.load(args.vgg, "vgg16")
        vgg = network.vgg.to(device)
        photos = [(p, fit_long_side(read_image(p, args.size), args.size)) for p in args.photos.split(",")]
        if args.refine_steps and set(args.refine_photos.split(",")) & {p for p, _ in photos}:
            raise RealtimeError("--photos overlap --refine-photos: refined targets would be scored on their own photos")
        styles = style_groups(weights, vgg, args, device, own_folder)
        contenders = Contenders(args, weights, network, device)
    except RealtimeError as exc:
        print(f"bench_quality: error: {exc}", file=sys.stderr)
        return 2

    gatys_rows = set(range(len(styles)))
    if args.gatys_limit:
        gatys_rows = {(i * len(styles)) // args.gatys_limit for i in range(min(args.gatys_limit, len(styles)))}
    rows, start = [], time.perf_counter()
    for index, (group, source, grams) in enumerate(tqdm(styles, desc="styles", unit="style", file=sys.stderr)):
        prep = contenders.prepare(source, index in gatys_rows)
        if index == 0:
            contenders.warm_up([photo for _, photo in photos])
        for name, photo in photos:
            with torch.no_grad():
                photo_features = vgg(frame_to_tensor(photo, device), STYLE_LAYERS)
            base = score(vgg, photo, photo_features, grams, device)
            row = {
                "group": group,
                "style": Path(source).stem,
                "content_photo": name,
                "photo_style": base["style"],
                "photo_layers": base["layers"],
                "prep": prep,
            }
            for method, (image, seconds) in contenders.render(photo).items():
                scores = with_ratios(score(vgg, image, photo_features, grams, device), base)
                row[method] = {**scores, "seconds": seconds}
            rows.append(row)
    seconds = time.perf_counter() - start

    print(
        f"\nQuality on {len(photos)} photos ({', '.join(Path(p).name for p, _ in photos)}) at {args.size} px, style images at "
        f"{args.style_size} px; weights {Path(weights.source).name}; "
        f"{f'refined {args.refine_steps} steps on {args.refine_photos} at {args.refine_size}; ' if args.refine_steps else ''}"
        f"{f'WCT {Path(args.wct_decoders).name} alpha {args.wct_alpha:g}; ' if args.wct else ''}"
        f"{f'Gatys {args.gatys_steps} steps on {len(gatys_rows)} styles; ' if args.gatys_steps else ''}"
        f"{device.type}, {torch.get_num_threads()} threads, {seconds:.0f} s"
    )
    summary_table(rows, "All pairs each method rendered:")
    if args.gatys_steps and len(gatys_rows) < len(styles):
        summary_table([r for r in rows if "gatys" in r], "The pairs Gatys rendered, every method:")
    style_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "seconds": seconds, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
