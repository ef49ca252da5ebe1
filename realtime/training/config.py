"""What defines a training run, checked before any data is read: torch-free, so the command line can offer it.

Each field states its default, its help and how it is typed once, here; `realtime train` builds its options
from these fields (`OPTION_GROUPS`), so the command line and the API cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import Field, asdict, dataclass, field, fields
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
FULL = MODELS["full"]


def option(
    default: Any,
    help: str,
    metavar: str | None = None,
    *,
    least: int | None = None,
    choices: tuple[str, ...] | None = None,
    means: str | None = None,
    cli: bool = True,
) -> Any:
    """A config field with what its command-line option needs: `least` (0 or 1) bounds an int as it is parsed,
    `means` says what the default stands for, `cli=False` keeps the field off the command line."""
    metadata = {"help": help, "metavar": metavar, "least": least, "choices": choices, "means": means, "cli": cli}
    return field(default=default, metadata=metadata)


def option_help(spec: Field) -> str:
    """A field's help and its default, as `realtime train --help` shows them."""
    text, means = spec.metadata["help"], spec.metadata["means"]
    if spec.default is None:
        return f"{text} (default: {means})" if means else text
    return f"{text} (default {_shown(spec.default)}{f' = {means}' if means else ''})"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(map(_shown, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass
class DataOptions:
    """Where the photos, the paintings and the loss network come from."""

    content: str | None = option(None, "folder of content photos", "DIR")
    styles: str | None = option(None, "folder of style images; their file names become the style names", "DIR")
    extra_styles: str | None = option(None, "more paintings to train on (not in the style bank)", "DIR")
    extra_fraction: float = option(0.5, "chance a sample's style is an extra one", "P")
    holdout: int = option(0, "extra styles kept out of training, to measure generalisation", "N", least=0)
    val_count: int = option(8, "content photos held out for the validation loss", "N", least=0)
    vgg: str | None = option(None, "local VGG16 features state dict", "PATH", means="torchvision's ImageNet VGG16")


@dataclass
class GeneratorOptions:
    """The generator's shape and where its weights start (`--model` presets the shape)."""

    init: str | None = option(
        None, "start from this weights file's generator (fine-tuning; same shape; ignored by --resume)", "WEIGHTS"
    )
    ngf: int = option(FULL["ngf"], "generator width", "N", least=1)
    n_blocks: int = option(FULL["n_blocks"], "residual blocks", "N", least=1)
    width: int = option(FULL["width"], "channels at full resolution, a multiple of 4", "N", least=1)
    out_kernel: int = option(FULL["out_kernel"], "odd output kernel size", "K", least=1)
    unshuffle: int = option(  # set by --model fast
        FULL["unshuffle"],
        "2: the fast model's space-to-depth ends (MSGNet), trained here with perceptual losses",
        cli=False,
    )
    style_head: int = option(
        0,
        "train only a style head of N channels for the --init generator, which stays as it is: it corrects the "
        "encoder's targets of paintings the generator never saw; needs --init",
        "N",
        least=0,
        means="none",
    )


@dataclass
class LossOptions:
    """What the generator is trained to do, and how much each part of it weighs."""

    loss: str = option(
        "gram",
        "gram: the paper's content and Gram-matrix errors; ratio: each sample's Gram distance over its photo's own "
        "and the relative content change, so every painting weighs alike",
        choices=LOSSES,
    )
    content_weight: float = option(1.0, "weight of the content loss", "W")
    style_weight: float = option(5.0, "weight of the style loss", "W")
    # With this VGG convention (inputs 0–1, ImageNet-normalised) a photo's Gram distance to a painting falls
    # ~10³ times per layer, so equal shares train colour and fine texture (relu1_2) and hardly the strokes and
    # shapes the deeper layers see.
    style_layer_weights: tuple[float, ...] = option(
        (1.0, 1.0, 1.0, 1.0), f"each style layer's weight, {', '.join(STYLE_LAYERS)}", "W1,..."
    )
    tv_weight: float = option(0.0, "total-variation weight", "W")
    teacher: str | None = option(
        None,
        "hold the built-in styles (--styles) to this generator's output (a pixel loss), e.g. the weights a "
        "fine-tune starts from, so learning --extra-styles does not cost the built-ins",
        "WEIGHTS",
    )
    teacher_weight: float = option(1.0, "weight of the teacher loss", "W")


@dataclass
class ScheduleOptions:
    """How long, on what batches and at what rate the run trains."""

    steps: int = option(
        20_000, "total optimiser steps", "N", least=1, means="320k images at batch 16, the paper's budget"
    )
    batch: int = option(16, "photos per step", "N", least=1)
    styles_per_batch: int = option(
        0, "distinct styles per batch, each shared by BATCH/N samples", "N", least=0, means="a style per sample"
    )
    size: int = option(256, "content crop side in pixels", "PX", least=1)
    style_sizes: tuple[int, ...] = option(
        (256, 384, 512),
        "long sides style images are trained at, one at random per step, so built-in styles work at any scale",
        "A,B,...",
    )
    style_size: int = option(
        512, "long side of the exported style bank and the validation targets, as the app computes them", "PX", least=1
    )
    lr: float = option(1e-3, "Adam learning rate")
    lr_decay_from: float = option(
        0.8, "decay the learning rate linearly to a tenth after this fraction of the steps", "FRACTION"
    )
    seed: int = option(0, "seed of the generator's initial weights and of the batches", "N")
    precision: str = option("auto", "auto = bf16 on CUDA, fp32 on CPU", choices=PRECISIONS)


@dataclass
class OutputOptions:
    """What the run writes, and how often."""

    out: str | None = option(None, "weights file (.safetensors) written when training finishes", "PATH")
    checkpoint: str | None = option(None, "checkpoint file", "PATH", means="--resume's, else OUT with .ckpt.pt")
    log: str | None = option(None, "JSON log of losses and validation", "PATH", means="CHECKPOINT with .log.json")
    val_every: int = option(1000, "steps between validations", "N", least=0)
    checkpoint_every: int = option(1000, "steps between checkpoints", "N", least=0)
    export_every: int = option(
        0,
        "also write the weights every N steps, as OUT with .stepN before the suffix: averaging the last few with "
        "--average smooths a run's end",
        "N",
        least=0,
        means="only at the end",
    )
    compact_checkpoint: bool = option(
        False, "store Adam's moments as bf16 (a third smaller; resumes are then not bit-exact)"
    )


# The command line's option groups, in the order `realtime train --help` lists them.
OPTION_GROUPS = (
    ("data", DataOptions),
    ("generator", GeneratorOptions),
    ("loss", LossOptions),
    ("schedule", ScheduleOptions),
    ("output", OutputOptions),
)


@dataclass
class TrainConfig(OutputOptions, ScheduleOptions, LossOptions, GeneratorOptions, DataOptions):
    """Everything that defines a training run, as one flat record; saved in checkpoints and in the exported weights.

    The option groups are its bases rather than its members, so checkpoints, logs and weights files written
    before there were groups read back as they are.
    """

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
