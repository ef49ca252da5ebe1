"""Gatys snapshots in the background, so the live view keeps running while one renders.

The live loop hands over a frame and returns at once; one worker thread renders the queued
snapshots in turn and writes each atomically. The loop reads `GatysSnapshot.progress`, `.status`
and `.saved` (or passes `on_update`) for its HUD. On CUDA the worker runs on a stream of its own, so
its kernels are not queued in order with the live loop's; that stream has the same priority as the
default stream the live loop uses, so what yields to the live loop is `pause`: a sleep after every
optimiser step that leaves the device and the interpreter to it.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from realtime.errors import RealtimeError
from realtime.gatys.grams import StyleGrams
from realtime.gatys.optimize import Gatys, GatysProgress
from realtime.imaging.images import write_image
from realtime.live.snapshot import SnapshotRequest, SnapshotStatus, slug, unique_path
from realtime.model.style_spec import StyleSpec
from realtime.model.weights import Weights
from realtime.runtimes.tracing import GATE

StatusCallback = Callable[[str, float | None], None]


@dataclass
class GatysSnapshot:
    """One snapshot's state: written by the worker, read by the live loop."""

    output: Path
    progress: float = 0.0
    status: str = "snapshot queued"
    saved: Path | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    on_update: StatusCallback | None = field(default=None, repr=False)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    def cancel(self) -> None:
        """Stop rendering (or never start); a cancelled snapshot writes nothing."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _update(self, status: str, progress: float | None = None) -> None:
        self.status = status
        if progress is not None:
            self.progress = progress
        if self.on_update is not None:
            self.on_update(status, progress)


@dataclass
class _Request:
    job: GatysSnapshot
    frame: np.ndarray
    styles: Sequence[StyleSpec | str] | StyleGrams
    init: np.ndarray | None
    preserve_color: bool | None


class GatysSnapshotRenderer:
    """A worker thread that renders Gatys snapshots one at a time; `submit` never blocks.

    `weights` resolves built-in style names (their VGG targets); `pause` (seconds) is slept after
    every optimiser step: lower priority for the render on a shared CPU or GPU, at the cost of a
    slower snapshot.
    """

    def __init__(self, gatys: Gatys, weights: Weights | None = None, pause: float = 0.0) -> None:
        self.gatys = gatys
        self.weights = weights
        self.pause = pause
        self.latest: GatysSnapshot | None = None
        self._running: GatysSnapshot | None = None
        self._requests: queue.Queue[_Request | None] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="gatys-snapshots", daemon=True)
        self._thread.start()

    def submit(
        self,
        frame: np.ndarray,
        styles: Sequence[StyleSpec | str] | StyleGrams,
        output: str | Path,
        init: np.ndarray | None = None,
        preserve_color: bool | None = None,
        on_update: StatusCallback | None = None,
    ) -> GatysSnapshot:
        """Queue a snapshot of an RGB frame.

        `init` may be the live stylised frame: the `--init msgnet` head start at no extra cost.
        `preserve_color` overrides the renderer's setting; `on_update(message, progress)` is called
        from the worker thread whenever the status changes.
        """
        if self._closed:
            raise RealtimeError("the snapshot renderer has been shut down")
        job = GatysSnapshot(Path(output), on_update=on_update)
        self.latest = job
        init_copy = None if init is None else init.copy()
        self._requests.put(_Request(job, frame.copy(), styles, init_copy, preserve_color))
        job._update("snapshot queued", 0.0)
        return job

    def hook(self, request: SnapshotRequest, status: SnapshotStatus) -> None:
        """The live app's snapshot hook (`s` key): a Gatys render of the shown photo, started from its stylisation."""
        path = unique_path(request.folder, f"gatys-{slug(request.style_name)}", ".png")
        self.submit(
            request.photo,
            request.style,
            path,
            init=request.stylized,
            preserve_color=request.preserve_color,
            on_update=status.update,
        )

    def shutdown(self, wait: bool = True) -> None:
        """Cancel the running and queued snapshots and stop the worker."""
        self._closed = True
        while True:
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                break
            if request is not None:
                self._finish(request.job, "snapshot cancelled")
        running = self._running
        if running is not None:
            running.cancel()
        self._requests.put(None)
        if wait:
            self._thread.join()

    def __enter__(self) -> GatysSnapshotRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def _work(self) -> None:
        device = self.gatys.device
        # Priority 0, the default stream's (and CUDA's lowest): not ranked above or below the live loop.
        stream = torch.cuda.Stream(device, priority=0) if device.type == "cuda" else None
        while (request := self._requests.get()) is not None:
            self._running = request.job
            with GATE.eager():  # the live loop may be compiling the generator meanwhile
                if stream is None:
                    self._render(request)
                else:
                    with torch.cuda.stream(stream):
                        self._render(request)
                    stream.synchronize()
            self._running = None

    def _render(self, request: _Request) -> None:
        job = request.job
        if job.cancelled:
            self._finish(job, "snapshot cancelled")
            return
        job._update("snapshot: preparing", 0.0)

        def on_step(step: GatysProgress) -> None:
            job._update(f"snapshot {step.fraction:.0%}", step.fraction)
            if self.pause:
                time.sleep(self.pause)

        gatys = self.gatys
        if request.preserve_color is not None and request.preserve_color != gatys.settings.preserve_color:
            gatys = Gatys(
                gatys.network, dataclasses.replace(gatys.settings, preserve_color=request.preserve_color), gatys.device
            )
        try:
            styles = request.styles
            if not isinstance(styles, StyleGrams):
                styles = gatys.styles(styles, self.weights)
            init = "content" if request.init is None else request.init
            result = gatys.render(request.frame, styles, init, stop=job._cancel, callback=on_step)
            if job.cancelled:
                self._finish(job, "snapshot cancelled")
                return
            write_image(result.frame, job.output)
        except RealtimeError as exc:
            job.error = str(exc)
            self._finish(job, f"snapshot failed: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - the live view must outlive any failure here; say what it was
            job.error = f"{type(exc).__name__}: {exc}"
            self._finish(job, f"snapshot failed: {job.error}")
            return
        job.saved = job.output
        self._finish(job, f"saved snapshot {job.output}", 1.0)

    @staticmethod
    def _finish(job: GatysSnapshot, status: str, progress: float | None = None) -> None:
        job._update(status, progress)
        job.done.set()
