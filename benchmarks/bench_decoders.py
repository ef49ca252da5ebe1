"""How well the WCT decoders invert their VGG levels: PSNR of photos encoded and decoded with no transform.

Photos default to scikit-image's bundled samples (no training set here contains them), whole (--size 0) or
as centre crops; the reconstructions are written side by side with --sheet, to look at.

    python benchmarks/bench_decoders.py --vgg VGG_PATH
    python benchmarks/bench_decoders.py --vgg VGG_PATH --decoders my.safetensors --size 256 --sheet recon.jpg
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from realtime.errors import RealtimeError
from realtime.imaging.frames import frame_to_tensor, pad_to_multiple, tensor_to_frame
from realtime.imaging.images import write_image
from realtime.perceptual.vgg import VGGFeatures
from realtime.wct.decoders import load_decoders
from realtime.wct.reconstruction import HELD_OUT_PHOTOS, held_out_photos, psnr
from realtime.wct.settings import DEFAULT_DECODERS


@torch.no_grad()
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decoders", default=DEFAULT_DECODERS, help=f"decoders file (default {DEFAULT_DECODERS})")
    parser.add_argument("--vgg", help="the VGG16 features state dict the decoders invert (default: torchvision's)")
    parser.add_argument("--photos", default=",".join(HELD_OUT_PHOTOS), help="comma list of photos")
    parser.add_argument("--size", type=int, default=0, help="centre crops of this side (default 0: whole photos)")
    parser.add_argument("--sheet", help="write the photos and their reconstructions here")
    args = parser.parse_args(argv)
    try:
        decoders = load_decoders(args.decoders)
        vgg = VGGFeatures.load(args.vgg, "vgg16")
        photos = held_out_photos(args.size, args.photos.split(","))
    except RealtimeError as exc:
        print(f"bench_decoders: error: {exc}", file=sys.stderr)
        return 2
    names = [p.removeprefix("sample:") for p in args.photos.split(",")]
    print(f"\nDecoders {decoders.source} (trained with {decoders.vgg.get('name')}), VGG {args.vgg or 'torchvision'}; ")
    print("| level | " + " | ".join(names) + " | mean |\n|---|" + "---|" * (len(names) + 1))
    rows = []
    for level in decoders.levels:
        scores, tiles = [], []
        for photo in photos:
            image = frame_to_tensor(photo)
            h, w = image.shape[-2:]
            decoded = decoders.decoders[level](vgg(pad_to_multiple(image, 8), [level])[level])[..., :h, :w]
            scores.append(float(psnr(decoded, image)[0]))
            tiles.append(tensor_to_frame(decoded))
        rows.append(tiles)
        print(f"| {level} | " + " | ".join(f"{s:.2f}" for s in scores) + f" | **{np.mean(scores):.2f}** |")
    if args.sheet:
        side = min(min(p.shape[:2]) for p in photos)
        crop = lambda f: f[:side, :side]  # noqa: E731 - equal tiles for the sheet
        columns = [
            np.concatenate([crop(photo)] + [crop(row[i]) for row in rows], axis=0) for i, photo in enumerate(photos)
        ]
        write_image(np.concatenate(columns, axis=1), args.sheet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
