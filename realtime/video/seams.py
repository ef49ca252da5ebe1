"""How much a stylised video changes that its scene did not: the warping error, frame to frame, and at the
joins of a chunked run against everywhere else. A visible seam is a join whose error stands out."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from realtime.video.chunks import ChunkPlan
from realtime.video.stabilize import FLOW_SIDE, TemporalStabilizer, flow_gray


def warping_errors(contents: Sequence[np.ndarray], outputs: Sequence[np.ndarray]) -> np.ndarray:
    """For each frame after the first, the mean |output − previous output carried along the input's motion|
    over the pixels where that motion is trusted (the stabiliser's forward–backward and brightness checks)."""
    flow = TemporalStabilizer(0.0)
    grays = [flow_gray(content, FLOW_SIDE) for content in contents]
    errors = []
    for index in range(1, len(outputs)):
        warped, trust = flow.warp_previous(grays[index], grays[index - 1], outputs[index - 1])
        difference = np.abs(outputs[index].astype(np.float32) - warped.astype(np.float32)).mean(axis=2)
        errors.append(float((difference * trust).sum() / max(trust.sum(), 1.0)))
    return np.array(errors)


def seam_frames(plan: ChunkPlan, times: Sequence[float]) -> list[int]:
    """Indices (into `times`, the output's frame times in order) of each chunk's first frame but the first's."""
    return [bisect.bisect_left(times, chunk.start) for chunk in plan.chunks[1:]]


def seam_and_interior(errors: np.ndarray, seams: Sequence[int]) -> tuple[float, float]:
    """Mean warping error into the frames at `seams` (`warping_errors`' entry i is frame i + 1's), and into the rest."""
    at_seam = np.zeros(len(errors), bool)
    at_seam[[index - 1 for index in seams if 0 < index <= len(errors)]] = True
    return float(errors[at_seam].mean()), float(errors[~at_seam].mean())
