"""`realtime train` as a function: read what a run needs, cheapest and likeliest to fail first, then train."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from realtime.checkpoint import load_checkpoint
from realtime.device import resolve_device
from realtime.errors import RealtimeError
from realtime.model.msgnet import MSGNet
from realtime.model.weights import Weights, load_weights
from realtime.perceptual.vgg import VGGFeatures
from realtime.training.config import SHAPE_OPTIONS, TrainConfig, resolve_config
from realtime.training.data import TrainingData, load_data
from realtime.training.loop import TrainResult
from realtime.training.state import check_checkpoint
from realtime.training.trainer import Training


def load_init(config: TrainConfig) -> Weights:
    """The `--init` generator, read and shape-checked first: the style Grams computed after the data take minutes on a CPU."""
    weights = load_weights(config.init)
    shape = config.shape()
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
    vgg = VGGFeatures.load(config.vgg)
    data = load_data(config, torch_device)
    use_compile = torch_device.type == "cuda" if compile is None else compile
    training = Training(config, data, vgg, torch_device, use_compile, state, init, teacher)
    if progress:
        tqdm.write(_starting_line(training, data, use_compile, resumed=state is not None), file=sys.stderr)
    return training.run(time_limit, chunk_steps, progress, started)


def _starting_line(training: Training, data: TrainingData, compiled: bool, resumed: bool) -> str:
    config = training.config
    extras = data.extra_styles
    shape = ", ".join(f"{k}={getattr(config, k)}" for k in SHAPE_OPTIONS)
    held = f" ({len(data.holdout_names)} held out)" if data.holdout_names else ""
    what = f"a style head ({config.style_head} channels) for the frozen " if config.style_head else ""
    return (
        f"realtime: training {what}MSG-Net {shape} on {training.device} "
        f"({training.precision.describe()}{', compiled' if compiled else ''}): {len(data.content)} photos, "
        f"{data.main_styles} styles{f' + {extras} extra' if extras else ''}{held}, "
        f"batch {config.batch} at {config.size} px, style sizes {'/'.join(map(str, config.style_sizes))}; "
        f"{'resuming at' if resumed else 'starting at'} step {training.state.step} of {config.steps}"
    )
