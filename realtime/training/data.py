"""A run's images: which photos and paintings train, which are held out to validate, all decoded once.

Validation picks are evenly spaced rather than random, so a resumed run (or a rerun) validates on the
same photos and styles without saving the choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.imaging.frames import center_crop, fit_long_side, frames_to_tensor
from realtime.imaging.images import image_files
from realtime.imaging.photoset import ContentSet, evenly_spaced, read_images
from realtime.training.config import TrainConfig
from realtime.training.datasets import StyleSet

VAL_TRAINED_STYLES = 32
VAL_UNSEEN_STYLES = 16


@dataclass
class ValidationStyle:
    """A style the validation renders: the generator's input image and the style's VGG Grams."""

    name: str
    group: str  # "trained" or "unseen"
    frame: np.ndarray  # at the style size, as the app would read it


@dataclass
class TrainingData:
    """The images of a run, decoded and on the device."""

    content: ContentSet
    styles: StyleSet  # training styles: those from --styles first, then extras
    main_styles: int
    style_paths: list[Path]  # the --styles files: the shipped style bank
    val_photos: Tensor  # N×3×S×S uint8, photos kept out of training
    val_styles: list[ValidationStyle] = field(default_factory=list)
    val_photo_names: list[str] = field(default_factory=list)
    holdout_names: list[str] = field(default_factory=list)

    @property
    def extra_styles(self) -> int:
        return len(self.styles) - self.main_styles

    def summary(self) -> dict[str, Any]:
        """What a checkpoint records about the data: enough to say later what was trained and held out."""
        return {
            "styles": self.styles.names[: self.main_styles],
            "extra_styles": self.extra_styles,
            "holdout_styles": self.holdout_names,
            "val_photos": self.val_photo_names,
            "content_photos": len(self.content),
        }


def load_data(config: TrainConfig, device: torch.device) -> TrainingData:
    """Decode the content photos and style images, hold out validation photos and styles, move to `device`."""
    content_files = image_files(config.content, "content")
    style_files = image_files(config.styles, "style")
    extra_files = image_files(config.extra_styles, "extra style") if config.extra_styles else []
    check_unique_names(style_files, config.styles)
    content_paths, content_frames = read_images(content_files, "content")
    val_picks = set(evenly_spaced(config.val_count, len(content_frames)))
    if len(val_picks) >= len(content_frames):
        raise RealtimeError(
            f"--val-count {config.val_count} leaves none of {len(content_frames)} content photos to train on"
        )
    style_paths, style_frames = read_images(style_files, "style")
    names, frames = [p.stem for p in style_paths], list(style_frames)
    holdout_paths, holdout_frames = [], []
    if extra_files:
        extra_paths, extra_frames = read_images(extra_files, "extra style")
        if config.holdout >= len(extra_paths):
            raise RealtimeError(
                f"--holdout {config.holdout} leaves none of {len(extra_paths)} extra styles to train on"
            )
        held = set(evenly_spaced(config.holdout, len(extra_paths)))
        for i, (path, frame) in enumerate(zip(extra_paths, extra_frames)):
            if i in held:
                holdout_paths.append(path)
                holdout_frames.append(frame)
            else:
                names.append(path.stem)
                frames.append(frame)
    val_styles = _validation_styles(style_paths, style_frames, "trained", VAL_TRAINED_STYLES, config.style_size)
    val_styles += _validation_styles(holdout_paths, holdout_frames, "unseen", VAL_UNSEEN_STYLES, config.style_size)
    val_frames = [center_crop(content_frames[i], config.size) for i in sorted(val_picks)]
    return TrainingData(
        content=ContentSet([f for i, f in enumerate(content_frames) if i not in val_picks], config.size, device),
        styles=StyleSet(names, frames, config.style_sizes, device),
        main_styles=len(style_paths),
        style_paths=style_paths,
        val_photos=frames_to_tensor(val_frames, device, torch.uint8) if val_frames else torch.empty(0),
        val_styles=val_styles if val_frames else [],
        val_photo_names=[content_paths[i].name for i in sorted(val_picks)],
        holdout_names=[p.stem for p in holdout_paths],
    )


def _validation_styles(
    paths: list[Path], frames: list[np.ndarray], group: str, most: int, style_size: int
) -> list[ValidationStyle]:
    picks = evenly_spaced(min(most, len(paths)), len(paths))
    return [ValidationStyle(paths[i].stem, group, fit_long_side(frames[i], style_size)) for i in picks]


def check_unique_names(paths: list[Path], folder: str | Path) -> None:
    """Style names come from file stems and are looked up case-insensitively: two alike would collide."""
    seen: dict[str, Path] = {}
    for path in paths:
        if path.stem.lower() in seen:
            raise RealtimeError(
                f"two style images in {folder} share the name '{path.stem}': {seen[path.stem.lower()].name}, {path.name}"
            )
        seen[path.stem.lower()] = path
