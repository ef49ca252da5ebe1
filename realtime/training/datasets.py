"""Style images held in memory for training, at each training size (the content photos: `imaging/photoset.py`).

Every image is decoded once and kept as uint8 on the training device, so a batch is an index lookup.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from realtime.errors import RealtimeError
from realtime.imaging.frames import frames_to_tensor, rescale


def square_style(frame: np.ndarray, size: int) -> np.ndarray:
    """Long side scaled to `size`, then mirror-padded to size×size.

    Mirroring keeps the painting's local statistics (its Gram matrix barely moves), and equal squares let
    a batch hold a different style per sample.
    """
    h, w = frame.shape[:2]
    scaled = rescale(frame, size / max(h, w))
    h, w = scaled.shape[:2]
    top, left = (size - h) // 2, (size - w) // 2
    return np.pad(scaled, ((top, size - h - top), (left, size - w - left), (0, 0)), mode="symmetric")


class StyleSet:
    """Style images at each training size as S×3×size×size uint8 stacks, indexed by style number."""

    def __init__(
        self,
        names: Sequence[str],
        frames: Sequence[np.ndarray],
        sizes: Sequence[int],
        device: torch.device | str,
    ) -> None:
        if not frames:
            raise RealtimeError("no style images to train on")
        self.names = list(names)
        self.images = {
            size: frames_to_tensor([square_style(f, size) for f in frames], device, torch.uint8) for size in sizes
        }

    def __len__(self) -> int:
        return len(self.names)
