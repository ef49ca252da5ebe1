"""A contact sheet: a few photos × every built-in style, rendered by a weights file, as one image.

The top row shows each style (its image from --styles DIR, else its name); each following row is one photo:
the photo itself, then its stylisations. Photos are centre-cropped squares stylised at --size, then shrunk
to --tile. Default photos are scikit-image's bundled samples (never in any training set here).
--style-images DIR (or a comma list of images) uses those images as the styles instead; then each style gets
one column per method: --methods msgnet,wct,gatys (default msgnet; wct takes --decoders, and wct and gatys a
VGG16 from --vgg), --refine N adds the MSG-Net target refined (`realtime.perceptual.refine`), --without-palette
the generator's own colours next to the picture's palette (`realtime.imaging.palette`, on in the app), and
--versus WEIGHTS the style rendered by another weights file (e.g. the WikiArt fine-tune next to the 21-style model).

    python scripts/contact_sheet.py --weights weights/msgnet21.safetensors --styles path/to/styles21 -o sheet.jpg
    python scripts/contact_sheet.py --model full --style-images my_paintings/ --refine 20 --photos sample:chelsea -o r.jpg
    python scripts/contact_sheet.py --model full --style-images my_paintings/ --versus fine-tuned.safetensors -o v.jpg
    python scripts/contact_sheet.py --model full --style-images a.jpg,b.jpg --refine 20 --methods msgnet,wct,gatys \
        --vgg VGG --photos sample:chelsea,sample:rocket -o methods.jpg
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from torch import Tensor
from tqdm import tqdm

from realtime.errors import RealtimeError
from realtime.gatys.network import LossNetwork
from realtime.gatys.optimize import Gatys
from realtime.gatys.settings import GatysSettings
from realtime.imaging.frames import center_crop
from realtime.imaging.images import image_files, read_image, write_image
from realtime.imaging.palette import Palette
from realtime.model.shapes import MODEL_CHOICES
from realtime.perceptual.refine import TargetRefiner
from realtime.perceptual.settings import RefineSettings
from realtime.runtimes.stylizer import Stylizer
from realtime.wct.stylize import WCT

DEFAULT_PHOTOS = "sample:astronaut,sample:coffee,sample:chelsea,sample:rocket"


def label(tile: np.ndarray, text: str) -> np.ndarray:
    """Write `text` on a dark strip at the bottom of a tile (OpenCV's built-in font: no font files needed)."""
    tile = tile.copy()
    scale = tile.shape[1] / 300
    strip = max(12, int(28 * scale))
    tile[-strip:] = (tile[-strip:] * 0.35).astype(np.uint8)
    cv2.putText(
        tile,
        text[:24],
        (4, tile.shape[0] - strip // 4),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.9 * scale,
        (255, 255, 255),
        1,
        cv2.LINE_AA,
    )
    return tile


def shrink(frame: np.ndarray, tile: int) -> np.ndarray:
    return cv2.resize(center_crop(frame, max(tile, min(frame.shape[:2]))), (tile, tile), interpolation=cv2.INTER_AREA)


Render = Callable[[np.ndarray], np.ndarray]
Column = tuple[str, Path | None, Render]  # label, style image to show (or None), photo → stylised photo
METHODS = ("msgnet", "wct", "gatys")


def with_target(stylizer: Stylizer, target: Tensor, palette: Palette | None = None) -> Render:
    def render(frame: np.ndarray) -> np.ndarray:
        stylizer.target, stylizer.palette = target, palette
        return stylizer(frame)

    return render


def with_wct(wct: WCT, path: Path) -> Render:
    def render(frame: np.ndarray) -> np.ndarray:
        wct.set_style([str(path)])  # cached after the first photo
        return wct(frame)

    return render


def with_gatys(gatys: Gatys, path: Path) -> Render:
    styles = gatys.styles([str(path)])
    return lambda frame: gatys.render(frame, styles, progress=True).frame


class ColumnMaker:
    """The renderers each style image gets a column from, built once."""

    def __init__(self, stylizer: Stylizer, args: argparse.Namespace) -> None:
        self.stylizer, self.args = stylizer, args
        methods = args.methods.split(",")
        unknown = set(methods) - set(METHODS)
        if unknown:
            raise RealtimeError(f"unknown method(s) {', '.join(sorted(unknown))}; use {', '.join(METHODS)}")
        self.methods = methods
        self.refiner = (
            TargetRefiner.load(stylizer.model, stylizer.device, args.vgg, RefineSettings(steps=args.refine))
            if args.refine
            else None
        )
        self.versus = Stylizer.load(args.versus, args.device) if args.versus else None
        self.wct = WCT.load(args.decoders, args.vgg, args.device) if "wct" in methods else None
        self.gatys = None
        if "gatys" in methods:
            settings = GatysSettings(size=args.size, steps=args.gatys_steps)
            self.gatys = Gatys(LossNetwork.load(args.vgg), settings, stylizer.device)

    def columns(self, path: Path) -> list[Column]:
        styles, columns = self.stylizer.styles, []
        for method in self.methods:
            if method == "msgnet":
                styles.refiner = None
                target, palette = styles.target(str(path)), styles.palette(str(path))
                columns.append((path.stem, path, with_target(self.stylizer, target, palette)))
                if self.args.without_palette:
                    columns.append(("own colours", path, with_target(self.stylizer, target)))
                if self.refiner is not None:
                    styles.refiner = self.refiner
                    target = styles.target(str(path))
                    label = f"refined {self.args.refine} steps"
                    columns.append((label, path, with_target(self.stylizer, target, palette)))
                if self.versus is not None:
                    target = self.versus.styles.target(str(path))
                    columns.append((Path(self.args.versus).stem, path, with_target(self.versus, target, palette)))
            elif method == "wct":
                columns.append(("WCT", path, with_wct(self.wct, path)))
            else:
                columns.append((f"Gatys {self.args.gatys_steps} steps", path, with_gatys(self.gatys, path)))
        return columns


def style_columns(stylizer: Stylizer, args: argparse.Namespace) -> list[Column]:
    """The sheet's columns, left to right."""
    if args.style_images:
        maker = ColumnMaker(stylizer, args)
        paths = (
            image_files(args.style_images, "style")
            if Path(args.style_images).is_dir()
            else map(Path, args.style_images.split(","))
        )
        return [column for path in paths for column in maker.columns(path)]
    images = {p.stem.lower(): p for p in image_files(args.styles, "style")} if args.styles else {}
    targets = stylizer.styles
    return [
        (name, images.get(name.lower()), with_target(stylizer, targets.target(name)))
        for name in stylizer.weights.bank.names()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="weights file (default: the shipped weights)")
    parser.add_argument("--styles", help="folder with the style images, to show them in the top row")
    parser.add_argument("--photos", default=DEFAULT_PHOTOS, help=f"comma list (default {DEFAULT_PHOTOS})")
    parser.add_argument("--size", type=int, default=256, help="side the photos are stylised at (default 256)")
    parser.add_argument("--tile", type=int, default=128, help="side of each tile in the sheet (default 128)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", choices=MODEL_CHOICES, default="auto", help="shipped model when no --weights")
    parser.add_argument(
        "--style-images",
        metavar="DIR|A,B",
        help="use these images (a folder or a comma list) as the styles instead of the built-ins",
    )
    parser.add_argument("--refine", type=int, default=0, help="with --style-images: add each style refined for N steps")
    parser.add_argument(
        "--without-palette",
        action="store_true",
        help="with --style-images: add each style in MSG-Net's own colours, not recoloured to the picture's palette",
    )
    parser.add_argument(
        "--versus", metavar="WEIGHTS", help="with --style-images: add each style rendered by these weights"
    )
    parser.add_argument(
        "--methods", default="msgnet", help=f"with --style-images: comma list of {', '.join(METHODS)} (default msgnet)"
    )
    parser.add_argument("--decoders", help="WCT decoders file (default: the shipped ones)")
    parser.add_argument("--gatys-steps", type=int, default=300, help="Gatys L-BFGS steps (default 300)")
    parser.add_argument(
        "--vgg", help="VGG16 features state dict for --refine, wct and gatys (default: torchvision's ImageNet VGG16)"
    )
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args(argv)
    try:
        stylizer = Stylizer.load(args.weights, args.device, model=args.model)
        columns = style_columns(stylizer, args)
        if not columns:
            raise RealtimeError(f"{stylizer.weights.source} has no built-in styles; pass --style-images DIR")
        height = args.tile if any(image for _, image, _ in columns) else max(16, args.tile // 5)  # else a row of names
        header = [np.full((height, args.tile, 3), 255, np.uint8)]
        for name, image, _ in columns:
            thumb = shrink(read_image(image), args.tile) if image else np.full((height, args.tile, 3), 90, np.uint8)
            header.append(label(thumb, name))
        rows = [np.concatenate(header, axis=1)]
        for photo_name in tqdm(args.photos.split(","), desc="photos", file=sys.stderr):
            photo = center_crop(read_image(photo_name), args.size)
            tiles = [shrink(photo, args.tile)]
            for _, _, render in columns:
                tiles.append(shrink(render(photo), args.tile))
            rows.append(np.concatenate(tiles, axis=1))
        write_image(np.concatenate(rows, axis=0), args.output)
    except RealtimeError as exc:
        print(f"contact_sheet: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: {len(args.photos.split(','))} photos × {len(columns)} styles", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
