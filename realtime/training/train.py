"""Training MSG-Net (Zhang & Dana 2017): perceptual losses through a frozen VGG16, one style per sample.

Each sample in a batch gets its own style. The generator's target is that style image's Gram matrix
through the generator's own encoder (gradients flow into the encoder, as in the paper), and the style
loss compares the output's VGG Grams with the style image's; those are constants (VGG is frozen), so
they are computed once per style and training size. In 7-minute H100 trials one style per sample
trained 21 distinct styles where one style per batch blurred them into a few palettes
(../shared/README.md). Speed on CUDA comes from bf16 autocast, channels_last, data resident on the GPU,
fused Adam, TF32 Gram matrices and, optionally, torch.compile.

Training runs in chunks: checkpoints hold the model, optimiser, step, RNG states and config, so a
resumed run continues exactly where an uninterrupted one would have been.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from realtime.atomic import atomic_output, check_output_folder
from realtime.device import prepare_cuda, resolve_device
from realtime.errors import RealtimeError
from realtime.imaging.frames import (
    MIN_SIDE,
    SIZE_MULTIPLE,
    center_crop,
    fit_long_side,
    frame_to_tensor,
    frames_to_tensor,
    pad_for_generator,
)
from realtime.imaging.images import image_files, read_image
from realtime.model.msgnet import MODELS, MSGNet
from realtime.model.targets import StyleBank, StyleTargets
from realtime.model.weights import Weights, load_weights, save_weights
from realtime.perceptual.losses import (
    CONTENT_LAYER,
    STYLE_LAYERS,
    content_loss,
    style_grams,
    style_loss,
    total_variation,
)
from realtime.perceptual.quality import content_change, style_distance
from realtime.perceptual.vgg import VGGFeatures
from realtime.training.checkpoint import load_checkpoint, save_checkpoint
from realtime.training.datasets import ContentSet, StyleSet, read_images

CHECKPOINT_FORMAT = "realtime-train-checkpoint"
CHECKPOINT_VERSION = 1
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
LOG_EVERY = 50  # steps between progress updates (each one waits for the GPU once)
FINAL_LR_FRACTION = 0.1  # the learning rate decays linearly to this fraction of --lr
VAL_TRAINED_STYLES = 32
VAL_UNSEEN_STYLES = 16
# Options that define the generator's shape: a checkpoint cannot continue as another shape.
SHAPE_OPTIONS = tuple(MODELS["full"])
# Options that name files on the training machine: left out of the weights file's metadata.
PATH_OPTIONS = ("content", "styles", "extra_styles", "vgg", "out", "checkpoint", "log", "init", "teacher")
LOSS_NAMES = ("content", "style", "tv", "teacher")


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
    tv_weight: float = 0.0
    lr: float = 1e-3
    lr_decay_from: float = 0.8  # fraction of the steps after which the learning rate decays
    ngf: int = 128
    n_blocks: int = 6
    width: int = 64
    out_kernel: int = 7
    seed: int = 0
    precision: str = "auto"  # bf16 on CUDA, fp32 on CPU
    val_count: int = 8  # content photos held out for the validation loss
    val_every: int = 1000
    checkpoint_every: int = 1000
    export_every: int = 0  # also write OUT.stepN weights every N steps, to average the last few (0 = never)
    part_mb: float = 15.0  # split checkpoints into files of at most this size (0 = never)
    compact_checkpoint: bool = False  # Adam moments stored as bf16: ~1/3 smaller, resumes not bit-exact

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        config = cls(**{k: v for k, v in values.items() if k in known})
        config.style_sizes = tuple(config.style_sizes)
        return config

    def generator(self) -> MSGNet:
        return MSGNet(**{name: getattr(self, name) for name in SHAPE_OPTIONS})

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["style_sizes"] = list(self.style_sizes)
        return values

    def validate(self) -> None:
        """Reject impossible settings before any data is read."""
        for name, flag in (
            ("content", "--content DIR"),
            ("styles", "--styles DIR"),
            ("checkpoint", "--out or --checkpoint"),
        ):
            if not getattr(self, name):
                raise RealtimeError(f"training needs {flag}")
        for name, value in [("size", self.size), *(("style size", s) for s in self.style_sizes)]:
            if value < MIN_SIDE or value % SIZE_MULTIPLE:
                raise RealtimeError(
                    f"{name} must be a multiple of {SIZE_MULTIPLE} and at least {MIN_SIDE}, got {value}"
                )
        if not self.style_sizes:
            raise RealtimeError("at least one training style size is needed")
        checks = [
            (self.steps >= 1 and self.batch >= 1, "--steps and --batch must be 1 or more"),
            (
                self.styles_per_batch >= 0 and self.batch % (self.styles_per_batch or self.batch) == 0,
                f"--styles-per-batch must divide --batch {self.batch}",
            ),
            (self.style_size >= MIN_SIDE, f"--style-size must be at least {MIN_SIDE}"),
            (self.lr > 0 and math.isfinite(self.lr), "--lr must be a positive number"),
            (self.width % 4 == 0, "--width must be a multiple of 4"),
            (self.out_kernel % 2 == 1, "--out-kernel must be odd"),
            (
                all(
                    math.isfinite(w) and w >= 0
                    for w in (self.content_weight, self.style_weight, self.tv_weight, self.teacher_weight)
                ),
                "loss weights must be 0 or more",
            ),
            (0.0 <= self.extra_fraction <= 1.0, "--extra-fraction must be between 0 and 1"),
            (0.0 < self.lr_decay_from <= 1.0, "--lr-decay-from must be in (0, 1]"),
            (self.precision in PRECISIONS, f"--precision must be one of {', '.join(PRECISIONS)}"),
            (
                self.holdout == 0 or self.extra_styles,
                "--holdout keeps --extra-styles out of training; give --extra-styles",
            ),
            (
                min(self.val_count, self.holdout, self.val_every, self.checkpoint_every, self.export_every) >= 0,
                "counts must be 0 or more",
            ),
            (not self.export_every or self.out, "--export-every needs --out PATH"),
            (self.part_mb >= 0, "--part-mb must be 0 or more"),
        ]
        for ok, message in checks:
            if not ok:
                raise RealtimeError(message)
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


@dataclass
class TrainResult:
    status: str  # "finished", "time limit", "chunk done" or "interrupted"
    step: int
    steps: int
    images_seen: int
    train_seconds: float
    checkpoint: Path
    log: Path
    out: Path | None = None
    images_per_second: float | None = None
    last_val: dict[str, dict[str, float]] | None = None


def evenly_spaced(count: int, total: int) -> list[int]:
    """`count` distinct indices spread over range(total): a fixed choice that needs no random seed."""
    return sorted({(i * total) // count for i in range(count)}) if count else []


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for a --precision; "auto" is bf16 on CUDA and plain float32 (None) elsewhere."""
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" else "fp32"
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}[precision]


def load_vgg(path: str | None, device: torch.device | str = "cpu") -> VGGFeatures:
    return VGGFeatures.load(path).to(device)


def load_data(config: TrainConfig, device: torch.device) -> TrainingData:
    """Decode the content photos and style images, hold out validation photos and styles, move to `device`."""
    content_files = image_files(config.content, "content")
    style_files = image_files(config.styles, "style")
    extra_files = image_files(config.extra_styles, "extra style") if config.extra_styles else []
    _check_unique_names(style_files, config.styles)
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
    val_styles = [
        ValidationStyle(style_paths[i].stem, "trained", fit_long_side(style_frames[i], config.style_size))
        for i in evenly_spaced(min(VAL_TRAINED_STYLES, len(style_paths)), len(style_paths))
    ] + [
        ValidationStyle(holdout_paths[i].stem, "unseen", fit_long_side(holdout_frames[i], config.style_size))
        for i in evenly_spaced(min(VAL_UNSEEN_STYLES, len(holdout_paths)), len(holdout_paths))
    ]
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


def _check_unique_names(paths: list[Path], folder: str | Path) -> None:
    seen: dict[str, Path] = {}
    for path in paths:
        if path.stem.lower() in seen:
            raise RealtimeError(
                f"two style images in {folder} share the name '{path.stem}': {seen[path.stem.lower()].name}, {path.name}"
            )
        seen[path.stem.lower()] = path


class Training:
    """A generator being trained: model, optimiser, data, RNG and loss history, resumable from a checkpoint."""

    def __init__(
        self,
        config: TrainConfig,
        data: TrainingData,
        vgg: VGGFeatures,
        device: torch.device | str = "cpu",
        compile: bool = False,
        state: dict[str, Any] | None = None,
        init: Weights | None = None,
        teacher: MSGNet | None = None,
    ) -> None:
        self.config = config
        self.data = data
        self.device = torch.device(device)
        cuda = self.device.type == "cuda"
        self.amp_dtype = autocast_dtype(config.precision, self.device)
        # channels_last is oneDNN's and cuDNN's fast layout: on a CPU with AMX it made the VGG step 1.4x
        # (fp32) and 4.3x (bf16) faster than NCHW fp32.
        self.memory_format = torch.channels_last
        if cuda:
            prepare_cuda(self.device)
            torch.set_float32_matmul_precision("high")  # TF32 for the float32 Gram matrices
        self.vgg = vgg.to(self.device, memory_format=self.memory_format)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = config.generator()
        if init is not None:  # fine-tuning, e.g. the shipped generator on many more paintings (a state overrides it)
            self.model.load_state_dict(init.model.state_dict())
        self.model.to(self.device, memory_format=self.memory_format).train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, fused=True if cuda else None)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype is torch.float16)
        self.rng = torch.Generator().manual_seed(config.seed)
        # Without a teacher its loss is a constant 0, so its weight needs no special case.
        self.loss_weights = torch.tensor(
            [config.content_weight, config.style_weight, config.tv_weight, config.teacher_weight], device=self.device
        )
        self.teacher = teacher.to(self.device, memory_format=self.memory_format).eval() if teacher is not None else None
        self.loss_names = LOSS_NAMES if teacher is not None else LOSS_NAMES[:3]  # what the bar and the log show
        self.step = 0
        self.images_seen = 0
        self.train_seconds = 0.0
        self.history: list[dict[str, Any]] = []
        self.last_saved_step: int | None = None
        self._clock: float | None = None  # while running: when train_seconds was last brought up to date
        self.grams = {size: self._vgg_grams(images) for size, images in data.styles.images.items()}
        self._val = [self._validation_entry(style) for style in data.val_styles]
        if state is not None:
            self.load_state_dict(state)
        self.compiled = compile
        self._encode = torch.compile(self._encode_styles, dynamic=False) if compile else self._encode_styles
        self._losses = torch.compile(self._render_losses, dynamic=False) if compile else self._render_losses

    # --- one step -----------------------------------------------------------------------------
    def _autocast(self) -> AbstractContextManager:
        return torch.autocast(
            self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None
        )

    def _input(self, images: Tensor) -> Tensor:
        return images.to(self.device).float().contiguous(memory_format=self.memory_format)

    def _encode_styles(self, styles: Tensor) -> Tensor:
        with self._autocast():
            return self.model.encode_style(styles)

    def _render_losses(
        self, content: Tensor, target: Tensor, grams: dict[str, Tensor], taught: Tensor, teacher_output: Tensor | None
    ) -> Tensor:
        """(content, style, total variation, teacher) losses; VGG runs under autocast, Gram matrices in float32.

        The teacher loss is the pixel MSE to the teacher's output over the samples `taught` marks (1.0/0.0).
        """
        with self._autocast():
            output = self.model(content, target)
            with torch.no_grad():
                reference = self.vgg(content, (CONTENT_LAYER,))[CONTENT_LAYER]
            features = self.vgg(output, STYLE_LAYERS)
        if teacher_output is None:
            teacher = torch.zeros((), device=output.device)
        else:
            per_sample = (output.float() - teacher_output.float()).square().mean(dim=(1, 2, 3))
            teacher = (per_sample * taught).sum() / taught.sum().clamp_min(1.0)
        return torch.stack(
            [
                content_loss(features[CONTENT_LAYER], reference),
                style_loss(features, grams),
                total_variation(output.float()),
                teacher,
            ]
        )

    @torch.no_grad()
    def _teach(self, content: Tensor, styles: Tensor, group: int) -> Tensor | None:
        """The teacher's stylisation of the batch with its own targets; None without a teacher."""
        if self.teacher is None:
            return None
        with self._autocast():
            return self.teacher(content, self.teacher.encode_style(styles).repeat_interleave(group, dim=0))

    def sample_batch(self) -> tuple[Tensor, Tensor, int]:
        """Random content crops, a style per sample and this step's style size, all from the run's own RNG."""
        g, batch, sizes = self.rng, self.config.batch, self.config.style_sizes
        size = sizes[int(torch.randint(len(sizes), (1,), generator=g))]
        photos = torch.randint(len(self.data.content), (batch,), generator=g)
        crops = self.data.content.crops(photos, torch.rand(batch, 3, generator=g))
        count = self.config.styles_per_batch or batch
        styles = torch.randint(self.data.main_styles, (count,), generator=g)
        extras = len(self.data.styles) - self.data.main_styles
        if extras:
            use_extra = torch.rand(count, generator=g) < self.config.extra_fraction
            styles = torch.where(
                use_extra, self.data.main_styles + torch.randint(extras, (count,), generator=g), styles
            )
        return crops, styles.repeat_interleave(batch // count).to(self.device), size

    def train_step(self, content: Tensor, style_index: Tensor, size: int) -> Tensor:
        """One optimiser step on uint8 content crops, style `style_index[i]` for sample i; returns the LOSS_NAMES losses.

        With --styles-per-batch N, `style_index` comes in runs of batch/N equal entries (as `sample_batch` makes
        them) and each style image goes through the encoder once per run.
        """
        group = self.config.batch // (self.config.styles_per_batch or self.config.batch)
        styles = self._input(self.data.styles.images[size][style_index[::group]])
        target = self._encode(styles)
        content = self._input(content)
        teacher_output = self._teach(content, styles, group)
        if group > 1:
            target = target.repeat_interleave(group, dim=0)
        grams = {layer: bank[style_index] for layer, bank in self.grams[size].items()}
        taught = (style_index < self.data.main_styles).float()  # the teacher knows the built-in styles only
        self.optimizer.zero_grad(set_to_none=True)
        losses = self._losses(content, target, grams, taught, teacher_output)
        self.scaler.scale((losses * self.loss_weights).sum()).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return losses.detach()

    def learning_rate(self, step: int) -> float:
        """Constant, then a linear decay to FINAL_LR_FRACTION over the last (1 - lr_decay_from) of the steps."""
        start = int(self.config.lr_decay_from * self.config.steps)
        if step < start:
            return self.config.lr
        progress = min(1.0, (step - start) / max(1, self.config.steps - start))
        return self.config.lr * (1.0 - (1.0 - FINAL_LR_FRACTION) * progress)

    # --- style and validation targets -------------------------------------------------------
    @torch.no_grad()
    def _vgg_grams(self, images: Tensor, chunk: int = 16) -> dict[str, Tensor]:
        """VGG Gram targets of style images (0–255), computed once: the loss network never changes."""
        parts = []
        for start in range(0, len(images), chunk):
            with self._autocast():
                features = self.vgg(self._input(images[start : start + chunk]), STYLE_LAYERS)
            parts.append(style_grams(features))
        return {layer: torch.cat([p[layer] for p in parts]) for layer in STYLE_LAYERS}

    def _validation_entry(self, style: ValidationStyle) -> tuple[str, str, Tensor, dict[str, Tensor]]:
        image = frame_to_tensor(style.frame, self.device)
        return style.group, style.name, pad_for_generator(image), self._vgg_grams(image)

    @torch.no_grad()
    def validate(self) -> dict[str, dict[str, float]]:
        """Mean losses and quality yardsticks on held-out photos, per style group (trained / unseen)."""
        photos = self._input(self.data.val_photos)
        with self._autocast():
            reference = self.vgg(photos, STYLE_LAYERS)
        sums: dict[str, dict[str, float]] = {}
        for group, _name, image, grams in self._val:
            with self._autocast():
                output = self.model(photos, self.model.encode_style(self._input(image)))
                features = self.vgg(output, STYLE_LAYERS)
            distance = style_distance(features, grams)
            scores = {
                "style": distance.mean(),
                "content": content_loss(features[CONTENT_LAYER], reference[CONTENT_LAYER]),
                "ratio": (distance / style_distance(reference, grams).clamp_min(1e-12)).mean(),
                "content_change": content_change(features[CONTENT_LAYER], reference[CONTENT_LAYER]).mean(),
            }
            totals = sums.setdefault(group, {"n": 0.0})
            totals["n"] += 1
            for key, value in scores.items():
                totals[key] = totals.get(key, 0.0) + float(value)
        results = {}
        for group, totals in sums.items():
            n = totals.pop("n")
            means = {key: value / n for key, value in totals.items()}
            means["loss"] = self.config.content_weight * means["content"] + self.config.style_weight * means["style"]
            results[group] = means
        return results

    # --- checkpoints --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        optimizer = self.optimizer.state_dict()
        if self.config.compact_checkpoint:
            optimizer["state"] = {
                key: {
                    name: v.to(torch.bfloat16) if name in ("exp_avg", "exp_avg_sq") else v for name, v in entry.items()
                }
                for key, entry in optimizer["state"].items()
            }
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "config": self.config.to_dict(),
            "step": self.step,
            "images_seen": self.images_seen,
            "train_seconds": self.train_seconds,
            "history": self.history,
            "data": {
                "styles": self.data.styles.names[: self.data.main_styles],
                "extra_styles": len(self.data.styles) - self.data.main_styles,
                "holdout_styles": self.data.holdout_names,
                "val_photos": self.data.val_photo_names,
                "content_photos": len(self.data.content),
            },
            "model": {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()},
            "optimizer": optimizer,
            "scaler": self.scaler.state_dict(),
            "rng": {
                "data": self.rng.get_state(),
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        check_checkpoint(state, self.config.checkpoint or "checkpoint")
        try:
            self.model.load_state_dict(state["model"])
            saved = state["optimizer"]
            # Keep this machine's kernel choice (fused on CUDA, not on CPU) rather than the saver's.
            implementation = {k: self.optimizer.param_groups[0][k] for k in ("fused", "foreach", "capturable")}
            saved = {**saved, "param_groups": [{**g, **implementation} for g in saved["param_groups"]]}
            self.optimizer.load_state_dict(saved)
            if self.scaler.is_enabled() and state.get("scaler"):
                self.scaler.load_state_dict(state["scaler"])
            self.rng.set_state(state["rng"]["data"])
            torch.set_rng_state(state["rng"]["torch"])
            cuda_states = state["rng"]["cuda"]
            if torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(cuda_states)
            self.step = int(state["step"])
            self.images_seen = int(state["images_seen"])
            self.train_seconds = float(state["train_seconds"])
            self.history = list(state["history"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RealtimeError(f"checkpoint does not fit this training run: {detail}") from None
        self.last_saved_step = self.step

    def save(self) -> list[Path]:
        self._tick()
        files = save_checkpoint(self.state_dict(), self.config.checkpoint, int(self.config.part_mb * 2**20))
        self.last_saved_step = self.step
        return files

    def write_log(self, status: str) -> None:
        self._tick()
        log = {
            "status": status,
            "step": self.step,
            "steps": self.config.steps,
            "images_seen": self.images_seen,
            "train_seconds": round(self.train_seconds, 1),
            "config": self.config.to_dict(),
            "history": self.history,
        }
        with atomic_output(self.config.log) as tmp:
            tmp.write_text(json.dumps(log, indent=1))

    # --- the loop -------------------------------------------------------------------------------
    def run(
        self,
        time_limit: float | None = None,
        chunk_steps: int | None = None,
        progress: bool = True,
        started: float | None = None,
    ) -> TrainResult:
        """Train until `config.steps`, `chunk_steps` more steps, `time_limit` minutes after `started`, or Ctrl-C.

        Whatever stops it, the run ends with a checkpoint; reaching `config.steps` also exports `config.out`.
        """
        config = self.config
        started = time.monotonic() if started is None else started
        deadline = started + time_limit * 60 if time_limit else math.inf
        stop_at = config.steps if chunk_steps is None else min(config.steps, self.step + chunk_steps)
        say: Callable[[str], None] = (
            (lambda text: tqdm.write(text, file=sys.stderr)) if progress else (lambda text: None)
        )
        window, window_steps = torch.zeros(len(LOSS_NAMES), device=self.device), 0
        record, record_steps = torch.zeros(len(LOSS_NAMES), device=self.device), 0
        rate: float | None = None
        step_seconds, save_seconds, val_seconds = 0.0, 5.0, 0.0
        self._clock = window_start = record_start = time.monotonic()
        status = "finished"
        bar = tqdm(
            total=config.steps,
            initial=self.step,
            desc="train",
            unit="step",
            file=sys.stderr,
            disable=not progress,
            mininterval=1.0 if sys.stderr.isatty() else 30.0,
            dynamic_ncols=True,
        )
        try:
            with _StopRequests() as stop:
                while self.step < stop_at:
                    if stop.requested:
                        status = "interrupted"
                        break
                    if time.monotonic() + 3 * step_seconds + save_seconds + val_seconds > deadline:
                        status = "time limit"
                        break
                    for group in self.optimizer.param_groups:
                        group["lr"] = self.learning_rate(self.step)
                    losses = self._guarded_step(*self.sample_batch())
                    window += losses
                    record += losses
                    window_steps, record_steps = window_steps + 1, record_steps + 1
                    self.step += 1
                    self.images_seen += config.batch
                    bar.update(1)
                    if window_steps == LOG_EVERY or self.step == stop_at:
                        means = (window / window_steps).tolist()  # waits for the GPU
                        now = time.monotonic()
                        step_seconds = (now - window_start) / window_steps
                        rate = window_steps * config.batch / (now - window_start)
                        self._check_finite(means)
                        bar.set_postfix(
                            **{name: f"{m:.4g}" for name, m in zip(self.loss_names, means)}, img_s=f"{rate:.0f}"
                        )
                        window.zero_()
                        window_steps, window_start = 0, now
                    if (config.val_every and self.step % config.val_every == 0) or self.step == config.steps:
                        t0 = time.monotonic()
                        self._record(record, record_steps, t0 - record_start, say)
                        record.zero_()
                        record_steps, record_start = 0, time.monotonic()
                        val_seconds = record_start - t0
                        window_start += val_seconds  # the progress bar's img/s counts training steps only
                    saving = (
                        config.checkpoint_every and self.step % config.checkpoint_every == 0 and self.step < stop_at
                    )
                    exporting = (
                        config.export_every and self.step % config.export_every == 0 and self.step < config.steps
                    )
                    if saving or exporting:
                        t0 = time.monotonic()
                        if saving:
                            self.save()
                            self.write_log("running")
                        if exporting:
                            self.export(snapshot_path(config.out, self.step))
                        save_seconds = max(save_seconds, time.monotonic() - t0)
                        window_start += time.monotonic() - t0
                if status == "finished" and self.step < config.steps:
                    status = "chunk done"
        finally:
            bar.close()
        if record_steps:
            self._record(record, record_steps, time.monotonic() - record_start, say, validate=False)
        self.save()
        self.write_log(status)
        self._clock = None
        out = None
        if self.step >= config.steps and config.out:
            out = Path(config.out)
            self.export(out)
        return TrainResult(
            status,
            self.step,
            config.steps,
            self.images_seen,
            self.train_seconds,
            Path(config.checkpoint),
            Path(config.log),
            out,
            rate,
            last_validation(self.history),
        )

    def _tick(self) -> None:
        """Add the time since the last tick to `train_seconds`, so checkpoints and logs carry the total so far."""
        now = time.monotonic()
        if self._clock is not None:
            self.train_seconds += now - self._clock
        self._clock = now

    def _guarded_step(self, content: Tensor, styles: Tensor, size: int) -> Tensor:
        """A torch.compile failure (no compiler, unsupported GPU) becomes one line that names the fix."""
        try:
            return self.train_step(content, styles, size)
        except torch.OutOfMemoryError:
            raise
        except Exception as exc:
            if self.compiled and type(exc).__module__.startswith(("torch._dynamo", "torch._inductor")):
                raise RealtimeError(f"torch.compile failed ({type(exc).__name__}); rerun with --no-compile") from None
            raise

    def _check_finite(self, means: list[float]) -> None:
        if all(math.isfinite(m) for m in means):
            return
        where = (
            f"the last checkpoint is from step {self.last_saved_step}"
            if self.last_saved_step is not None
            else "no checkpoint was written"
        )
        raise RealtimeError(
            f"training diverged near step {self.step} (losses {means}); {where}: resume from it with a lower --lr"
        )

    def _record(
        self, sums: Tensor, steps: int, seconds: float, say: Callable[[str], None], validate: bool = True
    ) -> None:
        """Append a history row: mean training losses since the last row and, when asked, validation scores."""
        self._tick()
        means = (sums / max(1, steps)).tolist()
        row: dict[str, Any] = {
            "step": self.step,
            "images_seen": self.images_seen,
            "seconds": round(self.train_seconds, 1),
            "lr": self.learning_rate(max(0, self.step - 1)),
            "train": dict(zip(self.loss_names, means)),
            "img_per_s": round(steps * self.config.batch / max(seconds, 1e-9), 1),
        }
        if validate and self._val:
            row["val"] = self.validate()
            say(
                f"step {self.step}: "
                + "; ".join(
                    f"{group} loss {v['loss']:.4g} (content {v['content']:.4g}, style {v['style']:.4g}), "
                    f"style ratio {v['ratio']:.3f}, content change {v['content_change']:.3f}"
                    for group, v in row["val"].items()
                )
            )
        self.history.append(row)

    def export(self, out: str | Path, style_size: int | None = None) -> Weights:
        return export_weights(
            self.model,
            self.data.style_paths,
            self.vgg,
            self.config,
            out,
            style_size or self.config.style_size,
            training_summary(self.state_dict()),
            self.device,
        )


class _StopRequests(AbstractContextManager):
    """Ctrl-C or SIGTERM asks the loop to stop after the current step (then it checkpoints); a second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _StopRequests:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def snapshot_path(out: str | Path, step: int) -> Path:
    """Where --export-every writes the weights of `step`: beside OUT, so `--average` can take the last few."""
    out = Path(out)
    return out.with_name(f"{out.stem}.step{step}{out.suffix}")


def last_validation(history: list[dict[str, Any]]) -> dict[str, dict[str, float]] | None:
    return next((row["val"] for row in reversed(history) if row.get("val")), None)


def training_summary(state: dict[str, Any]) -> dict[str, Any]:
    """The weights file's training metadata, from a checkpoint state: recipe, budget, held-out sets, last scores."""
    config, data = state["config"], state.get("data", {})
    return {
        "trained": True,
        "steps": state["step"],
        "finished": state["step"] >= config["steps"],
        "images_seen": state["images_seen"],
        "train_minutes": round(state["train_seconds"] / 60, 1),
        "recipe": {k: v for k, v in config.items() if k not in PATH_OPTIONS},
        "vgg": Path(config["vgg"]).name if config.get("vgg") else "torchvision VGG16 IMAGENET1K_V1",
        "init": Path(config["init"]).name if config.get("init") else None,
        "teacher": Path(config["teacher"]).name if config.get("teacher") else None,
        "content_photos": data.get("content_photos"),
        "extra_styles": data.get("extra_styles", 0),
        "holdout_styles": data.get("holdout_styles", []),
        "val_photos": data.get("val_photos", []),
        "final_val": last_validation(state["history"]),
    }


def check_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    if state.get("format") != CHECKPOINT_FORMAT:
        raise RealtimeError(f"{path} is not a realtime training checkpoint")
    if state.get("version") != CHECKPOINT_VERSION:
        raise RealtimeError(
            f"{path} is a training checkpoint of version {state.get('version')}; this realtime reads {CHECKPOINT_VERSION}"
        )


def resolve_config(
    options: dict[str, Any], resume: str | Path | None = None, state: dict[str, Any] | None = None
) -> TrainConfig:
    """The run's config: the checkpoint's (when resuming) updated with the options given on this command line.

    Paths of outputs (checkpoint, log) follow this command line, never the saved run's machine.
    """
    values = dict(state["config"]) if state is not None else {}
    if state is not None:
        for name in SHAPE_OPTIONS:
            if name in options and options[name] != values.get(name):
                raise RealtimeError(
                    f"the checkpoint is a generator with {name}={values.get(name)}; it cannot continue as {name}={options[name]}"
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


def load_init(config: TrainConfig) -> Weights:
    """The `--init` generator, read and shape-checked first: the style Grams computed after the data take minutes on a CPU."""
    weights = load_weights(config.init)
    shape = {name: getattr(config, name) for name in SHAPE_OPTIONS}
    if weights.model.shape != shape:
        raise RealtimeError(f"--init {config.init} is a generator with {weights.model.shape}; this run trains {shape}")
    return weights


def load_teacher(config: TrainConfig) -> MSGNet | None:
    """The `--teacher` generator (any shape), read before the data so a bad file fails in seconds."""
    return load_weights(config.teacher).model if config.teacher else None


def run_training(
    options: dict[str, Any],
    resume: str | Path | None = None,
    device: str = "auto",
    compile: bool | None = None,
    time_limit: float | None = None,
    chunk_steps: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Start or resume a run from command-line style options (the `realtime train` API)."""
    started = time.monotonic()
    state = load_checkpoint(resume) if resume is not None else None
    if state is not None:
        check_checkpoint(state, resume)
    config = resolve_config(options, resume, state)
    torch_device = resolve_device(device)
    init = load_init(config) if config.init and state is None else None
    teacher = load_teacher(config)
    vgg = load_vgg(config.vgg)
    data = load_data(config, torch_device)
    use_compile = torch_device.type == "cuda" if compile is None else compile
    training = Training(config, data, vgg, torch_device, use_compile, state, init, teacher)
    if progress:
        extras = len(data.styles) - data.main_styles
        tqdm.write(
            f"realtime: training MSG-Net {', '.join(f'{k}={getattr(config, k)}' for k in SHAPE_OPTIONS)} on {torch_device} "
            f"({'fp32' if training.amp_dtype is None else str(training.amp_dtype).replace('torch.', '')}"
            f"{', compiled' if use_compile else ''}): {len(data.content)} photos, {data.main_styles} styles"
            f"{f' + {extras} extra' if extras else ''}{f' ({len(data.holdout_names)} held out)' if data.holdout_names else ''}, "
            f"batch {config.batch} at {config.size} px, style sizes {'/'.join(map(str, config.style_sizes))}; "
            f"{'resuming at' if state else 'starting at'} step {training.step} of {config.steps}",
            file=sys.stderr,
        )
    return training.run(time_limit, chunk_steps, progress, started)


def vgg_bank_info(config: TrainConfig, style_size: int) -> dict[str, Any]:
    return {
        "network": "vgg16",
        "weights": Path(config.vgg).name if config.vgg else "torchvision IMAGENET1K_V1",
        "pool": "max",
        "style_size": style_size,
        "layers": list(STYLE_LAYERS),
        "gram": "F·Fᵀ/(C·H·W) of RGB 0–255 images normalised with the ImageNet mean and std",
    }


@torch.no_grad()
def export_weights(
    model: MSGNet,
    style_paths: list[Path],
    vgg: VGGFeatures,
    config: TrainConfig,
    out: str | Path,
    style_size: int,
    training: dict[str, Any],
    device: torch.device | str = "cpu",
) -> Weights:
    """Write the shipped weights format: generator, style bank from its own encoder (as the app computes
    targets), and the same styles' VGG Grams so Gatys mode can render built-in styles by name."""
    _check_unique_names(style_paths, Path(style_paths[0]).parent if style_paths else ".")
    targets = StyleTargets(model, StyleBank(), torch.device(device), style_size)
    bank, vgg_grams = {}, []
    for path in style_paths:
        bank[path.stem] = targets.target(str(path)).cpu()
        frame = fit_long_side(read_image(path, style_size), style_size)
        features = vgg(frame_to_tensor(frame, device), STYLE_LAYERS)
        vgg_grams.append({layer: g[0].cpu() for layer, g in style_grams(features).items()})
    vgg_bank = {layer: torch.stack([g[layer] for g in vgg_grams]) for layer in STYLE_LAYERS}
    weights = Weights(model, StyleBank(bank), training, str(out), vgg_bank, vgg_bank_info(config, style_size))
    save_weights(weights, out)
    return weights


def export_checkpoint(
    checkpoint: str | Path,
    out: str | Path,
    styles: str | None = None,
    vgg: str | None = None,
    style_size: int | None = None,
    device: str = "auto",
) -> Weights:
    """Export a checkpoint's generator (finished or not) with the style bank of `styles` (default: its own)."""
    state = load_checkpoint(checkpoint)
    check_checkpoint(state, checkpoint)
    config = TrainConfig.from_dict(state["config"])
    config.styles = styles or config.styles
    config.vgg = vgg if vgg is not None else config.vgg
    if not config.styles or not Path(config.styles).is_dir():
        raise RealtimeError(f"style folder not found: {config.styles} (pass --styles DIR)")
    if config.vgg and not Path(config.vgg).is_file():
        raise RealtimeError(f"VGG weights not found: {config.vgg} (pass --vgg PATH)")
    check_output_folder(out)
    torch_device = resolve_device(device)
    model = config.generator()
    try:
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError) as exc:
        raise RealtimeError(f"{checkpoint} holds no usable generator: {str(exc).strip().splitlines()[0]}") from None
    model.to(torch_device).eval()
    paths = image_files(config.styles, "style")
    return export_weights(
        model,
        paths,
        load_vgg(config.vgg, torch_device),
        config,
        out,
        style_size or config.style_size,
        training_summary(state),
        torch_device,
    )
