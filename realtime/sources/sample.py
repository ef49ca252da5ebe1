"""A camera stand-in for machines without one: a slow pan and zoom over scikit-image's sample photos.

Frames are generated at run time (nothing to download or ship) and move like footage, so the live
loop, its frame dropping and recordings behave as they would on a real camera.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from realtime.imaging.images import sample_image
from realtime.sources.capture import FrameSource

SAMPLE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field")
SAMPLE_FPS = 30.0
# A webcam's 4:3 at a size the photos (400–1000 px) fill with little enlarging: footage blown up from small
# photos looks soft and blocky in the window however well it is stylised.
SAMPLE_SIZE = (640, 480)
SECONDS_PER_PHOTO = 6.0
CROSSFADE_S = 0.75
_ZOOM = 0.12  # how far each shot zooms in over its time on screen


class SampleSource(FrameSource):
    """Footage of the sample photos: each one pans and zooms for a few seconds, then cross-fades."""

    kind = "sample"

    def __init__(
        self,
        size: tuple[int, int] = SAMPLE_SIZE,
        fps: float = SAMPLE_FPS,
        *,
        photos: tuple[str, ...] = SAMPLE_PHOTOS,
        drop: bool = True,
    ) -> None:
        super().__init__("sample footage", fps, paced=True, drop=drop)
        self.width, self.height = size
        self._photos = [sample_image(name) for name in photos]
        self._index = 0

    def frame_at(self, t: float) -> np.ndarray:
        """The picture at `t` seconds into the footage (a pure function of `t`)."""
        shot, into = divmod(t, SECONDS_PER_PHOTO)
        shot = int(shot)
        image = self._shot(shot, into / SECONDS_PER_PHOTO)
        fade_from = SECONDS_PER_PHOTO - CROSSFADE_S
        if into > fade_from:
            weight = (into - fade_from) / CROSSFADE_S
            image = cv2.addWeighted(image, 1.0 - weight, self._shot(shot + 1, 0.0), weight, 0.0)
        return image

    def _shot(self, shot: int, progress: float) -> np.ndarray:
        """Shot `shot` at `progress` (0–1): a crop of the photo that zooms in and drifts sideways."""
        photo = self._photos[shot % len(self._photos)]
        ph, pw = photo.shape[:2]
        aspect = self.width / self.height
        cover_w, cover_h = (pw, pw / aspect) if pw / ph < aspect else (ph * aspect, ph)
        ease = 0.5 - 0.5 * math.cos(math.pi * progress)
        scale = 1.0 / (1.0 + _ZOOM * ease)
        crop_w, crop_h = cover_w * scale, cover_h * scale
        direction = 1 if shot % 2 == 0 else -1
        cx = pw / 2 + direction * (ease - 0.5) * (pw - crop_w)
        cy = ph / 2 + (ease - 0.5) * (ph - crop_h) * 0.5
        zoom = self.width / crop_w
        matrix = np.array([[zoom, 0.0, self.width / 2 - zoom * cx], [0.0, zoom, self.height / 2 - zoom * cy]])
        return cv2.warpAffine(
            photo, matrix, (self.width, self.height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )

    def _grab(self) -> np.ndarray:
        image = self.frame_at(self._index / self.fps)
        self._index += 1
        return image
