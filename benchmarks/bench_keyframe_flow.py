"""How closely a keyframe is carried along the camera's motion: DIS optical flow presets against the truth.

A keyframe is painted from one frame and carried onto the frames after it, further and further from where
it was painted, by one flow from each frame back to the painted one. On `bench_live_stabilize.py`'s
simulated hand-held clip (640×480 at 30 fps, every pose known) the painted frame itself stands in for its
picture: carried onto a frame t frames later by the flow, it is compared with the same frame moved by the
true camera motion (mean |difference| in grey levels over pixels both see; the clip's sensor noise is
part of it). DIS's fast preset (the stabiliser's, frame to frame) is the reference; flows run at the live
flow size, 160 px. Milliseconds are a flow's, median of repeated calls in the same run.

    python benchmarks/bench_keyframe_flow.py
"""

from __future__ import annotations

import statistics
import time

import cv2
import numpy as np
from bench_live_quality import cpu_name
from bench_live_stabilize import camera_path, film

from realtime.imaging.images import read_image
from realtime.live.renderer import LIVE_FLOW_SIDE
from realtime.video.stabilize import flow_gray, pixel_grid, scale_map

SIZE = (640, 480)
STARTS = (0, 50, 100, 150)  # frames a key is painted from
CARRIED = 40  # frames each key is carried over
BANDS = 10  # frames of carrying per column


def dis(preset: int, refine: int | None = None) -> cv2.DISOpticalFlow:
    flow = cv2.DISOpticalFlow_create(preset)
    if refine is not None:
        flow.setVariationalRefinementIterations(refine)
    return flow


PRESETS = {
    "fast (the reference)": lambda: dis(cv2.DISOPTICAL_FLOW_PRESET_FAST),
    "medium, no variational refinement": lambda: dis(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, 0),
    "medium": lambda: dis(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM),
}


def carry_errors(flow: cv2.DISOpticalFlow, frames: list[np.ndarray], poses: list[np.ndarray]) -> list[list[float]]:
    """Per band of frames carried, the errors of every key carried that far."""
    w, h = SIZE
    bands: list[list[float]] = [[] for _ in range(CARRIED // BANDS)]
    for start in STARTS:
        key, key_gray = frames[start], flow_gray(frames[start], LIVE_FLOW_SIDE)
        for t in range(start + 1, start + CARRIED + 1):
            gray = flow_gray(frames[t], LIVE_FLOW_SIDE)
            source = flow.calc(gray, key_gray, None) + pixel_grid(*gray.shape)
            carried = cv2.remap(key, scale_map(source, h, w), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            motion = (poses[t] @ np.linalg.inv(poses[start]))[:2]
            truth = cv2.warpAffine(key, motion, SIZE, flags=cv2.INTER_LINEAR)
            seen = cv2.warpAffine(np.ones((h, w), np.uint8), motion, SIZE, flags=cv2.INTER_NEAREST)
            seen = cv2.erode(seen, np.ones((9, 9), np.uint8)).astype(bool)
            error = np.abs(carried.astype(np.float32) - truth.astype(np.float32))[seen].mean()
            bands[(t - start - 1) // BANDS].append(float(error))
    return bands


def flow_ms(flow: cv2.DISOpticalFlow, frames: list[np.ndarray], calls: int = 30) -> float:
    a, b = flow_gray(frames[0], LIVE_FLOW_SIDE), flow_gray(frames[20], LIVE_FLOW_SIDE)
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        flow.calc(b, a, None)
        times.append((time.perf_counter() - began) * 1000.0)
    return statistics.median(times)


def main() -> None:
    cv2.setNumThreads(2)
    photo = read_image("sample:astronaut")
    scale = max(1.0, 1100 / min(photo.shape[:2]))
    photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    poses = camera_path(max(STARTS) + CARRIED + 1)
    frames = film(photo, poses, SIZE, 3.0)
    print(
        f"CPU: {cpu_name()}; hand-held clip 640x480 at 30 fps; flow at {LIVE_FLOW_SIDE} px; keys from frames {STARTS}"
    )
    heads = [f"carried {k * BANDS + 1}–{(k + 1) * BANDS} frames" for k in range(CARRIED // BANDS)]
    print(f"| DIS preset | ms a flow | {' | '.join(heads)} |")
    print("|---|---|" + "---|" * len(heads))
    for name, make in PRESETS.items():
        bands = carry_errors(make(), frames, poses)
        cells = " | ".join(f"{np.mean(band):.2f}" for band in bands)
        print(f"| {name} | {flow_ms(make(), frames):.1f} | {cells} |")


if __name__ == "__main__":
    main()
