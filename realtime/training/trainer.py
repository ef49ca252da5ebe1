"""A generator being trained: model, optimiser, batch sampling and one step, resumable from a checkpoint.

Each sample in a batch gets its own style. The generator's target is that style image's Gram matrix
through the generator's own encoder (gradients flow into the encoder, as in the paper), and the style
loss compares the output's VGG Grams with the style image's; those are constants (VGG is frozen), so
they are computed once per style and training size. In short trials one style per sample trained 21
distinct styles where one style per batch blurred them into a few palettes. Speed on CUDA comes from
bf16 autocast, channels_last, data resident on the GPU, fused Adam, TF32 Gram matrices and,
optionally, torch.compile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from realtime.device import prepare_cuda
from realtime.errors import RealtimeError
from realtime.model.msgnet import MSGNet
from realtime.model.weights import Weights
from realtime.perceptual.vgg import VGGFeatures
from realtime.training.config import TrainConfig
from realtime.training.data import TrainingData
from realtime.training.export import export_weights, training_summary
from realtime.training.loop import TrainingLoop, TrainResult
from realtime.training.losses import LOSS_NAMES, StepLosses
from realtime.training.precision import Precision, vgg_grams
from realtime.training.state import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    TrainingState,
    check_checkpoint,
    optimizer_state,
    restore_optimizer,
    restore_rng,
    rng_state,
)
from realtime.training.validation import Validation


class Training:
    """A generator being trained: model, optimiser, data and RNG, with the `TrainingState` of its run.

    It does one step (`train_step`) and saves and restores itself and its state (`state_dict`); the loop that
    `run` hands its state to is what advances it.
    """

    def __init__(
        self,
        config: TrainConfig,
        data: TrainingData,
        vgg: VGGFeatures,
        device: torch.device | str = "cpu",
        compile: bool = False,
        state: dict[str, Any] | None = None,  # a checkpoint to resume from
        init: Weights | None = None,
        teacher: MSGNet | None = None,
    ) -> None:
        self.config = config
        self.data = data
        self.device = torch.device(device)
        cuda = self.device.type == "cuda"
        self.precision = Precision(config.precision, self.device)
        layout = self.precision.memory_format
        if cuda:
            prepare_cuda(self.device)
            torch.set_float32_matmul_precision("high")  # TF32 for the float32 Gram matrices
        self.vgg = vgg.to(self.device, memory_format=layout)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = MSGNet(**config.shape(), style_head=config.style_head)
        if init is not None:  # fine-tuning, e.g. the shipped generator on many more paintings (a state overrides it)
            self._start_from(init.model)
        self.model.to(self.device, memory_format=layout).train()
        # With --style-head only the head learns: the generator and its built-in styles stay as they are.
        trained = self.model.style_head if config.style_head else self.model
        self.model.requires_grad_(trained is self.model)
        trained.requires_grad_(True)
        self.optimizer = torch.optim.Adam(trained.parameters(), lr=config.lr, fused=True if cuda else None)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.precision.amp_dtype is torch.float16)
        self.rng = torch.Generator().manual_seed(config.seed)
        # Without a teacher its loss is a constant 0, so its weight needs no special case.
        self.loss_weights = torch.tensor(
            [config.content_weight, config.style_weight, config.tv_weight, config.teacher_weight], device=self.device
        )
        if teacher is not None:
            teacher = teacher.to(self.device, memory_format=layout).eval()
        self.step_losses = StepLosses(
            self.model, self.vgg, self.precision, teacher, config.layer_weights(), config.loss == "ratio"
        )
        self.loss_names = LOSS_NAMES if teacher is not None else LOSS_NAMES[:3]  # what the bar and the log show
        self.state = TrainingState.start(config)
        self.grams = {size: vgg_grams(self.vgg, images, self.precision) for size, images in data.styles.images.items()}
        self.validation = Validation(data, self.vgg, self.precision, config)
        if state is not None:
            self.load_state_dict(state)
        self.compiled = compile
        self._encode = torch.compile(self._encode_styles, dynamic=False) if compile else self._encode_styles
        compute = self.step_losses.compute
        self._losses = torch.compile(compute, dynamic=False) if compile else compute

    def _start_from(self, init: MSGNet) -> None:
        """The --init generator, and its style head where this run trains one as wide: a head fitted to a
        generator no longer fits it once the generator is fine-tuned, so other runs start without it."""
        state = init.state_dict()
        if init.style_head_width != self.config.style_head:
            state = {name: value for name, value in state.items() if not name.startswith("style_head.")}
        missing = self.model.load_state_dict(state, strict=False).missing_keys
        if any(not name.startswith("style_head.") for name in missing):
            raise RealtimeError(f"--init {self.config.init} lacks generator weights: {', '.join(missing[:3])}")

    # --- one step -----------------------------------------------------------------------------
    def _encode_styles(self, styles: Tensor) -> Tensor:
        with self.precision.autocast():
            return self.model.encode_style(styles)

    def sample_batch(self) -> tuple[Tensor, Tensor, int]:
        """Random content crops, a style per sample and this step's style size, all from the run's own RNG."""
        g, batch, sizes = self.rng, self.config.batch, self.config.style_sizes
        size = sizes[int(torch.randint(len(sizes), (1,), generator=g))]
        photos = torch.randint(len(self.data.content), (batch,), generator=g)
        crops = self.data.content.crops(photos, torch.rand(batch, 3, generator=g))
        count = self.config.styles_per_batch or batch
        styles = torch.randint(self.data.main_styles, (count,), generator=g)
        extras = self.data.extra_styles
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
        styles = self.precision.input(self.data.styles.images[size][style_index[::group]])
        target = self._encode(styles)
        content = self.precision.input(content)
        teacher_output = self.step_losses.teach(content, styles, group)
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

    def validate(self) -> dict[str, dict[str, float]]:
        """Mean losses and quality yardsticks on held-out photos, per style group (trained / unseen)."""
        return self.validation(self.model)

    # --- checkpoints and export ---------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The checkpoint: config, the run's state, data summary, model, optimiser, scaler and RNG states."""
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "config": self.config.to_dict(),
            **self.state.checkpoint_entries(),
            "data": self.data.summary(),
            "model": {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()},
            "optimizer": optimizer_state(self.optimizer, self.config.compact_checkpoint),
            "scaler": self.scaler.state_dict(),
            "rng": rng_state(self.rng),
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Continue from a checkpoint: model, optimiser, scaler, RNG and the run's state."""
        check_checkpoint(saved, self.config.checkpoint or "checkpoint")
        try:
            self.model.load_state_dict(saved["model"])
            restore_optimizer(self.optimizer, saved["optimizer"])
            if self.scaler.is_enabled() and saved.get("scaler"):
                self.scaler.load_state_dict(saved["scaler"])
            restore_rng(self.rng, saved["rng"])
            self.state = TrainingState.from_checkpoint(saved, self.config)
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RealtimeError(f"checkpoint does not fit this training run: {detail}") from None

    def export(self, out: str | Path, style_size: int | None = None) -> Weights:
        """Write the generator as a weights file with the --styles bank and this run's record."""
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
        return TrainingLoop(self, self.state, time_limit, chunk_steps, progress, started).run()

    @property
    def step(self) -> int:
        """The run's step (read-only: `state` has it, and only the loop advances it)."""
        return self.state.step

    @property
    def history(self) -> list[dict[str, Any]]:
        """The run's history rows, as `state` holds them."""
        return self.state.history
