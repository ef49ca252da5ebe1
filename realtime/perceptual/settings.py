"""The recipe for refining a style target: torch-free, so the command line can offer its defaults."""

from __future__ import annotations

from dataclasses import dataclass

from realtime.errors import RealtimeError

# Photos the target is fitted on: scikit-image's bundled samples, so refinement works offline.
DEFAULT_PHOTOS = ("sample:astronaut", "sample:coffee")
DEFAULT_REFINE_STEPS = 20


@dataclass(frozen=True)
class RefineSettings:
    """The fitting recipe; part of a refined target's cache key."""

    steps: int = DEFAULT_REFINE_STEPS
    # Square crops of the photos: small is fast, and the fitted target serves any working size (128 px
    # followed held-out paintings as closely as 192 in half the time: docs/benchmarks.md).
    size: int = 128
    photos: tuple[str, ...] = DEFAULT_PHOTOS
    content_weight: float = 1.0  # training's weights: the refined target keeps training's balance
    style_weight: float = 5.0
    lr: float = 0.05  # Adam step, relative to the encoder target's mean magnitude

    def __post_init__(self) -> None:
        if self.steps < 0 or self.size < 16 or not self.photos or self.lr <= 0:
            raise RealtimeError("refinement needs steps ≥ 0, size ≥ 16, at least one photo and a positive rate")
