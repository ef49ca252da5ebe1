"""The training loop: steps until the goal, a chunk's end, a time limit or a stop request, then a checkpoint.

The loop is handed a `Training` (model, optimiser, one step) and the `TrainingState` it advances (step,
images seen, learning rate, time, history); nothing else changes them. Training runs in chunks: checkpoints
hold the model, optimiser, state, RNG states and config, so a resumed run continues exactly where an
uninterrupted one would have been.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor
from tqdm import tqdm

from realtime.checkpoint import save_checkpoint
from realtime.errors import RealtimeError
from realtime.stopping import StopRequests
from realtime.training.export import last_validation, snapshot_path
from realtime.training.history import RunRecord
from realtime.training.state import TrainingState, learning_rate

if TYPE_CHECKING:
    from realtime.training.trainer import Training

LOG_EVERY = 50  # steps between progress updates (each one waits for the GPU once)
FIRST_SAVE_SECONDS = 5.0  # what the time limit reserves for a checkpoint before one has been timed


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

    def summary(self) -> dict[str, Any]:
        """Plain JSON-able values (`realtime train --json`)."""
        return {
            "status": self.status,
            "step": self.step,
            "steps": self.steps,
            "images_seen": self.images_seen,
            "train_minutes": round(self.train_seconds / 60, 2),
            "images_per_second": self.images_per_second,
            "checkpoint": str(self.checkpoint),
            "log": str(self.log),
            "out": str(self.out) if self.out else None,
            "val": self.last_val,
        }

    def message(self) -> str:
        """One line on how the run ended and what to do next."""
        if self.status == "finished":
            where = f"weights: {self.out}" if self.out else f"checkpoint: {self.checkpoint} (no --out given)"
            minutes = self.train_seconds / 60
            return f"finished {self.steps} steps ({self.images_seen} images, {minutes:.1f} min of training); {where}"
        return (
            f"{self.status} at step {self.step} of {self.steps}; checkpoint saved: "
            f"{self.checkpoint} (continue with --resume {self.checkpoint})"
        )


class LossWindow:
    """Sums of the step losses since `start`, kept on the device so adding a step never waits for the GPU."""

    def __init__(self, size: int, device: torch.device, start: float) -> None:
        self.sums = torch.zeros(size, device=device)
        self.steps = 0
        self.start = start

    def add(self, losses: Tensor) -> None:
        self.sums += losses
        self.steps += 1

    def means(self) -> list[float]:
        """The mean of each loss over the window (this waits for the GPU)."""
        return (self.sums / max(1, self.steps)).tolist()

    def reset(self, now: float) -> None:
        self.sums.zero_()
        self.steps = 0
        self.start = now

    def pause(self, seconds: float) -> None:
        """Leave time spent on something else (validation, checkpoints) out of the window's speed."""
        self.start += seconds


class TimeBudget:
    """Whether another step still leaves time, before the deadline, for the checkpoint that ends the run.

    It reserves three steps at the recent pace, the slowest save so far and the last validation, so a
    run with --time-limit stops in time even when the next step is also a validation and a checkpoint.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.step_seconds = 0.0
        self.save_seconds = FIRST_SAVE_SECONDS
        self.val_seconds = 0.0

    def spent(self) -> bool:
        return time.monotonic() + 3 * self.step_seconds + self.save_seconds + self.val_seconds > self.deadline

    def saved(self, seconds: float) -> None:
        self.save_seconds = max(self.save_seconds, seconds)


class TrainingLoop:
    """One call of `Training.run`: steps that advance `state`, then the checkpoint, log and export it ends with."""

    def __init__(
        self,
        training: Training,
        state: TrainingState,
        time_limit: float | None = None,
        chunk_steps: int | None = None,
        progress: bool = True,
        started: float | None = None,
    ) -> None:
        self.training = training
        self.state = state
        self.config = config = training.config
        started = time.monotonic() if started is None else started
        self.budget = TimeBudget(started + time_limit * 60 if time_limit else math.inf)
        self.stop_at = config.steps if chunk_steps is None else min(config.steps, state.step + chunk_steps)
        self.progress = progress
        self.rate: float | None = None  # images per second over the last progress window

    def run(self) -> TrainResult:
        training, state = self.training, self.state
        validate = training.validate if training.validation else None
        self.record = RunRecord(state, self.config, training.loss_names, validate, self._say)
        now = time.monotonic()
        self.bar_losses = LossWindow(len(training.loss_weights), training.device, now)  # the progress bar's means
        self.row_losses = LossWindow(len(training.loss_weights), training.device, now)  # the next history row's
        self.bar = tqdm(
            total=self.config.steps,
            initial=state.step,
            desc="train",
            unit="step",
            file=sys.stderr,
            disable=not self.progress,
            mininterval=1.0 if sys.stderr.isatty() else 30.0,
            dynamic_ncols=True,
        )
        try:
            status = self._loop()
        finally:
            self.bar.close()
        return self._finish(status)

    def _loop(self) -> str:
        """Train until a reason to stop; the status says which one."""
        with StopRequests() as stop:
            while self.state.step < self.stop_at:
                if stop.requested:  # Ctrl-C or SIGTERM during the last step: stop with a checkpoint
                    return "interrupted"
                if self.budget.spent():  # one more step would leave no time for the final checkpoint
                    return "time limit"
                self._step()
                self._show_progress()
                self._maybe_record()
                self._maybe_save()
        return "finished" if self.state.step >= self.config.steps else "chunk done"

    def _step(self) -> None:
        lr = learning_rate(self.config, self.state.step)
        for group in self.training.optimizer.param_groups:
            group["lr"] = lr
        losses = self._guarded_step(*self.training.sample_batch())
        self.bar_losses.add(losses)
        self.row_losses.add(losses)
        self.state.advance(lr, self.config.batch)
        self.bar.update(1)

    def _guarded_step(self, content: Tensor, styles: Tensor, size: int) -> Tensor:
        """A torch.compile failure (no compiler, unsupported GPU) becomes one line that names the fix."""
        try:
            return self.training.train_step(content, styles, size)
        except torch.OutOfMemoryError:
            raise
        except Exception as exc:
            if self.training.compiled and type(exc).__module__.startswith(("torch._dynamo", "torch._inductor")):
                raise RealtimeError(f"torch.compile failed ({type(exc).__name__}); rerun with --no-compile") from None
            raise

    def _show_progress(self) -> None:
        """Mean losses and speed on the bar every LOG_EVERY steps and at the end: the only waits for the GPU."""
        if self.bar_losses.steps != LOG_EVERY and self.state.step != self.stop_at:
            return
        means = self.bar_losses.means()
        now = time.monotonic()
        seconds = now - self.bar_losses.start
        self.budget.step_seconds = seconds / self.bar_losses.steps
        self.rate = self.bar_losses.steps * self.config.batch / seconds
        self._check_finite(means)
        losses = {name: f"{m:.4g}" for name, m in zip(self.training.loss_names, means)}
        self.bar.set_postfix(**losses, img_s=f"{self.rate:.0f}")
        self.bar_losses.reset(now)

    def _check_finite(self, means: list[float]) -> None:
        if all(math.isfinite(m) for m in means):
            return
        state = self.state
        where = (
            f"the last checkpoint is from step {state.last_saved_step}"
            if state.last_saved_step is not None
            else "no checkpoint was written"
        )
        raise RealtimeError(
            f"training diverged near step {state.step} (losses {means}); {where}: resume from it with a lower --lr"
        )

    def _maybe_record(self) -> None:
        """A history row with validation every --val-every steps and at the last step."""
        config, step = self.config, self.state.step
        if not ((config.val_every and step % config.val_every == 0) or step == config.steps):
            return
        begun = time.monotonic()
        self.record.add_row(self.row_losses.means(), self.row_losses.steps, begun - self.row_losses.start)
        self.row_losses.reset(time.monotonic())
        self.budget.val_seconds = self.row_losses.start - begun
        self.bar_losses.pause(self.budget.val_seconds)  # the progress bar's img/s counts training steps only

    def _maybe_save(self) -> None:
        """A checkpoint every --checkpoint-every steps and a weights snapshot every --export-every steps,
        except where `_finish` writes them anyway (the chunk's last step, the run's last step)."""
        config, step = self.config, self.state.step
        saving = config.checkpoint_every and step % config.checkpoint_every == 0 and step < self.stop_at
        exporting = config.export_every and step % config.export_every == 0 and step < config.steps
        if not (saving or exporting):
            return
        begun = time.monotonic()
        if saving:
            self._save()
            self.record.write_log("running")
        if exporting:
            self.training.export(snapshot_path(config.out, step))
        self.budget.saved(time.monotonic() - begun)
        self.bar_losses.pause(time.monotonic() - begun)

    def _finish(self, status: str) -> TrainResult:
        """Whatever stopped the loop: the last losses into the history, a checkpoint, the log, and the
        weights file once the run has reached its steps."""
        state, config = self.state, self.config
        if self.row_losses.steps:
            self.record.add_row(
                self.row_losses.means(), self.row_losses.steps, time.monotonic() - self.row_losses.start, validate=False
            )
        self._save()
        self.record.write_log(status)
        out = None
        if state.step >= config.steps and config.out:
            out = Path(config.out)
            self.training.export(out)
        return TrainResult(
            status,
            state.step,
            config.steps,
            state.images_seen,
            state.train_seconds,
            Path(config.checkpoint),
            Path(config.log),
            out,
            self.rate,
            last_validation(state.history),
        )

    def _say(self, text: str) -> None:
        if self.progress:
            tqdm.write(text, file=sys.stderr)

    def _save(self) -> None:
        self.record.tick()
        save_checkpoint(self.training.state_dict(), self.config.checkpoint)
        self.state.last_saved_step = self.state.step
