"""A viewer's frame before and after the shared generator: mirrored and scaled in, split for compare out.

Both run on the host as bytes (OpenCV), off the event loop; the generator sees only the working-size frame,
and the viewer gets the frame back at that size (the page scales the video, and a smaller frame is less to
encode and send).
"""

from __future__ import annotations

import numpy as np

from realtime.imaging.frames import fit_long_side

_DIVIDER = 2  # pixels of the white line between the halves in compare mode


def prepare(image: np.ndarray, working_size: int, mirror: bool) -> np.ndarray:
    """The camera frame as the generator sees it: flipped left-right when mirrored, long side at most `working_size`."""
    if mirror:
        image = image[:, ::-1]
    return np.ascontiguousarray(fit_long_side(image, working_size))


def compare(photo: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Photo on the left half, stylised on the right, a white line between (the live window's `c`)."""
    shown = stylized.copy()
    half = shown.shape[1] // 2
    shown[:, :half] = photo[:, :half]
    shown[:, max(0, half - _DIVIDER // 2) : half + _DIVIDER // 2] = 255
    return shown
