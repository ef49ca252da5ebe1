"""Photos held in memory for training: decoded once, kept as uint8 on the device, cropped per step.

Every image is decoded once and kept as uint8 on the training device (900 photos at 256 px are about
240 MB), so a batch is a few crops and an index lookup: no loader processes, no JPEG decoding per step,
and no host-to-device copies inside the training loop. Both trainers use it: MSG-Net's (`training/`) and
the WCT decoders' (`wct/`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.imaging.frames import frame_to_tensor, rescale
from realtime.imaging.images import read_image


def read_images(files: Sequence[Path], what: str) -> tuple[list[Path], list[np.ndarray]]:
    """Decode files in threads (Pillow releases the GIL); unreadable ones are skipped with one warning."""
    with ThreadPoolExecutor(max(1, min(16, os.cpu_count() or 1)), thread_name_prefix="photo decode") as pool:
        results = list(pool.map(_read_or_none, files))
    kept = [(path, frame) for path, frame in zip(files, results) if frame is not None]
    skipped = [path.name for path, frame in zip(files, results) if frame is None]
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable {what} image(s): {', '.join(skipped[:3])}", stacklevel=2)
    if not kept:
        raise RealtimeError(f"none of the {len(files)} {what} images could be read")
    return [path for path, _ in kept], [frame for _, frame in kept]


def _read_or_none(path: Path) -> np.ndarray | None:
    try:
        return read_image(path)
    except RealtimeError:
        return None


def evenly_spaced(count: int, total: int) -> list[int]:
    """`count` distinct indices spread over range(total): a fixed choice that needs no random seed."""
    return sorted({(i * total) // count for i in range(count)}) if count else []


class ContentSet:
    """Content photos with their short side at the crop size; batches are random crops, randomly mirrored."""

    def __init__(self, frames: Sequence[np.ndarray], size: int, device: torch.device | str) -> None:
        if not frames:
            raise RealtimeError("no content photos to train on")
        self.size = size
        self.images = [frame_to_tensor(rescale(f, size / min(f.shape[:2])), device, torch.uint8)[0] for f in frames]

    def __len__(self) -> int:
        return len(self.images)

    def crops(self, indices: Tensor, uniform: Tensor) -> Tensor:
        """B×3×S×S uint8 crops of photos `indices`; `uniform` (B×3 in [0,1)) places each crop and flips it."""
        size, crops = self.size, []
        for index, (fy, fx, flip) in zip(indices.tolist(), uniform.tolist()):
            image = self.images[index]
            top = int(fy * (image.shape[1] - size + 1))
            left = int(fx * (image.shape[2] - size + 1))
            crop = image[:, top : top + size, left : left + size]
            crops.append(crop.flip(2) if flip < 0.5 else crop)
        return torch.stack(crops)
