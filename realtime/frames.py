"""The one place frames change representation: uint8 H×W×3 RGB arrays ⇄ float tensors on a device.

Generator tensors are 1×3×H×W float RGB in 0–255. Uploads move uint8 (4× fewer bytes than float)
and convert on the device; downloads clamp and round on the device before the copy back.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

# Two stride-2 stages: sizes must divide by 4, and the 3×3 reflection pads of the innermost
# stage need at least 2 pixels, so anything smaller than 16 is padded up to 16.
SIZE_MULTIPLE = 4
MIN_SIDE = 16


def frame_to_tensor(frame: np.ndarray, device: torch.device | str = "cpu") -> Tensor:
    """H×W×3 uint8 RGB → 1×3×H×W float32 (0–255) on `device`."""
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 uint8 frame, got {frame.dtype} {frame.shape}")
    pixels = torch.from_numpy(np.ascontiguousarray(frame)).to(device, non_blocking=True)
    return pixels.permute(2, 0, 1).unsqueeze(0).float()


def tensor_to_frame(tensor: Tensor) -> np.ndarray:
    """1×3×H×W float (0–255) → H×W×3 uint8 RGB on the host."""
    pixels = tensor.detach()[0].clamp(0, 255).round().to(torch.uint8)
    return pixels.permute(1, 2, 0).contiguous().cpu().numpy()


def fit_long_side(frame: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale (never upscale) so the long side is at most `max_side`; 0 means no limit."""
    h, w = frame.shape[:2]
    if max_side <= 0 or max(h, w) <= max_side:
        return frame
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def pad_for_generator(tensor: Tensor) -> Tensor:
    """Pad bottom/right to a size the generator accepts; replicate works for any size, even 1×1."""
    h, w = tensor.shape[-2:]
    pad_h = max(MIN_SIDE, -(-h // SIZE_MULTIPLE) * SIZE_MULTIPLE) - h
    pad_w = max(MIN_SIDE, -(-w // SIZE_MULTIPLE) * SIZE_MULTIPLE) - w
    if pad_h == 0 and pad_w == 0:
        return tensor
    return F.pad(tensor, (0, pad_w, 0, pad_h), mode="replicate")
