"""The one place frames change representation: uint8 H×W×3 RGB arrays ⇄ float tensors on a device.

Generator tensors are 1×3×H×W float RGB in 0–255. Uploads move uint8 (4× fewer bytes than float)
and convert on the device; downloads clamp and round on the device before the copy back.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from realtime.imaging.sizes import MIN_SIDE, SIZE_MULTIPLE, padding


def _check_frame(frame: np.ndarray, shape: tuple[int, ...] | None = None) -> None:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or (shape and frame.shape != shape):
        raise ValueError(f"expected {'equal ' if shape else ''}H×W×3 uint8 frames, got {frame.dtype} {frame.shape}")


def frames_to_tensor(
    frames: Sequence[np.ndarray], device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
) -> Tensor:
    """Equal-sized H×W×3 uint8 RGB frames → B×3×H×W (0–255) on `device`, in one upload.

    `dtype=torch.uint8` keeps bytes on the device (training sets held in GPU memory).
    """
    if not frames:
        raise ValueError("expected at least one frame")
    for frame in frames:
        _check_frame(frame, frames[0].shape)
    stacked = np.ascontiguousarray(frames[0][None]) if len(frames) == 1 else np.stack(frames)
    pixels = torch.from_numpy(stacked).to(device, non_blocking=True)
    return pixels.permute(0, 3, 1, 2).to(dtype)


def frame_to_tensor(
    frame: np.ndarray, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
) -> Tensor:
    """H×W×3 uint8 RGB → 1×3×H×W (0–255) on `device`."""
    return frames_to_tensor([frame], device, dtype)


def _to_pixels(tensor: Tensor) -> Tensor:
    """B×3×H×W float (0–255) → B×H×W×3 uint8, still on the tensor's device."""
    return tensor.detach().clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)


def tensor_to_frames(tensor: Tensor) -> list[np.ndarray]:
    """B×3×H×W float (0–255) → B frames (H×W×3 uint8 RGB on the host), in one download."""
    return list(_to_pixels(tensor).contiguous().cpu().numpy())


def tensor_to_frame(tensor: Tensor) -> np.ndarray:
    """1×3×H×W float (0–255) → H×W×3 uint8 RGB on the host."""
    return _to_pixels(tensor[:1]).contiguous().cpu().numpy()[0]


def fit_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """(height, width) scaled down, aspect kept, so the long side is at most `max_side`; 0 means no limit."""
    if max_side <= 0 or max(height, width) <= max_side:
        return height, width
    scale = max_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_frame(frame: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """`resize` for a uint8 frame on the host: area averaging to shrink, bicubic to enlarge.

    On a CPU this is the cheap way (OpenCV on bytes, an order of magnitude faster than on float tensors),
    so frames that stay on the host are resized here, before upload or after download.
    """
    h, w = size
    if (h, w) == frame.shape[:2]:
        return frame
    shrink = h <= frame.shape[0] and w <= frame.shape[1]
    return cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def fit_long_side(frame: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale (never upscale) so the long side is at most `max_side`; 0 means no limit."""
    return resize_frame(frame, fit_size(*frame.shape[:2], max_side))


def rescale(frame: np.ndarray, scale: float) -> np.ndarray:
    """Resize by `scale` (area averaging to shrink, bicubic to enlarge: `resize_frame`)."""
    h, w = frame.shape[:2]
    return resize_frame(frame, (max(1, round(h * scale)), max(1, round(w * scale))))


def center_crop(frame: np.ndarray, size: int) -> np.ndarray:
    """Short side scaled to `size`, then the central size×size square."""
    h, w = frame.shape[:2]
    scaled = rescale(frame, size / min(h, w))
    h, w = scaled.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    return scaled[top : top + size, left : left + size]


def resize(image: Tensor, size: Sequence[int]) -> Tensor:
    """Resize a B×3×H×W (0–255) tensor: area averaging to shrink (no aliasing), bicubic to enlarge."""
    size = tuple(size)
    if tuple(image.shape[-2:]) == size:
        return image
    if image.shape[-2] >= size[0] and image.shape[-1] >= size[1]:
        return F.interpolate(image, size=size, mode="area")
    return F.interpolate(image, size=size, mode="bicubic", align_corners=False).clamp(0, 255)


def pad_for_generator(tensor: Tensor) -> Tensor:
    """Pad bottom/right to a size the generator accepts; replicate works for any size, even 1×1."""
    return pad_to_multiple(tensor, SIZE_MULTIPLE, MIN_SIDE)


def pad_to_multiple(tensor: Tensor, multiple: int, min_side: int = 0) -> Tensor:
    """Pad bottom/right (replicating the edge) to sides that divide by `multiple` and are at least `min_side`."""
    h, w = tensor.shape[-2:]
    pad_h, pad_w = padding(h, multiple, min_side), padding(w, multiple, min_side)
    if pad_h == 0 and pad_w == 0:
        return tensor
    return F.pad(tensor, (0, pad_w, 0, pad_h), mode="replicate")


class FrameTransfer:
    """Uploads and downloads for a stream of same-sized frames, without per-frame host allocations on CUDA.

    On CUDA, frames go through page-locked (pinned) staging buffers that are reused while the frame
    size stays the same, with non-blocking copies; on CPU it is `frame_to_tensor`/`tensor_to_frame`.
    A downloaded array on CUDA is a view of the staging buffer: valid until the next `download`.
    """

    def __init__(self, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self._pinned = self.device.type == "cuda"
        self._host_in: Tensor | None = None
        self._device_in: Tensor | None = None
        self._host_out: Tensor | None = None
        self._upload_done: torch.cuda.Event | None = None

    def upload(self, frame: np.ndarray) -> Tensor:
        """H×W×3 uint8 RGB → 1×3×H×W float32 (0–255) on the device."""
        if not self._pinned:
            return frame_to_tensor(frame, self.device)
        _check_frame(frame)
        if self._host_in is None or tuple(self._host_in.shape) != frame.shape:
            self._host_in = torch.empty(frame.shape, dtype=torch.uint8, pin_memory=True)
            self._device_in = torch.empty(frame.shape, dtype=torch.uint8, device=self.device)
            self._upload_done = torch.cuda.Event()
        elif self._upload_done is not None:
            self._upload_done.synchronize()  # the previous copy must have left the staging buffer
        np.copyto(self._host_in.numpy(), frame)
        self._device_in.copy_(self._host_in, non_blocking=True)
        self._upload_done.record(torch.cuda.current_stream(self.device))
        return self._device_in.permute(2, 0, 1).unsqueeze(0).float()

    def download(self, tensor: Tensor) -> np.ndarray:
        """1×3×H×W float (0–255) on the device → H×W×3 uint8 RGB on the host."""
        if not self._pinned:
            return tensor_to_frame(tensor)
        pixels = _to_pixels(tensor[:1])[0]
        if self._host_out is None or self._host_out.shape != pixels.shape:
            self._host_out = torch.empty(pixels.shape, dtype=torch.uint8, pin_memory=True)
        self._host_out.copy_(pixels, non_blocking=True)
        torch.cuda.current_stream(self.device).synchronize()
        return self._host_out.numpy()
