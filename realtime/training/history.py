"""A run's written record: training time, history rows with validation scores, and the JSON log."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from realtime.atomic import atomic_output

if TYPE_CHECKING:
    from realtime.training.trainer import Training


class RunRecord:
    """What one `Training.run` call writes down as it goes.

    It adds wall time to `train_seconds` at every row, checkpoint and log (`tick`), so whatever is
    written mid-run carries the total so far and a resumed run keeps counting from there.
    """

    def __init__(self, training: Training, say: Callable[[str], None]) -> None:
        self.training = training
        self.say = say
        self._clock = time.monotonic()

    def tick(self) -> None:
        now = time.monotonic()
        self.training.train_seconds += now - self._clock
        self._clock = now

    def add_row(self, means: list[float], steps: int, seconds: float, validate: bool = True) -> None:
        """Append a history row: mean training losses since the last row and, when asked, validation scores."""
        self.tick()
        training = self.training
        row: dict[str, Any] = {
            "step": training.step,
            "images_seen": training.images_seen,
            "seconds": round(training.train_seconds, 1),
            "lr": training.learning_rate(max(0, training.step - 1)),
            "train": dict(zip(training.loss_names, means)),
            "img_per_s": round(steps * training.config.batch / max(seconds, 1e-9), 1),
        }
        if validate and training.validation:
            row["val"] = training.validate()
            self.say(f"step {training.step}: {validation_line(row['val'])}")
        training.history.append(row)

    def write_log(self, status: str) -> None:
        """The JSON log beside the checkpoint: status, progress, config and the whole history."""
        self.tick()
        training = self.training
        log = {
            "status": status,
            "step": training.step,
            "steps": training.config.steps,
            "images_seen": training.images_seen,
            "train_seconds": round(training.train_seconds, 1),
            "config": training.config.to_dict(),
            "history": training.history,
        }
        with atomic_output(training.config.log) as tmp:
            tmp.write_text(json.dumps(log, indent=1))


def validation_line(scores: dict[str, dict[str, float]]) -> str:
    """Validation scores per style group, on one line as the progress output shows them."""
    return "; ".join(
        f"{group} loss {v['loss']:.4g} (content {v['content']:.4g}, style {v['style']:.4g}), "
        f"style ratio {v['ratio']:.3f}, content change {v['content_change']:.3f}"
        for group, v in scores.items()
    )
