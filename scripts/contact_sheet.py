"""A contact sheet: a few photos × every built-in style, rendered by a weights file, as one image.

The top row shows each style (its image from --styles DIR, else its name); each following row is one photo:
the photo itself, then its stylisations. Photos are centre-cropped squares stylised at --size, then shrunk
to --tile. Default photos are scikit-image's bundled samples (never in any training set here).

    python scripts/contact_sheet.py --weights weights/msgnet21.safetensors --styles ../shared/data/styles21 -o sheet.jpg
"""

from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np
from tqdm import tqdm

from realtime.datasets import center_crop, image_files
from realtime.errors import RealtimeError
from realtime.images import read_image, write_image
from realtime.stylizer import Stylizer

DEFAULT_PHOTOS = "sample:astronaut,sample:coffee,sample:chelsea,sample:rocket"


def label(tile: np.ndarray, text: str) -> np.ndarray:
    """Write `text` on a dark strip at the bottom of a tile (OpenCV's built-in font: no font files needed)."""
    tile = tile.copy()
    scale = tile.shape[1] / 300
    strip = max(12, int(28 * scale))
    tile[-strip:] = (tile[-strip:] * 0.35).astype(np.uint8)
    cv2.putText(tile, text[:24], (4, tile.shape[0] - strip // 4), cv2.FONT_HERSHEY_SIMPLEX, 0.9 * scale, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def shrink(frame: np.ndarray, tile: int) -> np.ndarray:
    return cv2.resize(center_crop(frame, max(tile, min(frame.shape[:2]))), (tile, tile), interpolation=cv2.INTER_AREA)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="weights file (default: the shipped weights)")
    parser.add_argument("--styles", help="folder with the style images, to show them in the top row")
    parser.add_argument("--photos", default=DEFAULT_PHOTOS, help=f"comma list (default {DEFAULT_PHOTOS})")
    parser.add_argument("--size", type=int, default=256, help="side the photos are stylised at (default 256)")
    parser.add_argument("--tile", type=int, default=128, help="side of each tile in the sheet (default 128)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args(argv)
    try:
        stylizer = Stylizer.load(args.weights, args.device)
        names = stylizer.weights.bank.names()
        if not names:
            raise RealtimeError(f"{stylizer.weights.source} has no built-in styles")
        images = {p.stem.lower(): p for p in image_files(args.styles, "style")} if args.styles else {}
        height = args.tile if images else max(16, args.tile // 5)  # without style images: a row of names
        header = [np.full((height, args.tile, 3), 255, np.uint8)]
        for name in names:
            source = images.get(name.lower())
            thumb = shrink(read_image(source), args.tile) if source else np.full((height, args.tile, 3), 90, np.uint8)
            header.append(label(thumb, name))
        rows = [np.concatenate(header, axis=1)]
        for photo_name in tqdm(args.photos.split(","), desc="photos", file=sys.stderr):
            photo = center_crop(read_image(photo_name), args.size)
            tiles = [shrink(photo, args.tile)]
            for name in names:
                stylizer.set_style([name])
                tiles.append(shrink(stylizer(photo), args.tile))
            rows.append(np.concatenate(tiles, axis=1))
        write_image(np.concatenate(rows, axis=0), args.output)
    except RealtimeError as exc:
        print(f"contact_sheet: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: {len(args.photos.split(','))} photos × {len(names)} styles", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
