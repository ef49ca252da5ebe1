"""Stop requests: Ctrl-C or SIGTERM ends a training loop after the current step, with a checkpoint."""

from __future__ import annotations

import signal
import threading
from contextlib import AbstractContextManager
from types import FrameType
from typing import Any


class StopRequests(AbstractContextManager):
    """Ctrl-C or SIGTERM asks the loop to stop after the current step (then it checkpoints); a second Ctrl-C stops at once.

    Handlers are only installed on the main thread (Python allows no other); elsewhere nothing is caught.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
