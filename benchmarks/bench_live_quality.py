"""The live picture on a CPU: what each candidate shows at the display size, scored, next to its cost.

The live loop stylises a small working-size frame and enlarges it to the display; what a user judges is the
enlarged picture. For every candidate (model × working size × upsampler) each held-out photo (scikit-image's
samples, cropped to the display's 4:3) goes through the live renderer itself (`LiveRenderer.render`, as the
loop calls it) and the shown frame is scored against every built-in style, on the same yardstick as
`bench_quality.py`: the style ratio (Gram distance to the style ÷ the photo's; lower follows the style more)
and the content change (relative relu2_2 change). The still reference is the full model at the display
size. Milliseconds per shown frame are timed in alternating rounds, in one process, on the same frames.

A candidate ending in `:keyframes` paints keyframes beside the loop (`realtime.live.keyframes`), as `live`
does on a slow CPU: a camera filming the photo keeps showing the newest keyframe carried onto each frame, so
the photo is shown once to paint its keyframe and again to be scored as carried. Such a candidate is not
timed here (its generator paints beside the frames shown): `bench_live_keyframes.py` measures the live loop.

    python benchmarks/bench_live_quality.py --vgg VGG_PATH
    python benchmarks/bench_live_quality.py --vgg VGG_PATH --candidates full:224:guided,light:320:bicubic --limit 5
    python benchmarks/bench_live_quality.py --vgg VGG_PATH --candidates full:512:bicubic,full:512:bicubic:keyframes
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from realtime.imaging.frames import frame_to_tensor
from realtime.imaging.images import sample_image
from realtime.live.renderer import LiveRenderer
from realtime.model.weights import shipped_weights
from realtime.perceptual.layers import CONTENT_LAYER, STYLE_LAYERS
from realtime.perceptual.quality import content_change, style_distance
from realtime.perceptual.vgg import VGGFeatures
from realtime.runtimes.stylizer import Stylizer

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
DEFAULT_CANDIDATES = (
    "full:640:bicubic,light:320:bicubic,light:320:guided,full:320:bicubic,full:320:guided,"
    "full:256:bicubic,full:256:guided,full:224:guided"
)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vgg", help="VGG16 features file (default: torchvision's download)")
    parser.add_argument(
        "--candidates", default=DEFAULT_CANDIDATES, help="MODEL:WORKING_SIZE:UPSAMPLER[:keyframes], comma-separated"
    )
    parser.add_argument("--display", default="640x480", help="display size WxH (default 640x480)")
    parser.add_argument("--limit", type=int, default=21, help="built-in styles scored (default all 21)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds (default 3)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(2)
    width, height = (int(v) for v in args.display.split("x"))
    photos = [display_photo(name, width, height) for name in PHOTOS]
    vgg = VGGFeatures.load(args.vgg, "vgg16")
    candidates = []
    stylizers = {model: Stylizer(shipped_weights(model), "cpu") for model in ("full", "light")}
    for text in args.candidates.split(","):
        model, side, upsample, *mode = text.split(":")
        keyframes = mode == ["keyframes"]
        # Keyframes paint on their own thread, still busy when the next candidate runs: a runtime of their own.
        stylizer = Stylizer(shipped_weights(model), "cpu") if keyframes else stylizers[model]
        renderer = LiveRenderer(stylizer, max(width, height), upsample=upsample, keyframes=keyframes)
        candidates.append((text, stylizer, renderer, int(side)))
    names = stylizers["full"].weights.bank.names()[: args.limit]
    full_bank = stylizers["full"].weights
    with torch.no_grad():
        photo_features = [vgg(frame_to_tensor(p), STYLE_LAYERS) for p in photos]
    rows = {text: {"ratio": [], "content_change": []} for text, *_ in candidates}
    for row_index, name in enumerate(names):
        grams = {layer: full_bank.vgg_bank[layer][row_index] for layer in STYLE_LAYERS}
        for photo, base in zip(photos, photo_features):
            photo_style = float(style_distance(base, grams)[0])
            for text, stylizer, renderer, side in candidates:
                stylizer.set_style([name])
                renderer.forget()  # keyframes: the photo waits for its own picture in this style...
                shown = renderer.render(photo, side)
                if renderer.keyframes is not None:  # ...which the next frame shows carried
                    shown = renderer.render(photo, side)
                with torch.no_grad():
                    features = vgg(frame_to_tensor(shown), STYLE_LAYERS)
                rows[text]["ratio"].append(float(style_distance(features, grams)[0]) / photo_style)
                rows[text]["content_change"].append(
                    float(content_change(features[CONTENT_LAYER], base[CONTENT_LAYER])[0])
                )
                if name == "starry_night" and photo is photos[0]:
                    cv2.imwrite(f"live-quality-{text.replace(':', '-')}.png", cv2.cvtColor(shown, cv2.COLOR_RGB2BGR))
    for _, _, renderer, _ in candidates:
        renderer.close()
    timed = [candidate for candidate in candidates if candidate[2].keyframes is None]
    times = {text: [] for text, *_ in timed}
    for _ in range(args.rounds):
        for text, stylizer, renderer, side in timed:
            stylizer.set_style(["candy"])
            renderer.render(photos[0], side)
            began = time.perf_counter()
            for photo in photos:
                renderer.render(photo, side)
            times[text].append((time.perf_counter() - began) * 1000 / len(photos))
    print(
        f"CPU: {cpu_name()}, 2 threads; display {width}x{height}; {len(names)} built-in styles × {len(photos)} photos"
    )
    print(
        "| model | working size | upsampler | frames painted | mean style ratio | median | content change | "
        "ms / shown frame |"
    )
    print("|---|---|---|---|---|---|---|---|")
    results = []
    for text, *_ in candidates:
        model, side, upsample, *mode = text.split(":")
        r = rows[text]
        ms = statistics.median(times[text]) if text in times else None
        results.append({"candidate": text, "ratio": float(np.mean(r["ratio"])), "ms": ms, **r})
        print(
            f"| {model} | {side} | {upsample} | {mode[0] if mode else 'every'} | {np.mean(r['ratio']):.4f} | "
            f"{np.median(r['ratio']):.4f} | "
            f"{np.mean(r['content_change']):.3f} | {'–' if ms is None else f'{ms:.1f}'} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"cpu": cpu_name(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
