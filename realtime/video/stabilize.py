"""Temporal stabilisation: per-frame stylisation flickers, so lean each output on the previous one.

The previous *output* is carried along the motion of the *input* (dense DIS optical flow, which is
fast on a CPU) and blended into the new output wherever that motion is trustworthy. Pixels that
fail a forward–backward flow check (occlusions, objects entering), whose warped input no longer
matches (lighting changes, scene cuts) or that come from outside the frame keep the fresh
stylisation, so flicker drops without ghosting (the masking of Ruder et al. 2016, applied as a
cheap post-process instead of a loss).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

# Flow is estimated on a copy whose long side is at most this; stylised motion is smooth at that scale.
FLOW_SIDE = 640
# Forward–backward consistency |f + b|² ≤ α(|f|² + |b|²) + β (in flow pixels), from Sundaram et al. 2010.
_CONSISTENCY_ALPHA = 0.01
_CONSISTENCY_BETA = 0.5
# DIS refuses smaller frames: each side must hold a patch (8 pixels in the fast preset) and the long
# side a coarsest pyramid level (12 pixels).
_FLOW_MIN_SHORT_SIDE, _FLOW_MIN_LONG_SIDE = 8, 12
# Grey-level difference between an input frame and its warped predecessor above which the warp is not trusted.
_PHOTOMETRIC_LIMIT = 24.0


class TemporalStabilizer:
    """Feed it (input frame, stylised frame) pairs in order; it returns the stabilised output frame.

    `strength` is the weight of the warped previous output where the flow is reliable (0 = off).
    Frames too small for the optical flow (a side under 8 pixels, or both under 12) pass through
    unblended, as DIS cannot run on them.
    """

    def __init__(self, strength: float, flow_side: int = FLOW_SIDE) -> None:
        if not 0.0 <= strength < 1.0:
            raise ValueError(f"stabilisation strength must be in [0, 1), got {strength}")
        self.strength = strength
        self.flow_side = flow_side
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._prev_gray: np.ndarray | None = None
        self._prev_out: np.ndarray | None = None  # float32: see __call__

    def reset(self) -> None:
        """Forget the previous frame (a cut, a new style): the next frame is taken as it is."""
        self._prev_gray = self._prev_out = None

    def __call__(self, content: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 RGB input and its stylisation (same size) → stabilised H×W×3 uint8 RGB."""
        if content.shape != stylized.shape:
            raise ValueError(f"input {content.shape} and stylised {stylized.shape} frames differ in size")
        gray = flow_gray(content, self.flow_side)
        prev_gray, prev_out = self._prev_gray, self._prev_out
        too_small = not flow_fits(gray)
        no_previous = prev_gray is None or prev_gray.shape != gray.shape or prev_out.shape != stylized.shape
        if self.strength == 0.0 or too_small or no_previous:
            steady = stylized.astype(np.float32)
        else:
            warped, trust = self.warp_previous(gray, prev_gray, prev_out)
            weight = trust * self.strength
            steady = cv2.blendLinear(stylized.astype(np.float32), warped, 1.0 - weight, weight)
        # The blend is carried on unrounded: rounded to uint8 each frame, a still pixel could settle on any of
        # three levels and keep it, so two runs started apart (the chunks of a long video) would never agree.
        self._prev_gray, self._prev_out = gray, steady
        return np.rint(steady).astype(np.uint8)

    def warp_previous(
        self, gray: np.ndarray, prev_gray: np.ndarray, prev_out: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The previous output moved onto the current frame, and a float32 0–1 map of where to trust it.

        Flow and masks are computed at the (small) flow size; only the final warp runs at full size.
        """
        backward = self._flow.calc(gray, prev_gray, None)  # current pixel → where it was
        forward = self._flow.calc(prev_gray, gray, None)
        h, w = gray.shape
        source = backward + pixel_grid(h, w)
        forward_at_source = cv2.remap(forward, source, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        round_trip = backward + forward_at_source
        motion = _squared_norm(backward) + _squared_norm(forward_at_source)
        consistent = _squared_norm(round_trip) <= _CONSISTENCY_ALPHA * motion + _CONSISTENCY_BETA
        trust = (consistent & inside(source, h, w) & matches(gray, prev_gray, source)).astype(np.float32)
        # A soft edge keeps mask boundaries from showing as seams.
        trust = cv2.blur(trust, (3, 3))

        out_h, out_w = prev_out.shape[:2]
        if (out_h, out_w) != (h, w):
            source = scale_map(source, out_h, out_w)
            trust = cv2.resize(trust, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
        warped = cv2.remap(prev_out, source, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return warped, trust


def flow_gray(content: np.ndarray, flow_side: int) -> np.ndarray:
    """The grey copy optical flow runs on: long side at most `flow_side`."""
    gray = cv2.cvtColor(content, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    if max(h, w) > flow_side:
        scale = flow_side / max(h, w)
        gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return gray


def inside(source: np.ndarray, h: int, w: int) -> np.ndarray:
    """Where an absolute remap map points inside an `h`×`w` image."""
    x, y = source[..., 0], source[..., 1]
    return (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)


def matches(gray: np.ndarray, prev_gray: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Where `prev_gray` moved along `source` (absolute, at its size) still looks like `gray`."""
    moved = cv2.remap(prev_gray, source, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.absdiff(gray, moved) < _PHOTOMETRIC_LIMIT


def flow_fits(gray: np.ndarray) -> bool:
    """Whether DIS can run on a grey frame this size."""
    return min(gray.shape) >= _FLOW_MIN_SHORT_SIDE and max(gray.shape) >= _FLOW_MIN_LONG_SIDE


@functools.lru_cache(maxsize=8)  # a live session or a video uses one or two flow sizes at a time
def pixel_grid(h: int, w: int) -> np.ndarray:
    """Pixel coordinates (x, y) as H×W×2 float32, kept per size: remap wants absolute positions (read-only)."""
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    grid = np.dstack([xs, ys])
    grid.flags.writeable = False
    return grid


def scale_map(source: np.ndarray, out_h: int, out_w: int, into: tuple[int, int] | None = None) -> np.ndarray:
    """An absolute remap map made at a small size, for an `out_h`×`out_w` output sampling an image of size
    `into` (height, width; default the output's own).

    Upsampling is linear, so scaling the small absolute map and shifting it by the half-pixel offset of
    cv2.resize gives the full-size map in one pass (exact except the outermost pixels).
    """
    h, w = source.shape[:2]
    into_h, into_w = into or (out_h, out_w)
    sx, sy = into_w / w, into_h / h
    source = source * np.float32([sx, sy]) + np.float32([(sx - 1) / 2, (sy - 1) / 2])
    return cv2.resize(source, (out_w, out_h), interpolation=cv2.INTER_LINEAR)


def _squared_norm(vectors: np.ndarray) -> np.ndarray:
    """|v|² of an H×W×2 field (einsum avoids numpy's slow reduction over a length-2 axis)."""
    return np.einsum("ijk,ijk->ij", vectors, vectors)
