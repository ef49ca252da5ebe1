"""`--virtual-camera`: the stylised picture (without the HUD) as a webcam that Zoom, Meet or OBS can pick.

Frames go through pyvirtualcam: OBS's virtual camera on Windows and macOS, a v4l2loopback device on Linux.
The camera is opened at the session's display size before the model loads, so a missing backend is one
clear line at once rather than after the warm-up.
"""

from __future__ import annotations

import numpy as np

from realtime.errors import RealtimeError
from realtime.imaging.frames import resize_frame

INSTALL = "pip install 'realtime[vcam]'"
HOW_TO_GET_ONE = (
    "on Linux load v4l2loopback (sudo modprobe v4l2loopback exclusive_caps=1), on Windows and macOS install OBS "
    "Studio and start its virtual camera once"
)


class VirtualCamera:
    """A pyvirtualcam camera fed RGB frames of one size (others are resized to it)."""

    def __init__(self, width: int, height: int, fps: float, device: str | None = None) -> None:
        try:
            import pyvirtualcam
        except ImportError:
            raise RealtimeError(f"--virtual-camera needs pyvirtualcam: {INSTALL}") from None
        try:
            self._camera = pyvirtualcam.Camera(width, height, fps, fmt=pyvirtualcam.PixelFormat.RGB, device=device)
        except (RuntimeError, ValueError) as exc:
            reasons = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or "none found"
            raise RealtimeError(
                f"--virtual-camera: no virtual camera to send to ({reasons}); {HOW_TO_GET_ONE}"
            ) from None
        self.size = (height, width)
        self.frames = 0

    @property
    def name(self) -> str:
        """The device other programs list it as (e.g. /dev/video2, "OBS Virtual Camera")."""
        return self._camera.device

    def send(self, frame: np.ndarray) -> None:
        """Show an H×W×3 uint8 RGB frame on the virtual camera; the caller may reuse its buffer afterwards."""
        if self._camera is None:
            return
        if frame.shape[:2] != self.size:
            frame = resize_frame(frame, self.size)
        try:
            self._camera.send(np.ascontiguousarray(frame))
        except (RuntimeError, ValueError) as exc:
            raise RealtimeError(f"the virtual camera stopped taking frames: {exc}") from None
        self.frames += 1

    def close(self) -> None:
        """Release the device (safe to repeat)."""
        camera, self._camera = self._camera, None
        if camera is not None:
            camera.close()
