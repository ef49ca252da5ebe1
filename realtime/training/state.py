"""A run's state beyond the model: its progress, optimiser moments and RNG states, saved so a resume is exact."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from realtime.errors import RealtimeError
from realtime.training.config import TrainConfig

CHECKPOINT_FORMAT = "realtime-train-checkpoint"
CHECKPOINT_VERSION = 1
ADAM_MOMENTS = ("exp_avg", "exp_avg_sq")
FINAL_LR_FRACTION = 0.1  # the learning rate decays linearly to this fraction of --lr
PROGRESS_KEYS = ("step", "images_seen", "train_seconds", "history")  # in the checkpoint, beside model and config


def learning_rate(config: TrainConfig, step: int) -> float:
    """Constant, then a linear decay to FINAL_LR_FRACTION over the last (1 - lr_decay_from) of the steps."""
    start = int(config.lr_decay_from * config.steps)
    if step < start:
        return config.lr
    progress = min(1.0, (step - start) / max(1, config.steps - start))
    return config.lr * (1.0 - (1.0 - FINAL_LR_FRACTION) * progress)


@dataclass
class TrainingState:
    """How far a run has come, with one owner: the loop advances it, the checkpoint saves and restores it, the
    log and the weights file report it. A plain record, so a loop is handed its state rather than reaching
    into the trainer's."""

    step: int = 0
    images_seen: int = 0
    train_seconds: float = 0.0  # wall time of the steps, validations and saves, over every chunk of the run
    lr: float = 0.0  # the learning rate of the latest step
    history: list[dict[str, Any]] = field(default_factory=list)  # a row per --val-every steps and chunk end
    last_saved_step: int | None = None  # the newest checkpoint's step, named when a run diverges; not saved

    @classmethod
    def start(cls, config: TrainConfig) -> TrainingState:
        return cls(lr=learning_rate(config, 0))

    @classmethod
    def from_checkpoint(cls, saved: dict[str, Any], config: TrainConfig) -> TrainingState:
        """The progress a checkpoint holds (its top-level keys, as every version wrote them)."""
        step = int(saved["step"])
        return cls(
            step=step,
            images_seen=int(saved["images_seen"]),
            train_seconds=float(saved["train_seconds"]),
            lr=learning_rate(config, max(0, step - 1)),
            history=list(saved["history"]),
            last_saved_step=step,
        )

    def checkpoint_entries(self) -> dict[str, Any]:
        """What a checkpoint stores of it; the learning rate follows from the step and the config."""
        return {name: getattr(self, name) for name in PROGRESS_KEYS}

    def advance(self, lr: float, images: int) -> None:
        """One optimiser step at rate `lr` on `images` photos is done."""
        self.lr = lr
        self.step += 1
        self.images_seen += images


def check_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """A loaded file is a training checkpoint this version reads, or one line says what it is instead."""
    if state.get("format") != CHECKPOINT_FORMAT:
        raise RealtimeError(f"{path} is not a realtime training checkpoint")
    if state.get("version") != CHECKPOINT_VERSION:
        raise RealtimeError(
            f"{path} is a training checkpoint of version {state.get('version')}; this realtime reads {CHECKPOINT_VERSION}"
        )


def optimizer_state(optimizer: torch.optim.Optimizer, compact: bool) -> dict[str, Any]:
    """The optimiser's state dict; `compact` stores Adam's moments as bf16 (smaller, resumes not bit-exact)."""
    state = optimizer.state_dict()
    if compact:
        state["state"] = {
            key: {name: v.to(torch.bfloat16) if name in ADAM_MOMENTS else v for name, v in entry.items()}
            for key, entry in state["state"].items()
        }
    return state


def restore_optimizer(optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    """Load a saved optimiser state but keep this machine's kernel choice (fused on CUDA, not on CPU)."""
    implementation = {k: optimizer.param_groups[0][k] for k in ("fused", "foreach", "capturable")}
    optimizer.load_state_dict({**saved, "param_groups": [{**g, **implementation} for g in saved["param_groups"]]})


def rng_state(data_rng: torch.Generator) -> dict[str, Any]:
    """Every random stream a step draws from: the batch sampler's and torch's own (CPU and CUDA)."""
    return {
        "data": data_rng.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng(data_rng: torch.Generator, saved: dict[str, Any]) -> None:
    """The saved streams; CUDA's only when this machine has as many GPUs as the saver had."""
    data_rng.set_state(saved["data"])
    torch.set_rng_state(saved["torch"])
    cuda_states = saved["cuda"]
    if torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)
