"""Where each pixel of a frame was in the frame a keyframe was painted from, steady from frame to frame.

A key is carried by one optical flow from each frame back to the painted one. Computed afresh every frame,
that flow is off by a fraction of a pixel in a different way each time, and a painted picture's hard
strokes turn that into shimmer. The last frame's map moved along the small frame-to-frame flow is steady
but drifts as the errors add up. Each frame takes half of each: the direct flow anchors the map, the
carried one damps its jitter (docs/benchmarks.md).
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.video.stabilize import inside, pixel_grid

DIRECT_WEIGHT = 0.5  # the direct flow's share of each frame's map; the rest is the last map carried along


class KeyFlow:
    """Maps (absolute, at the flow size) from each frame to a key's frame, for one key after another."""

    def __init__(self) -> None:
        # A key is carried over tens of frames of motion, where DIS's fast preset loses track and the medium
        # one follows; between consecutive frames the motion is small and the fast one enough.
        self._direct = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self._step = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._last: tuple[object, np.ndarray, np.ndarray] | None = None  # (key, grey frame, its map)

    def direct(self, gray: np.ndarray, key_gray: np.ndarray) -> np.ndarray:
        """This frame's own flow to the key's frame (grey copies at the flow size) as an absolute map."""
        return self._direct.calc(gray, key_gray, None) + pixel_grid(*gray.shape)

    def steady(self, gray: np.ndarray, key: object, direct: np.ndarray) -> np.ndarray:
        """`direct` (from `self.direct`) blended with the last frame's map to the same `key` carried onto this
        frame; the first frame of a key, and pixels that come from outside the last frame, take it alone."""
        source, last = direct, self._last
        if last is not None and last[0] is key and last[1].shape == gray.shape:
            step = self._step.calc(gray, last[1], None) + pixel_grid(*gray.shape)
            carried = cv2.remap(last[2], step, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            blended = cv2.addWeighted(direct, DIRECT_WEIGHT, carried, 1.0 - DIRECT_WEIGHT, 0.0)
            source = np.where(inside(step, *gray.shape)[..., None], blended, direct)
        self._last = (key, gray, source)
        return source
