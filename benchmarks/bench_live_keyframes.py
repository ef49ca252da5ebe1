"""The live picture on a CPU with the camera moving: every frame painted by a small model (the light one, or a
student given as a file), or the full model painting keyframes with the frames between carried along the motion.

A hand-held camera films a photo (`bench_live_stabilize.py`'s simulated clip, 640×480 at 30 fps, every pose
known) into a file that plays at its own rate, like a camera; the live session runs on it in real time,
headless, with every default on, so the keyframes come as fast as this CPU paints them. Each shown frame is
kept with the index of the frame it shows, then scored as `bench_live_quality.py` scores a still: the style
ratio and the layer ratio against the built-in style (lower follows the style more), the content change
against the frame it shows, and the edge alignment: the correlation of the shown frame's edges (Sobel
magnitude at 160 px) with its camera frame's. A picture carried along the motion smears and lags its frame,
which a Gram yardstick alone rates well (smears look like strokes); the alignment shows it. The warping error
between consecutive shown frames (moved by the true camera motion) says how steady the picture is.

    python benchmarks/bench_live_keyframes.py --vgg VGG_PATH
    python benchmarks/bench_live_keyframes.py --vgg VGG_PATH --candidates light:448:every,full:320:keyframes --seconds 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import torch
from bench_live_quality import cpu_name, weights_of
from bench_live_stabilize import FPS, camera_path, film

from realtime.imaging.frames import frame_to_tensor
from realtime.imaging.images import read_image
from realtime.live.catalog import StyleCatalog
from realtime.live.session import LiveSession
from realtime.live.settings import LiveOptions
from realtime.model.style_spec import StyleSpec
from realtime.model.weights import shipped_weights
from realtime.perceptual.layers import CONTENT_LAYER, STYLE_LAYERS
from realtime.perceptual.quality import content_change, layer_distances, style_distance
from realtime.perceptual.vgg import VGGFeatures
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.capture import VideoCaptureSource
from realtime.video.settings import STABILIZE_STRENGTH
from realtime.video.writer import VideoWriter

STYLES = ("candy", "mosaic", "starry_night", "the_scream")


def live_run(
    stylizer: Stylizer,
    style: str,
    clip: Path,
    size: int,
    keyframes: bool,
    stabilize: float,
    frames: int,
    palette: bool = True,
) -> tuple[list, object]:
    """The shown frames of a real-time live session as (source frame index, frame), and its summary; `palette`:
    a style picture's output recoloured to its palette (the app's default)."""
    shown: list[tuple[int, np.ndarray]] = []

    def keep(session: LiveSession) -> list:
        if session.output is not None and session.stats.frames > len(shown):
            shown.append((session.frame.index, session.output.copy()))
        return []

    options = LiveOptions(
        working_size=size,
        keyframes=keyframes,
        stabilize=stabilize,
        max_frames=frames,
        display_max_side=640,
        palette=palette,
    )
    catalog = StyleCatalog(stylizer.weights.bank.names(), start=[StyleSpec(style)])
    source = VideoCaptureSource(str(clip), loop=False)
    summary = LiveSession(stylizer, source, catalog, options, inputs=[keep]).run()
    return shown, summary


def warping_error(shown: list[tuple[int, np.ndarray]], poses: list[np.ndarray]) -> float:
    """Mean |frame − the previous shown frame moved by the true camera motion| over pixels seen in both."""
    errors = []
    for (i, prev), (j, cur) in pairwise(shown):
        if i == j:
            continue
        h, w = cur.shape[:2]
        motion = (poses[j] @ np.linalg.inv(poses[i]))[:2]
        moved = cv2.warpAffine(prev.astype(np.float32), motion, (w, h), flags=cv2.INTER_LINEAR)
        seen = cv2.warpAffine(np.ones((h, w), np.float32), motion, (w, h), flags=cv2.INTER_NEAREST) > 0.5
        seen = cv2.erode(seen.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        errors.append(np.abs(cur.astype(np.float32) - moved)[seen].mean())
    return float(np.mean(errors))


def edge_alignment(shown: np.ndarray, frame: np.ndarray, width: int = 160) -> float:
    """Correlation of the two pictures' edge strengths (Sobel magnitude of grey, at `width` px wide)."""
    edges = []
    for picture in (shown, frame):
        grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY).astype(np.float32)
        grey = cv2.resize(grey, (width, round(width * grey.shape[0] / grey.shape[1])), interpolation=cv2.INTER_AREA)
        edges.append(np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)).ravel())
    return float(np.corrcoef(*edges)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vgg", help="VGG16 features file (default: torchvision's download)")
    parser.add_argument(
        "--candidates",
        default="light:448:every,light:512:every,full:320:keyframes",
        help="MODEL:WORKING_SIZE:every|keyframes[:STABILIZE], comma-separated, MODEL a shipped model or a "
        ".safetensors file (STABILIZE default: the live "
        f"default, {STABILIZE_STRENGTH:g}; keyframes fade in instead of being stabilised)",
    )
    parser.add_argument("--photo", default="sample:astronaut", help="photo the camera films")
    parser.add_argument("--seconds", type=float, default=5.0, help="clip length (default 5)")
    parser.add_argument("--score-every", type=int, default=5, help="score every Nth shown frame (default 5)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    vgg = VGGFeatures.load(args.vgg, "vgg16")
    photo = read_image(args.photo)
    scale = max(1.0, 1100 / min(photo.shape[:2]))
    photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    frames = round(args.seconds * FPS)
    poses = camera_path(frames)
    clip_frames = film(photo, poses, (640, 480), 3.0)
    models = {text.split(":")[0] for text in args.candidates.split(",")}
    stylizers = {model: Stylizer(weights_of(model), "cpu") for model in models}
    bank = shipped_weights("full")
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        clip = Path(scratch) / "handheld.mkv"
        with VideoWriter(clip, FPS, codec="ffv1") as writer:
            for frame in clip_frames:
                writer.write(frame)
        for style in STYLES:
            grams = {layer: bank.vgg_bank[layer][bank.bank.names().index(style)] for layer in STYLE_LAYERS}
            for text in args.candidates.split(","):
                model, size, mode, stabilize = (*text.split(":"), STABILIZE_STRENGTH)[:4]
                stylizer = stylizers[model]
                shown, summary = live_run(
                    stylizer, style, clip, int(size), mode == "keyframes", float(stabilize), frames
                )
                keys = ("ratio", "layers", "change", "aligned", "warp", "fps", "gen", "lat")
                row = results.setdefault(text, {k: [] for k in keys})
                for index, frame in shown[:: args.score_every]:
                    with torch.no_grad():
                        base = vgg(frame_to_tensor(clip_frames[index]), STYLE_LAYERS)
                        out = vgg(frame_to_tensor(frame), STYLE_LAYERS)
                    row["ratio"].append(float(style_distance(out, grams)[0] / style_distance(base, grams)[0]))
                    ours, photo = layer_distances(out, grams), layer_distances(base, grams)
                    row["layers"].append(float(np.mean([float(ours[k][0] / photo[k][0]) for k in STYLE_LAYERS])))
                    row["change"].append(float(content_change(out[CONTENT_LAYER], base[CONTENT_LAYER])[0]))
                    row["aligned"].append(edge_alignment(frame, clip_frames[index]))
                row["warp"].append(warping_error(shown, poses))
                row["fps"].append(summary.fps)
                row["gen"].append(summary.generator_ms)
                row["lat"].append(summary.latency_ms)
                if style == STYLES[0]:
                    picks = [shown[len(shown) * k // 4][1] for k in range(4)]
                    sheet = np.vstack([np.hstack(picks[:2]), np.hstack(picks[2:])])
                    cv2.imwrite(f"live-keyframes-{text.replace(':', '-')}.jpg", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(
        f"CPU: {cpu_name()}, 2 threads; {args.photo} filmed hand-held, 640x480 at {FPS:g} fps, {args.seconds:g} s, "
        f"in real time; styles {', '.join(STYLES)}; input clip warping error {warping_error(list(enumerate(clip_frames)), poses):.2f}"
    )
    print(
        "| model | working size | frames painted | stabilize | mean style ratio (median) | layer ratio | "
        "content change | edge alignment | warping error | fps | generator ms | latency ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for text, r in results.items():
        model, size, mode, stabilize = (*text.split(":"), STABILIZE_STRENGTH)[:4]
        print(
            f"| {model} | {size} | {mode} | {float(stabilize):g} | {np.mean(r['ratio']):.4f} "
            f"({np.median(r['ratio']):.4f}) | {np.mean(r['layers']):.3f} | {np.mean(r['change']):.3f} | "
            f"{np.mean(r['aligned']):.2f} | {np.mean(r['warp']):.2f} | {statistics.median(r['fps']):.1f} | "
            f"{statistics.median(r['gen']):.0f} | {statistics.median(r['lat']):.0f} |"
        )


if __name__ == "__main__":
    main()
