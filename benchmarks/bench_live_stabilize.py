"""Flicker in the live loop and in `realtime video`: warping error with and without stabilisation, and its cost.

No real footage ships with the project, so the clip is a photo filmed by a simulated hand-held camera: a
drifting pan with a little rotation and zoom, plus sensor noise (what makes per-frame stylisation flicker),
at 30 fps. Because every frame's camera pose is known, the warping error (mean |out(t) − out(t−1) moved
by the true motion| over pixels seen in both frames) does not trust the optical flow it evaluates.

- live: the live session itself (`LiveSession`, offline so every frame is shown) with `stabilize` 0 and on;
  the shown frames are compared. The cost is the loop's own time per frame, timed in alternating rounds.
- video: per-frame stylisation, then `TemporalStabilizer` as `realtime video --stabilize` runs it.

    python benchmarks/bench_live_stabilize.py
    python benchmarks/bench_live_stabilize.py --model full --size 256 --photo my_photo.jpg
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np

from realtime.imaging.images import read_image
from realtime.live.catalog import StyleCatalog
from realtime.live.renderer import LiveRenderer
from realtime.live.session import LiveSession
from realtime.live.settings import LiveOptions
from realtime.model.style_spec import StyleSpec
from realtime.model.weights import shipped_weights
from realtime.runtimes.look import Look
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.capture import VideoCaptureSource
from realtime.video.stabilize import TemporalStabilizer
from realtime.video.writer import VideoWriter

FPS = 30.0


def camera_path(frames: int, seed: int = 0) -> list[np.ndarray]:
    """3×3 photo → frame transforms of a hand-held camera: a drifting pan, a sway of rotation and zoom."""
    rng = np.random.default_rng(seed)
    velocity, poses, x, y = np.zeros(2), [], 0.0, 0.0
    for t in range(frames):
        velocity = 0.9 * velocity + rng.normal(0, 0.6, 2)
        x, y = x + 2.0 + velocity[0], y + velocity[1]
        angle = 1.5 * np.sin(t / 17.0)
        scale = 1.0 + 0.04 * np.sin(t / 23.0)
        m = cv2.getRotationMatrix2D((0.0, 0.0), angle, scale)
        m[:, 2] = (-x, -y)
        poses.append(np.vstack([m, [0, 0, 1]]))
    return poses


def film(photo: np.ndarray, poses: list[np.ndarray], size: tuple[int, int], noise: float) -> list[np.ndarray]:
    """The frames the camera sees, offset into the photo's middle so they never leave it."""
    rng = np.random.default_rng(1)
    h, w = photo.shape[:2]
    offset = np.array([[1, 0, -(w - size[0]) / 2 + 60], [0, 1, -(h - size[1]) / 2], [0, 0, 1]])  # pans right
    frames = []
    for pose in poses:
        view = cv2.warpAffine(photo, (pose @ offset)[:2], size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        frames.append(np.clip(view + rng.normal(0, noise, view.shape), 0, 255).astype(np.uint8))
    return frames


def warping_error(outputs: list[np.ndarray], poses: list[np.ndarray]) -> float:
    """Mean |out(t) − out(t−1) carried by the true camera motion| over pixels seen in both frames."""
    errors = []
    h, w = outputs[0].shape[:2]
    for (prev, cur), (p0, p1) in zip(pairwise(outputs), pairwise(poses)):
        motion = (p1 @ np.linalg.inv(p0))[:2]  # frame t−1 pixel → frame t pixel
        moved = cv2.warpAffine(prev.astype(np.float32), motion, (w, h), flags=cv2.INTER_LINEAR)
        seen = cv2.warpAffine(np.ones((h, w), np.float32), motion, (w, h), flags=cv2.INTER_NEAREST) > 0.5
        seen = cv2.erode(seen.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        errors.append(np.abs(cur.astype(np.float32) - moved)[seen].mean())
    return float(np.mean(errors))


def live_outputs(
    stylizer: Stylizer, style: str, clip: Path, size: int, stabilize: float, frames: int
) -> list[np.ndarray]:
    """Every frame the live loop shows in `style` (offline: none dropped), with stabilisation `stabilize`."""
    shown: list[np.ndarray] = []

    def keep(session: LiveSession) -> list:
        if session.output is not None and session.stats.frames > len(shown):
            shown.append(session.output.copy())
        return []

    options = LiveOptions(working_size=size, realtime=False, max_frames=frames, stabilize=stabilize)
    catalog = StyleCatalog(stylizer.weights.bank.names()[:1], start=[StyleSpec(style)])
    LiveSession(stylizer, VideoCaptureSource(str(clip), drop=False), catalog, options, inputs=[keep]).run()
    return shown


def loop_ms(stylizer: Stylizer, look: Look, clip: list[np.ndarray], size: int, stabilize: float, rounds: int) -> float:
    """The live renderer's time per frame (generator, stabilisation, enlarging), median over rounds."""
    renderer = LiveRenderer(stylizer, 1280, stabilize=stabilize)
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        for frame in clip:
            renderer.render(frame, size, look)
        times.append((time.perf_counter() - began) * 1000 / len(clip))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="light", help="shipped model (default light)")
    parser.add_argument("--style", help="built-in style (default: the first)")
    parser.add_argument("--photo", default="sample:hubble_deep_field", help="photo the camera films")
    parser.add_argument("--size", type=int, default=320, help="live working size (default 320)")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--noise", type=float, default=3.0, help="sensor noise, grey levels (default 3)")
    parser.add_argument("--stabilize", type=float, default=0.6, help="stabilisation strength (default 0.6)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    weights = shipped_weights(args.model)
    stylizer = Stylizer(weights, "cpu")
    style = args.style or weights.bank.names()[0]
    look = stylizer.look([style])
    photo = read_image(args.photo)
    scale = max(1.0, 1100 / min(photo.shape[:2]))
    photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    poses = camera_path(args.frames)
    clip = film(photo, poses, (640, 480), args.noise)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "handheld.mkv"
        with VideoWriter(path, FPS, codec="ffv1") as writer:
            for frame in clip:
                writer.write(frame)
        live = {s: live_outputs(stylizer, style, path, args.size, s, args.frames) for s in (0.0, args.stabilize)}
    ms = {s: [] for s in (0.0, args.stabilize)}
    for _ in range(args.rounds):
        for s in ms:
            ms[s].append(loop_ms(stylizer, look, clip[:20], args.size, s, 1))
    per_frame = [stylizer(frame, look) for frame in clip]
    stabilizer = TemporalStabilizer(args.stabilize)
    video = {0.0: per_frame, args.stabilize: [stabilizer(f, o) for f, o in zip(clip, per_frame)]}

    print(f"model {args.model} ({stylizer.runtime}), style {style}; {args.frames} frames of 640x480 at {FPS:g} fps")
    print(f"input clip warping error (noise floor): {warping_error(clip, poses):.2f}")
    print("| path | stabilize | warping error | vs off | ms / frame | fps cost |")
    print("|---|---|---|---|---|---|")
    for name, outputs in (("live", live), ("video", video)):
        off = warping_error(outputs[0.0], poses)
        for s, frames in outputs.items():
            error = warping_error(frames, poses)
            cost = ""
            if name == "live":
                base, now = statistics.median(ms[0.0]), statistics.median(ms[s])
                cost = f"{now:.1f} | {now / base - 1:+.0%}"
            else:
                cost = " | "
            print(f"| {name} | {s:g} | {error:.2f} | {error / off:.2f}× | {cost} |")


if __name__ == "__main__":
    main()
