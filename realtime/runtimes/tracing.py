"""Keeps torch.compile's tracing and eager module calls on other threads apart.

While torch.compile traces a function, torch.fx patches `nn.Module.__call__` for the whole process, so
an eager module call made meanwhile on another thread fails (`NameError: module is not installed as a
submodule`, seen in this project) or is traced into the wrong graph. The live loop compiles the fast
generator on its own thread while a style worker encodes targets and a snapshot worker runs VGG, so
builds wait for those calls to finish and hold them off until the build is done. Eager calls do not
wait for each other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class TracingGate:
    """Any number of eager runs at once, or one build alone."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._eager = 0
        self._building = False

    @contextmanager
    def eager(self) -> Iterator[None]:
        """Around module calls made on a worker thread beside a thread that may compile."""
        with self._cond:
            self._cond.wait_for(lambda: not self._building)
            self._eager += 1
        try:
            yield
        finally:
            with self._cond:
                self._eager -= 1
                self._cond.notify_all()

    @contextmanager
    def build(self) -> Iterator[None]:
        """Around a compile: waits for running eager work, and new eager work waits for it."""
        with self._cond:
            self._cond.wait_for(lambda: not self._building)
            self._building = True
            self._cond.wait_for(lambda: self._eager == 0)
        try:
            yield
        finally:
            with self._cond:
                self._building = False
                self._cond.notify_all()


GATE = TracingGate()
