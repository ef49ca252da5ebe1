"""How closely and how steadily a keyframe is carried along the camera's motion: optical flows against the truth.

A keyframe is painted from one frame and carried onto the frames after it, further and further from where it
was painted, by a flow from each frame back to the painted one. On `bench_live_stabilize.py`'s simulated
hand-held clip (640×480 at 30 fps, every pose known) the full model paints candy at 512×384 from a few frames;
each picture, carried onto a frame t frames later, is compared with the same picture moved by the true camera
motion (the carry error: mean |difference| in grey levels over pixels both see), and each carried frame with
the one before it moved by the true motion (the jitter, as `bench_live_keyframes.py`'s warping error: what the
eye sees as shimmer; carried by the true motion itself, the picture's resampling alone leaves the floor
printed first). Rows: DIS presets computing the flow afresh every frame (the fast one, the stabiliser's, is
the reference), and the live path (`KeyFlow`: the medium preset steadied by the last frame's map carried
along). Flows run at the live flow size, 160 px; milliseconds are a frame's flow, median of repeated calls in
the same run.

    python benchmarks/bench_keyframe_flow.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np
import torch
from bench_live_keyframes import warping_error
from bench_live_quality import cpu_name
from bench_live_stabilize import camera_path, film

from realtime.imaging.frames import resize_frame
from realtime.imaging.images import read_image
from realtime.live.keyframe_flow import KeyFlow
from realtime.live.renderer import LIVE_FLOW_SIDE
from realtime.model.weights import shipped_weights
from realtime.runtimes.stylizer import Stylizer
from realtime.video.stabilize import flow_gray, pixel_grid, scale_map

SIZE = (640, 480)
PAINTED = (384, 512)  # the working size keyframes are painted at on a CPU that paints them (height, width)
STARTS = (0, 50, 100, 150)  # frames a key is painted from
CARRIED = 40  # frames each key is carried over
BANDS = 10  # frames of carrying per column

Maps = Callable[[np.ndarray, np.ndarray, object], np.ndarray]  # (grey frame, grey key frame, key) → map


def direct(preset: int, refine: int | None = None) -> Maps:
    flow = cv2.DISOpticalFlow_create(preset)
    if refine is not None:
        flow.setVariationalRefinementIterations(refine)
    return lambda gray, key_gray, key: flow.calc(gray, key_gray, None) + pixel_grid(*gray.shape)


def steadied() -> Maps:
    flow = KeyFlow()
    return lambda gray, key_gray, key: flow.steady(gray, key, flow.direct(gray, key_gray))


METHODS = {
    "fast (the reference)": lambda: direct(cv2.DISOPTICAL_FLOW_PRESET_FAST),
    "medium, no variational refinement": lambda: direct(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, 0),
    "medium": lambda: direct(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM),
    "**medium, steadied (live)**": steadied,
}


def relative(poses: list[np.ndarray], start: int, t: int) -> np.ndarray:
    """The true camera motion from frame `start` to frame `t`, as a 2×3 affine map."""
    return (poses[t] @ np.linalg.inv(poses[start]))[:2]


def carry_error(carried: np.ndarray, truth: np.ndarray, motion: np.ndarray) -> float:
    """Mean |difference| over pixels the moved key frame still covers (away from its border)."""
    w, h = SIZE
    seen = cv2.warpAffine(np.ones((h, w), np.uint8), motion, SIZE, flags=cv2.INTER_NEAREST)
    seen = cv2.erode(seen, np.ones((9, 9), np.uint8)).astype(bool)
    return float(np.abs(carried.astype(np.float32) - truth.astype(np.float32))[seen].mean())


def moved(picture: np.ndarray, motion: np.ndarray) -> np.ndarray:
    return cv2.warpAffine(picture, motion, SIZE, flags=cv2.INTER_LINEAR)


def carry(
    maps: Maps, pictures: dict[int, np.ndarray], frames: list[np.ndarray], poses: list[np.ndarray]
) -> tuple[list[list[float]], float]:
    """Per band of frames carried, the carry errors of every key carried that far; and the mean jitter."""
    w, h = SIZE
    bands: list[list[float]] = [[] for _ in range(CARRIED // BANDS)]
    jitter = []
    for start in STARTS:
        picture, key_gray = pictures[start], flow_gray(frames[start], LIVE_FLOW_SIDE)
        enlarged = cv2.resize(picture, SIZE, interpolation=cv2.INTER_CUBIC)
        shown = []
        for t in range(start + 1, start + CARRIED + 1):
            source = maps(flow_gray(frames[t], LIVE_FLOW_SIDE), key_gray, picture)
            carried = cv2.remap(
                picture, scale_map(source, h, w, PAINTED), None, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
            )
            motion = relative(poses, start, t)
            bands[(t - start - 1) // BANDS].append(carry_error(carried, moved(enlarged, motion), motion))
            shown.append((t, carried))
        jitter.append(warping_error(shown, poses))
    return bands, float(np.mean(jitter))


def jitter_floor(pictures: dict[int, np.ndarray], poses: list[np.ndarray]) -> float:
    """The jitter of pictures carried by the true motion: resampling alone."""
    errors = []
    for start in STARTS:
        enlarged = cv2.resize(pictures[start], SIZE, interpolation=cv2.INTER_CUBIC)
        carried = range(start + 1, start + CARRIED + 1)
        errors.append(warping_error([(t, moved(enlarged, relative(poses, start, t))) for t in carried], poses))
    return float(np.mean(errors))


def flow_ms(make: Callable[[], Maps], frames: list[np.ndarray], calls: int = 30) -> float:
    """A frame's flow in a carry: consecutive frames against one key."""
    maps, key_gray = make(), flow_gray(frames[0], LIVE_FLOW_SIDE)
    grays = [flow_gray(frame, LIVE_FLOW_SIDE) for frame in frames[1 : calls + 1]]
    times = []
    for gray in grays:
        began = time.perf_counter()
        maps(gray, key_gray, key_gray)
        times.append((time.perf_counter() - began) * 1000.0)
    return statistics.median(times)


def main() -> None:
    cv2.setNumThreads(2)
    torch.set_num_threads(2)
    photo = read_image("sample:astronaut")
    scale = max(1.0, 1100 / min(photo.shape[:2]))
    photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    poses = camera_path(max(STARTS) + CARRIED + 1)
    frames = film(photo, poses, SIZE, 3.0)
    stylizer = Stylizer(shipped_weights("full"), "cpu")
    stylizer.set_style(["candy"])
    pictures = {start: stylizer(resize_frame(frames[start], PAINTED)) for start in STARTS}
    print(
        f"CPU: {cpu_name()}; hand-held clip 640x480 at 30 fps; candy painted at {PAINTED[1]}x{PAINTED[0]} by the "
        f"full model; flow at {LIVE_FLOW_SIDE} px; keys from frames {STARTS}; "
        f"jitter floor (carried by the true motion) {jitter_floor(pictures, poses):.2f}"
    )
    heads = [f"carried {k * BANDS + 1}–{(k + 1) * BANDS} frames" for k in range(CARRIED // BANDS)]
    print(f"| flow | ms a frame | jitter | {' | '.join(heads)} |")
    print("|---|---|---|" + "---|" * len(heads))
    for name, make in METHODS.items():
        bands, jitter = carry(make(), pictures, frames, poses)
        cells = " | ".join(f"{np.mean(band):.2f}" for band in bands)
        print(f"| {name} | {flow_ms(make, frames):.1f} | {jitter:.2f} | {cells} |")


if __name__ == "__main__":
    main()
