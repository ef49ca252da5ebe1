"""The parts of a checkpoint beyond the model: optimiser moments and RNG states, saved so a resume is exact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from realtime.errors import RealtimeError

CHECKPOINT_FORMAT = "realtime-train-checkpoint"
CHECKPOINT_VERSION = 1
ADAM_MOMENTS = ("exp_avg", "exp_avg_sq")


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
