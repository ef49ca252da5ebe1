"""A keyframe's flow: anchored to the key's frame, its frame-to-frame jitter damped."""

from __future__ import annotations

import cv2
import numpy as np

from realtime.live.keyframe_flow import KeyFlow
from realtime.sources.sample import SampleSource
from realtime.video.stabilize import flow_gray, pixel_grid

PAN = 2  # pixels the camera pans right each frame


def view(offset: int) -> np.ndarray:
    """A grey 120×160 view of the sample footage, panned right by `offset` pixels."""
    wide = cv2.resize(SampleSource().frame_at(0.5), (240, 180), interpolation=cv2.INTER_AREA)
    return flow_gray(np.ascontiguousarray(wide[30:150, 20 + offset : 180 + offset]), 160)


def truth(offset: int) -> np.ndarray:
    """Where each pixel of the view panned by `offset` was in the unpanned one."""
    return pixel_grid(120, 160) + np.float32([offset, 0])


def error(source: np.ndarray, offset: int) -> float:
    return float(np.abs(source - truth(offset))[20:-20, 20:-20].mean())


def test_the_maps_follow_a_pan_to_the_key_frame():
    flow, key = KeyFlow(), object()
    key_gray = view(0)
    for t in range(1, 12):
        gray = view(t * PAN)
        source = flow.steady(gray, key, flow.direct(gray, key_gray))
        assert error(source, t * PAN) < 0.5, f"frame {t}"


def test_a_jittery_direct_flow_is_damped_and_a_new_key_starts_from_its_own():
    flow, key = KeyFlow(), object()
    rng = np.random.default_rng(0)
    direct_errors, steady_errors = [], []
    for t in range(1, 12):
        gray = view(t * PAN)
        jittery = truth(t * PAN) + rng.normal(0, 1.0, 2).astype(np.float32)  # the whole map off by a new shift
        source = flow.steady(gray, key, jittery)
        if t > 1:
            direct_errors.append(error(jittery, t * PAN))
            steady_errors.append(error(source, t * PAN))
        else:
            np.testing.assert_array_equal(source, jittery)  # the key's first frame: nothing to steady it with
    assert np.mean(steady_errors) < 0.8 * np.mean(direct_errors)

    gray = view(12 * PAN)
    jittery = truth(12 * PAN) + np.float32([0.7, -0.7])
    np.testing.assert_array_equal(flow.steady(gray, object(), jittery), jittery)
