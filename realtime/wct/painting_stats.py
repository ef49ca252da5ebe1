"""Paintings as WCT sees them: each one's feature statistics at every level, computed once and cached.

One VGG pass over the painting gives all levels; the eigendecompositions follow. Entries are keyed by
path, modification time and size, and the style size, so an edited painting is read again while
switching back to a known one (a folder of stills, a video) costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_long_side, frame_to_tensor
from realtime.imaging.images import SAMPLE_PREFIX, SAMPLES, read_image
from realtime.model.style_spec import StyleSpec, file_stamp
from realtime.perceptual.vgg import VGGFeatures
from realtime.wct.transform import FeatureStatistics, feature_statistics

Statistics = dict[str, FeatureStatistics]


class StyleStatistics:
    """Style sources (image paths, `sample:NAME`) → per-level statistics on the device, cached."""

    def __init__(self, vgg: VGGFeatures, levels: Sequence[str], device: torch.device, style_size: int) -> None:
        self.vgg = vgg
        self.levels = list(levels)
        self.device = device
        self.style_size = style_size
        self._cache: dict[tuple, Statistics] = {}

    def of(self, source: str) -> Statistics:
        key = self._key(source)
        if key not in self._cache:
            self._cache[key] = self.encode(read_image(source, self.style_size))
        return self._cache[key]

    def blend(self, specs: Sequence[StyleSpec]) -> list[tuple[Statistics, float]]:
        if not specs:
            raise RealtimeError("no style given")
        return [(self.of(spec.source), spec.weight) for spec in specs]

    @torch.no_grad()
    def encode(self, picture: np.ndarray) -> Statistics:
        """Statistics of a picture already in memory, at the style size, in float32 features."""
        frame = fit_long_side(picture, self.style_size)
        features = self.vgg(frame_to_tensor(frame, self.device), self.levels)
        return {level: feature_statistics(features[level]) for level in self.levels}

    def _key(self, source: str) -> tuple:
        if source.startswith(SAMPLE_PREFIX):
            return (source, self.style_size)
        stamp = file_stamp(source)
        if stamp is None:
            raise RealtimeError(_not_a_picture(source))
        return (str(Path(source).resolve()), *stamp, self.style_size)


def _not_a_picture(source: str) -> str:
    path = Path(source)
    if path.is_dir():
        return f"a style is one picture, and {source} is a folder; pass an image in it"
    if "/" in source or "\\" in source or path.suffix:
        return f"style image not found: {source}"
    return (
        f"WCT follows a style picture, and '{source}' is not a file: pass a painting's image or sample:NAME "
        f"({', '.join(SAMPLES)}); built-in style names are MSG-Net's (--method msgnet)"
    )
