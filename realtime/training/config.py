"""What defines a training run, checked before any data is read: torch-free, so the command line can offer it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from realtime.atomic import check_output_folder
from realtime.errors import RealtimeError
from realtime.imaging.sizes import MIN_SIDE, SIZE_MULTIPLE
from realtime.model.shapes import MODELS, SHAPE_DEFAULTS
from realtime.perceptual.layers import STYLE_LAYERS

PRECISIONS = ("auto", "bf16", "fp16", "fp32")
# gram: the paper's losses (content MSE, Gram MSE). ratio: each sample's Gram distance over its photo's own
# (the benchmarks' style ratio) and the relative content change, so every painting weighs alike rather than
# those with the largest Grams, which dominate the Gram MSE over a thousand paintings by orders of magnitude.
LOSSES = ("gram", "ratio")
# Options that define the generator's shape: a checkpoint cannot continue as another shape.
SHAPE_OPTIONS = tuple(MODELS["full"])
# Options that name files on the training machine: left out of the weights file's metadata.
PATH_OPTIONS = ("content", "styles", "extra_styles", "vgg", "out", "checkpoint", "log", "init", "teacher")


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved in checkpoints and in the exported weights."""

    content: str | None = None
    styles: str | None = None
    vgg: str | None = None  # local VGG16 features state dict; None = torchvision's ImageNet weights
    out: str | None = None  # weights file written when training finishes
    checkpoint: str | None = None
    log: str | None = None
    init: str | None = None  # start from this weights file's generator (fine-tuning); a resume ignores it
    extra_styles: str | None = None  # more paintings, trained on but not in the shipped style bank
    extra_fraction: float = 0.5  # chance that a sample's style comes from extra_styles
    holdout: int = 0  # extra styles kept out of training, to measure generalisation
    teacher: str | None = None  # a generator whose built-in stylisations this one is held to (fine-tuning)
    teacher_weight: float = 1.0
    steps: int = 20_000  # × batch 16 = 320k images, the paper's budget
    batch: int = 16
    styles_per_batch: int = 0  # distinct styles per batch, each shared by batch/N samples; 0 = one per sample
    size: int = 256
    style_sizes: tuple[int, ...] = (256, 384, 512)  # a random one per step: built-in styles work at any scale
    style_size: int = 512  # style bank and validation targets, as the app computes them
    content_weight: float = 1.0
    style_weight: float = 5.0
    # Each style layer's share, relu1_2 … relu4_3. With this VGG convention (inputs 0–1, ImageNet-normalised) a
    # photo's Gram distance to a painting falls ~10³ times per layer, so equal shares train colour and fine
    # texture (relu1_2) and hardly the strokes and shapes the deeper layers see.
    style_layer_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    loss: str = "gram"  # one of LOSSES
    style_head: int = 0  # > 0: train only a style head of this width on the frozen --init generator
    tv_weight: float = 0.0
    lr: float = 1e-3
    lr_decay_from: float = 0.8  # fraction of the steps after which the learning rate decays
    ngf: int = 128
    n_blocks: int = 6
    width: int = 64
    out_kernel: int = 7
    unshuffle: int = 0  # 2: the fast model's space-to-depth ends (MSGNet), trained here with perceptual losses
    seed: int = 0
    precision: str = "auto"  # bf16 on CUDA, fp32 on CPU
    val_count: int = 8  # content photos held out for the validation loss
    val_every: int = 1000
    checkpoint_every: int = 1000
    export_every: int = 0  # also write OUT.stepN weights every N steps, to average the last few (0 = never)
    part_mb: float = 0.0  # split checkpoints into files of at most this size, for size-capped copies (0 = never)
    compact_checkpoint: bool = False  # Adam moments stored as bf16: ~1/3 smaller, resumes not bit-exact

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """A config from saved or command-line values; unknown keys (from other versions) are ignored."""
        known = {f.name for f in fields(cls)}
        config = cls(**{k: v for k, v in values.items() if k in known})
        config.style_sizes = tuple(config.style_sizes)
        config.style_layer_weights = tuple(config.style_layer_weights)
        return config

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values, as checkpoints, logs and weights files store them."""
        values = asdict(self)
        values["style_sizes"] = list(self.style_sizes)
        values["style_layer_weights"] = list(self.style_layer_weights)
        return values

    def layer_weights(self) -> dict[str, float]:
        """The style loss's weight per VGG layer."""
        return dict(zip(STYLE_LAYERS, self.style_layer_weights, strict=True))

    def shape(self) -> dict[str, int]:
        """The generator's constructor arguments."""
        return {name: getattr(self, name) for name in SHAPE_OPTIONS}

    def validate(self) -> None:
        """Reject impossible settings before any data is read."""
        for name, flag in (
            ("content", "--content DIR"),
            ("styles", "--styles DIR"),
            ("checkpoint", "--out or --checkpoint"),
        ):
            if not getattr(self, name):
                raise RealtimeError(f"training needs {flag}")
        self._check_sizes()
        for ok, message in self._value_checks():
            if not ok:
                raise RealtimeError(message)
        self._check_files()

    def _check_sizes(self) -> None:
        for name, value in [("size", self.size), *(("style size", s) for s in self.style_sizes)]:
            if value < MIN_SIDE or value % SIZE_MULTIPLE:
                raise RealtimeError(
                    f"{name} must be a multiple of {SIZE_MULTIPLE} and at least {MIN_SIDE}, got {value}"
                )
        if not self.style_sizes:
            raise RealtimeError("at least one training style size is needed")

    def _value_checks(self) -> list[tuple[bool, str]]:
        weights = (self.content_weight, self.style_weight, self.tv_weight, self.teacher_weight)
        counts = (self.val_count, self.holdout, self.val_every, self.checkpoint_every, self.export_every)
        return [
            (self.steps >= 1 and self.batch >= 1, "--steps and --batch must be 1 or more"),
            (
                self.styles_per_batch >= 0 and self.batch % (self.styles_per_batch or self.batch) == 0,
                f"--styles-per-batch must divide --batch {self.batch}",
            ),
            (self.style_size >= MIN_SIDE, f"--style-size must be at least {MIN_SIDE}"),
            (self.lr > 0 and math.isfinite(self.lr), "--lr must be a positive number"),
            (self.width % 4 == 0, "--width must be a multiple of 4"),
            (self.out_kernel % 2 == 1, "--out-kernel must be odd"),
            (self.unshuffle in (0, 2), "unshuffle must be 0 or 2"),
            (all(math.isfinite(w) and w >= 0 for w in weights), "loss weights must be 0 or more"),
            (
                len(self.style_layer_weights) == len(STYLE_LAYERS)
                and all(math.isfinite(w) and w >= 0 for w in self.style_layer_weights)
                and any(self.style_layer_weights),
                f"--style-layer-weights takes {len(STYLE_LAYERS)} weights of 0 or more ({', '.join(STYLE_LAYERS)}),"
                " not all 0",
            ),
            (0.0 <= self.extra_fraction <= 1.0, "--extra-fraction must be between 0 and 1"),
            (0.0 < self.lr_decay_from <= 1.0, "--lr-decay-from must be in (0, 1]"),
            (self.precision in PRECISIONS, f"--precision must be one of {', '.join(PRECISIONS)}"),
            (self.loss in LOSSES, f"--loss must be one of {', '.join(LOSSES)}"),
            (self.style_head >= 0, "--style-head must be 0 or more"),
            (
                not self.style_head or self.init,
                "--style-head trains a head for a generator that stays as it is: give it with --init WEIGHTS",
            ),
            (
                self.holdout == 0 or self.extra_styles,
                "--holdout keeps --extra-styles out of training; give --extra-styles",
            ),
            (min(counts) >= 0, "counts must be 0 or more"),
            (not self.export_every or self.out, "--export-every needs --out PATH"),
            (self.part_mb >= 0, "--part-mb must be 0 or more"),
        ]

    def _check_files(self) -> None:
        for name in ("content", "styles", "extra_styles"):
            folder = getattr(self, name)
            if folder and not Path(folder).is_dir():
                raise RealtimeError(f"{name.replace('_', ' ')} folder not found: {folder}")
        if self.vgg and not Path(self.vgg).is_file():
            raise RealtimeError(f"VGG weights not found: {self.vgg}")
        for name in ("out", "checkpoint", "log"):
            path = getattr(self, name)
            if not path:
                continue
            check_output_folder(path)
            if Path(path).is_dir():
                raise RealtimeError(f"--{name} is a folder, expected a file name: {path}")
        outputs = [Path(p).resolve() for p in (self.out, self.checkpoint, self.log) if p]
        if len(set(outputs)) != len(outputs):
            raise RealtimeError("--out, --checkpoint and the training log must be different files")


TRAIN_OPTIONS = frozenset(f.name for f in fields(TrainConfig))


def resolve_config(
    options: dict[str, Any], resume: str | Path | None = None, state: dict[str, Any] | None = None
) -> TrainConfig:
    """The run's config: the checkpoint's (when resuming) updated with the options given on this command line.

    Paths of outputs (checkpoint, log) follow this command line, never the saved run's machine.
    """
    values = dict(state["config"]) if state is not None else {}
    if state is not None:
        for name in SHAPE_OPTIONS:
            saved = values.get(name, SHAPE_DEFAULTS.get(name))  # older checkpoints predate some shape options
            if name in options and options[name] != saved:
                raise RealtimeError(
                    f"the checkpoint is a generator with {name}={saved}; it cannot continue as {name}={options[name]}"
                )
        values.pop("checkpoint", None)
        values.pop("log", None)
    values.update(options)
    config = TrainConfig.from_dict(values)
    if not config.checkpoint:
        if resume is not None:
            config.checkpoint = str(resume)
        elif config.out:
            config.checkpoint = str(Path(config.out).with_suffix(".ckpt.pt"))
    if config.checkpoint and not config.log:
        config.log = str(Path(config.checkpoint).with_suffix(".log.json"))
    config.validate()
    return config
