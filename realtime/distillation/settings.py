"""What defines a distillation run: torch-free, so the command line can offer it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from realtime.errors import RealtimeError
from realtime.model.shapes import MODELS
from realtime.perceptual.layers import STYLE_LAYERS


@dataclass
class DistillConfig:
    """One run: where the teacher's pictures are, the student's shape, the schedule and the loss weights."""

    pictures: str
    out: str
    checkpoint: str
    vgg: str | None = None  # local VGG16 features file for the texture term; None = torchvision's download
    # A generator the student starts as (`warm_start`): the light model shares the fast model's trunk and already
    # follows its targets, which a student from scratch took thousands of steps to begin to.
    init: str | None = None
    shape: dict[str, int] = field(default_factory=lambda: dict(MODELS["fast"]))
    steps: int = 2500
    batch: int = 8
    crop: int = 128  # training crops of the teacher's pictures (their side is the set's)
    # The built-in styles' pictures are encoded at this long side, in training and for the exported bank: at the
    # teacher's 512 their encoding cost more than the rest of a step. Paintings keep their own size (≤ 512).
    style_side: int = 256
    lr: float = 1e-3
    lr_decay_from: float = 0.7  # fraction of the steps after which the learning rate decays, to a tenth
    edge_weight: float = 1.0
    palette_weight: float = 1.0
    feature_weight: float = 1.0  # the teacher's trunk features (`losses.FeatureLoss`): a teacher pass a step
    texture_weight: float = 0.0
    # The texture term needs a VGG pass, ten times the student's own step: it runs every `texture_every` steps.
    texture_every: int = 4
    texture_layers: tuple[str, ...] = STYLE_LAYERS
    texture_crop: int = 128  # the texture term scores a window this large of each crop: VGG's cost is per pixel
    val_every: int = 500
    checkpoint_every: int = 250
    seed: int = 0

    def learning_rate(self, step: int) -> float:
        """Flat, then down to a tenth, linearly, over the last part of the run."""
        start = self.lr_decay_from * self.steps
        fraction = max(0.0, (step - start) / max(1.0, self.steps - start))
        return self.lr * (1.0 - 0.9 * min(1.0, fraction))

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["texture_layers"] = list(self.texture_layers)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DistillConfig:
        known = {f.name for f in fields(cls)}
        config = cls(**{k: v for k, v in values.items() if k in known})
        config.texture_layers = tuple(config.texture_layers)
        return config

    def validate(self) -> None:
        """Reject impossible settings before any picture is read."""
        checks = [
            (self.steps >= 1 and self.batch >= 1, "--steps and --batch must be 1 or more"),
            (
                self.crop >= 32 and self.crop % 4 == 0,
                f"--crop must be a multiple of 4 and at least 32, got {self.crop}",
            ),
            (self.lr > 0 and math.isfinite(self.lr), "--lr must be a positive number"),
            (0.0 < self.lr_decay_from <= 1.0, "--lr-decay-from must be in (0, 1]"),
            (
                all(
                    math.isfinite(w) and w >= 0
                    for w in (self.edge_weight, self.palette_weight, self.feature_weight, self.texture_weight)
                ),
                "loss weights must be 0 or more",
            ),
            (self.texture_every >= 1, "--texture-every must be 1 or more"),
            (
                min(self.texture_crop, self.style_side) >= 32,
                "--texture-crop and --style-side must be at least 32",
            ),
            (set(self.texture_layers) <= set(STYLE_LAYERS), f"texture layers are among {', '.join(STYLE_LAYERS)}"),
            (min(self.val_every, self.checkpoint_every) >= 1, "--val-every and --checkpoint-every must be 1 or more"),
            (
                all(value >= 1 for name, value in self.shape.items() if name != "unshuffle")
                and self.shape["width"] % 4 == 0
                and self.shape["out_kernel"] % 2 == 1
                and self.shape.get("unshuffle", 0) in (0, 2),
                f"--shape: positive numbers, width a multiple of 4, out_kernel odd, unshuffle 0 or 2; got {self.shape}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise RealtimeError(message)
