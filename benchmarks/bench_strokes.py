"""Stroke size on large pictures: does `--stroke` keep the painting's strokes in proportion, and at what cost?

A 1024 px still painted at its own size (stroke 0) gets strokes half as large, relative to the picture, as a
512 px one. The yardstick here is the painting enlarged by the same factor as the photo (its strokes in
proportion to the picture): each stroke setting is scored by its style ratio against that painting's VGG
Grams (lower follows it more) and by content change, and timed, in one run on the same photos. The photos
are scikit-image's bundled ones enlarged to --size (they are at most 640 px), the paintings the built-in
styles' images from --style-images.

    python benchmarks/bench_strokes.py --vgg VGG --style-images STYLES_DIR --sheet strokes.jpg
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from bench_cpu import cpu_name
from bench_quality import score
from tqdm import tqdm

from realtime.imaging.frames import frame_to_tensor, resize_frame
from realtime.imaging.images import read_image
from realtime.model.weights import shipped_weights
from realtime.perceptual.losses import STYLE_LAYERS, style_grams
from realtime.perceptual.quality import style_distance
from realtime.perceptual.vgg import VGGFeatures
from realtime.runtimes.stylizer import Stylizer

PHOTOS = "sample:astronaut,sample:chelsea"
STYLES = "starry_night,wave,candy"
STYLE_SIDE = 512  # the long side the style images (and the generator's built-in targets) are made at


def enlarged(frame: np.ndarray, side: int) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = side / max(h, w)
    return resize_frame(frame, (round(h * scale), round(w * scale)))


@torch.no_grad()
def grams(vgg: VGGFeatures, frame: np.ndarray) -> dict:
    return {k: v[0] for k, v in style_grams(vgg(frame_to_tensor(frame), STYLE_LAYERS)).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vgg", help="VGG16 features state dict (default: torchvision's)")
    parser.add_argument("--style-images", required=True, help="folder with the built-in styles' images")
    parser.add_argument("--styles", default=STYLES, help=f"comma list of built-in styles (default {STYLES})")
    parser.add_argument("--photos", default=PHOTOS, help=f"comma list (default {PHOTOS})")
    parser.add_argument("--size", type=int, default=1024, help="long side the photos are enlarged to (default 1024)")
    parser.add_argument("--strokes", default="0,1,2", help="stroke settings compared (default 0,1,2)")
    parser.add_argument("--sheet", help="write a crop of each setting on the first photo and style here")
    args = parser.parse_args(argv)

    vgg = VGGFeatures.load(args.vgg, "vgg16")
    stylizer = Stylizer(shipped_weights("full"), "cpu")
    strokes = [float(s) for s in args.strokes.split(",")]
    photos = [enlarged(read_image(p), args.size) for p in args.photos.split(",")]
    factor = args.size / STYLE_SIDE
    results: dict[float, dict[str, list[float]]] = {s: {"ratio": [], "change": [], "seconds": []} for s in strokes}
    crops = []
    for index, style in enumerate(tqdm(args.styles.split(","), desc="styles", unit="style", file=sys.stderr)):
        painting = read_image(Path(args.style_images) / f"{style}.jpg", STYLE_SIDE)
        target = grams(vgg, enlarged(painting, round(max(painting.shape[:2]) * factor)))
        look = stylizer.look([style])
        for photo in photos:
            with torch.no_grad():
                photo_features = vgg(frame_to_tensor(photo), STYLE_LAYERS)
            base = float(style_distance(photo_features, target)[0])
            for stroke in strokes:
                stroked = look.with_changes(stroke=stroke)
                if index == 0:
                    stylizer(photo, stroked)  # the runtime compiles each new size once
                began = time.perf_counter()
                out = stylizer(photo, stroked)
                results[stroke]["seconds"].append(time.perf_counter() - began)
                scores = score(vgg, out, photo_features, target, torch.device("cpu"))
                results[stroke]["ratio"].append(scores["style"] / base)
                results[stroke]["change"].append(scores["content_change"])
                if len(crops) < len(strokes):  # the first photo in the first style
                    crops.append(out[: args.size // 2, args.size // 4 : 3 * args.size // 4])
    print(
        f"CPU: {cpu_name()}, {torch.get_num_threads()} threads; {len(photos)} photos at {args.size} px x "
        f"{len(args.styles.split(','))} styles; paintings enlarged {factor:g}x"
    )
    print(f"{'stroke':>6} {'paints at':>9} {'mean ratio':>10} {'change':>7} {'s / image':>9}")
    for stroke, r in results.items():
        paints = "own size" if stroke == 0 or STYLE_SIDE / stroke >= args.size else f"{round(STYLE_SIDE / stroke)} px"
        print(
            f"{stroke:>6g} {paints:>9} {np.mean(r['ratio']):>10.4f} {np.mean(r['change']):>7.3f} "
            f"{np.median(r['seconds']):>9.2f}"
        )
    if args.sheet:
        picture = cv2.cvtColor(np.concatenate(crops, 1), cv2.COLOR_RGB2BGR)
        cv2.imwrite(args.sheet, picture, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return 0


if __name__ == "__main__":
    sys.exit(main())
