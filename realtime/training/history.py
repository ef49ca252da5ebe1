"""A run's written record: training time, history rows with validation scores, and the JSON log."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from realtime.atomic import atomic_output
from realtime.training.config import TrainConfig
from realtime.training.state import TrainingState

Scores = dict[str, dict[str, float]]


class RunRecord:
    """What one loop writes down as it goes, into the state it is given and the JSON log.

    It adds wall time to `state.train_seconds` at every row, checkpoint and log (`tick`), so whatever is
    written mid-run carries the total so far and a resumed run keeps counting from there.
    """

    def __init__(
        self,
        state: TrainingState,
        config: TrainConfig,
        loss_names: Sequence[str],
        validate: Callable[[], Scores] | None,
        say: Callable[[str], None],
    ) -> None:
        self.state = state
        self.config = config
        self.loss_names = loss_names
        self.validate = validate  # None: no held-out photos or styles to validate on
        self.say = say
        self._clock = time.monotonic()

    def tick(self) -> None:
        now = time.monotonic()
        self.state.train_seconds += now - self._clock
        self._clock = now

    def add_row(self, means: list[float], steps: int, seconds: float, validate: bool = True) -> None:
        """Append a history row: mean training losses since the last row and, when asked, validation scores."""
        self.tick()
        state = self.state
        row: dict[str, Any] = {
            "step": state.step,
            "images_seen": state.images_seen,
            "seconds": round(state.train_seconds, 1),
            "lr": state.lr,
            "train": dict(zip(self.loss_names, means)),
            "img_per_s": round(steps * self.config.batch / max(seconds, 1e-9), 1),
        }
        if validate and self.validate is not None:
            row["val"] = self.validate()
            self.say(f"step {state.step}: {validation_line(row['val'])}")
        state.history.append(row)

    def write_log(self, status: str) -> None:
        """The JSON log beside the checkpoint: status, progress, config and the whole history."""
        self.tick()
        state = self.state
        log = {
            "status": status,
            "step": state.step,
            "steps": self.config.steps,
            "images_seen": state.images_seen,
            "train_seconds": round(state.train_seconds, 1),
            "config": self.config.to_dict(),
            "history": state.history,
        }
        with atomic_output(self.config.log) as tmp:
            tmp.write_text(json.dumps(log, indent=1))


def validation_line(scores: Scores) -> str:
    """Validation scores per style group, on one line as the progress output shows them."""
    return "; ".join(
        f"{group} loss {v['loss']:.4g} (content {v['content']:.4g}, style {v['style']:.4g}), "
        f"style ratio {v['ratio']:.3f}, content change {v['content_change']:.3f}"
        for group, v in scores.items()
    )
