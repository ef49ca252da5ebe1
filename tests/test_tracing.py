"""The gate that keeps torch.compile's tracing away from eager module calls on other threads."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
import torch
from conftest import make_weights

import realtime.live.catalog
import realtime.runtimes.cuda
from realtime.live.catalog import StyleEntry, TargetLoader
from realtime.model.style_spec import StyleSpec
from realtime.model.targets import StyleTargets
from realtime.runtimes.cuda import FastGenerator, FastSettings
from realtime.runtimes.tracing import TracingGate


def _until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.001)


def _thread(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_a_build_waits_for_running_eager_work_and_later_eager_work_waits_for_the_build():
    gate = TracingGate()
    inside, release = threading.Event(), threading.Event()
    order: list[str] = []

    def eager_run() -> None:
        with gate.eager():
            inside.set()
            release.wait(30)
            order.append("eager")

    def build() -> None:
        with gate.build():
            order.append("build")

    def later_eager_run() -> None:
        with gate.eager():
            order.append("later eager")

    first = _thread(eager_run)
    assert inside.wait(30)
    builder = _thread(build)
    _until(lambda: gate._building)  # the build has claimed the gate and waits for the running call
    later = _thread(later_eager_run)
    assert order == []
    release.set()
    for thread in (first, builder, later):
        thread.join(30)
    assert order == ["eager", "build", "later eager"]


def test_eager_runs_do_not_wait_for_each_other():
    gate = TracingGate()
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.eager():
            inside.set()
            release.wait(30)

    holder = _thread(hold)
    assert inside.wait(30)
    entered = threading.Event()

    def enter_too() -> None:
        with gate.eager():
            entered.set()

    second = _thread(enter_too)
    assert entered.wait(30)  # entered while the first run still holds the gate
    release.set()
    holder.join(30)
    second.join(30)


class _RecordingGate:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.inside: str | None = None

    @contextmanager
    def _hold(self, kind: str):
        self.calls.append(kind)
        self.inside = kind
        try:
            yield
        finally:
            self.inside = None

    def eager(self):
        return self._hold("eager")

    def build(self):
        return self._hold("build")


@pytest.fixture
def recording_gate(monkeypatch):
    gate = _RecordingGate()
    monkeypatch.setattr(realtime.runtimes.cuda, "GATE", gate)
    monkeypatch.setattr(realtime.live.catalog, "GATE", gate)
    return gate


def test_fast_builds_and_live_style_encodes_pass_the_gate(recording_gate, monkeypatch):
    weights = make_weights()
    fast = FastGenerator(weights.model, "cpu", FastSettings(compile="none", cuda_graph=False))
    fast.prepare(1, 32, 48)
    assert recording_gate.calls == ["build"]

    styles = StyleTargets(weights.model, weights.bank, torch.device("cpu"), style_size=64)
    seen: list[str | None] = []
    blend = styles.blend

    def recorded_blend(specs, refine=True):
        seen.append(recording_gate.inside)
        return blend(specs, refine)

    monkeypatch.setattr(styles, "blend", recorded_blend)
    loader = TargetLoader(styles)
    try:
        loaded = loader.get(StyleEntry("coffee", (StyleSpec("sample:coffee"),)), wait=True)
    finally:
        loader.close()
    assert loaded is not None and loaded.target is not None and loaded.error is None
    assert seen == ["eager"] and recording_gate.calls == ["build", "eager"]
