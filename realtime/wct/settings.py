"""What shapes a WCT render and a decoder training run, and their defaults: torch-free, for the command line."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from realtime.atomic import check_output_folder
from realtime.errors import RealtimeError
from realtime.model.style_spec import DEFAULT_STYLE_SIZE

# The last ReLU of each VGG16 block up to relu4_3 (as far as the project's VGG reaches), shallow to deep.
LEVELS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
# The shipped decoders file, loaded by its bare name like the shipped generator weights.
DEFAULT_DECODERS = "wct-vgg16"
# Full strength: the transformed features replace the content's at every level (Li et al.'s α = 1).
DEFAULT_ALPHA = 1.0
# The deep levels work on the picture at most this long side, the shallow ones at full size (see stylize.py).
DEFAULT_COARSE_SIZE = 512
# Smaller and relu4_3's features (an eighth of the side) are too few to carry a painting's statistics.
MIN_COARSE_SIZE = 64
# Decoders mirror the VGG blocks at this fraction of their channels: a quarter of the arithmetic of a full
# mirror, for the same reconstruction quality at this training budget (docs/models/wct-decoders.md).
DEFAULT_WIDTH = 0.5
PRECISIONS = ("auto", "bf16", "fp32")


def parse_levels(text: str) -> tuple[str, ...]:
    """`relu4_3,relu1_2` or `4,1` → level names, deep to shallow (the order WCT applies them in)."""
    names = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name = LEVELS[int(part) - 1] if part.isdigit() and 1 <= int(part) <= len(LEVELS) else part
        if name not in LEVELS:
            raise RealtimeError(f"unknown WCT level '{part}'; use {', '.join(LEVELS)} (or 1–{len(LEVELS)})")
        names.append(name)
    if not names:
        raise RealtimeError(f"expected comma-separated WCT levels like {','.join(reversed(LEVELS))}")
    return tuple(sorted(set(names), key=LEVELS.index, reverse=True))


@dataclass(frozen=True)
class WCTSettings:
    """Everything that shapes a WCT still besides the style: strength, levels and working sizes."""

    alpha: float = DEFAULT_ALPHA  # 0 = the decoded photo, 1 = the painting's statistics in full
    levels: tuple[str, ...] = tuple(reversed(LEVELS))  # applied in this order, deep (coarse) to shallow (fine)
    style_size: int = DEFAULT_STYLE_SIZE  # long side a painting is read at for its statistics
    coarse_size: int = DEFAULT_COARSE_SIZE  # long side the deep levels work at (0 = full size)
    preserve_color: bool = False
    precision: str = "auto"  # bf16 where the processor has it natively (and on CUDA), else fp32
    decode_change: bool = True  # decode the transform's change and add it (False: decode the picture, as Li et al.)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.alpha) and 0.0 <= self.alpha <= 1.0):
            raise RealtimeError(f"WCT's alpha must be between 0 and 1, got {self.alpha}")
        if not self.levels or any(level not in LEVELS for level in self.levels):
            raise RealtimeError(f"WCT levels must be among {', '.join(LEVELS)}, got {', '.join(self.levels)}")
        if self.style_size < 16 or self.coarse_size < 0 or 0 < self.coarse_size < MIN_COARSE_SIZE:
            raise RealtimeError(
                f"WCT needs a style size of at least 16 and a coarse size of 0 or at least {MIN_COARSE_SIZE}"
            )
        if self.precision not in PRECISIONS:
            raise RealtimeError(f"precision must be one of {', '.join(PRECISIONS)}, got '{self.precision}'")


@dataclass
class DecoderTrainConfig:
    """Everything that defines a decoder training run; saved in its checkpoints and the decoders file."""

    content: str | None = None  # folder of photos
    vgg: str | None = None  # local VGG16 features state dict; None = torchvision's ImageNet VGG16
    out: str | None = None  # the decoders file written when every level is trained
    checkpoint: str | None = None
    log: str | None = None
    levels: tuple[str, ...] = LEVELS  # trained in this order, shallow (quick) first
    steps: tuple[int, ...] = (250, 300, 500, 1000)  # per level (one number: the same for every level)
    batch: int = 8
    size: int = 128  # square crops: the decoders are fully convolutional, so small crops teach any size
    lr: float = 1e-3
    lr_decay_from: float = 0.5  # fraction of a level's steps after which the rate decays linearly to a tenth
    feature_weight: float = 0.1  # relative feature change at the decoder's own level, next to pixel MSE (0–1)
    width: float = DEFAULT_WIDTH
    seed: int = 0
    precision: str = "auto"  # bf16 where the processor has it natively (and on CUDA), else fp32
    val_every: int = 200
    checkpoint_every: int = 200

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DecoderTrainConfig:
        known = {f.name for f in fields(cls)}
        config = cls(**{k: v for k, v in values.items() if k in known})
        config.levels, config.steps = tuple(config.levels), tuple(config.steps)
        return config

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["levels"], values["steps"] = list(self.levels), list(self.steps)
        return values

    def steps_of(self, level: str) -> int:
        return self.steps[self.levels.index(level)] if len(self.steps) > 1 else self.steps[0]

    def validate(self) -> None:
        """Reject impossible settings before any photo is read."""
        if not self.content:
            raise RealtimeError("training decoders needs --content DIR (a folder of photos)")
        if not Path(self.content).is_dir():
            raise RealtimeError(f"content folder not found: {self.content}")
        if not self.checkpoint:
            raise RealtimeError("training decoders needs --out PATH or --checkpoint PATH")
        if self.vgg and not Path(self.vgg).is_file():
            raise RealtimeError(f"VGG weights not found: {self.vgg}")
        if not self.levels or len(set(self.levels)) != len(self.levels) or set(self.levels) - set(LEVELS):
            raise RealtimeError(f"--levels must name different levels among {', '.join(LEVELS)}")
        if len(self.steps) not in (1, len(self.levels)) or min(self.steps) < 1:
            raise RealtimeError(f"--steps takes one count of 1 or more, or one per level ({len(self.levels)})")
        checks = [
            (self.batch >= 1, "--batch must be 1 or more"),
            (self.size >= 16 and self.size % 8 == 0, "--size must be a multiple of 8 and at least 16"),
            (self.lr > 0 and math.isfinite(self.lr), "--lr must be a positive number"),
            (0.0 < self.lr_decay_from <= 1.0, "--lr-decay-from must be in (0, 1]"),
            (self.feature_weight >= 0 and math.isfinite(self.feature_weight), "--feature-weight must be 0 or more"),
            (0.0 < self.width <= 1.0, "--width must be in (0, 1]"),
            (self.precision in PRECISIONS, f"--precision must be one of {', '.join(PRECISIONS)}"),
            (min(self.val_every, self.checkpoint_every) >= 0, "--val-every and --checkpoint-every must be 0 or more"),
        ]
        for ok, message in checks:
            if not ok:
                raise RealtimeError(message)
        outputs = [Path(p) for p in (self.out, self.checkpoint, self.log) if p]
        for path in outputs:
            check_output_folder(path)
            if path.is_dir():
                raise RealtimeError(f"expected a file name, got a folder: {path}")
        if len({p.resolve() for p in outputs}) != len(outputs):
            raise RealtimeError("--out, --checkpoint and the training log must be different files")
