"""`realtime live`: the capture → stylise → display loop, its hotkeys and its state.

The loop is plain logic over parts handed to it (a frame source, an optional window, scripted
inputs), so tests drive it with a video file and key presses, and `realtime demo` drives it with a
style schedule. Only the newest captured frame is ever stylised, so a slow generator drops frames
instead of building lag; everything time-based (morphs, recording times) follows the wall clock
live and the stream's own timeline offline (`realtime=False`: lossless, reproducible).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_size
from realtime.live.hud import HUD_MODES, HudInfo, draw_hud
from realtime.live.recorder import Recorder, Recording
from realtime.live.renderer import DISPLAY_MAX_SIDE, LiveRenderer
from realtime.live.snapshot import (
    SnapshotHook,
    SnapshotRequest,
    SnapshotStatus,
    save_stylized,
    unique_path,
)
from realtime.live.styles import StyleCatalog, StyleEntry, TargetLoader
from realtime.live.window import Window
from realtime.model.targets import StyleSpec
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.capture import Frame, FrameSource, SourceEnded, VideoCaptureSource, parse_source
from realtime.sources.sample import SampleSource

# Working sizes (long side) `[` and `]` step through; the display size is always the last step.
SIZE_STEPS = (128, 160, 192, 256, 320, 384, 448, 512, 640, 768, 960, 1280, 1600, 1920)
# CUDA stylises 720p at camera rate; a CPU runs the light model at 320×240 in about 32 ms on 2 cores
# (benchmarks/bench_cpu.py), and needs that small working size to stay interactive.
DEFAULT_WORK_SIDE = {"cuda": 1280, "cpu": 320}
STRENGTH_STEP = 0.1
MORPH_SECONDS = 1.0
MESSAGE_SECONDS = 3.0
_HUD_REFRESH_S = 0.1  # how often the window is redrawn when no new frame arrives (timers, messages)
_EMA = 0.1


class Action(Enum):
    NEXT = "next style"
    PREVIOUS = "previous style"
    MORPH = "morph to the next style"
    STRENGTH_UP = "strength up"
    STRENGTH_DOWN = "strength down"
    SIZE_UP = "larger working size"
    SIZE_DOWN = "smaller working size"
    MIRROR = "mirror"
    COMPARE = "compare"
    PAUSE = "pause"
    RECORD = "record"
    SNAPSHOT = "snapshot"
    HUD = "hud"
    QUIT = "quit"


@dataclass(frozen=True)
class Pick:
    """Jump to the style at `index` (0-based) in the list."""

    index: int


# Shown by `h` and in `--help`. ASCII only: the HUD's Hershey fonts have nothing else.
HOTKEYS: tuple[tuple[str, str], ...] = (
    ("Right, n", "next style"),
    ("Left, p", "previous style"),
    ("1-9, 0", "pick style 1-10"),
    ("b", f"morph to the next style over {MORPH_SECONDS:g} s"),
    ("+ / -", "strength up / down"),
    ("] / [", "working resolution up / down"),
    ("m", "mirror"),
    ("c", "compare: original | stylised"),
    ("space", "pause"),
    ("r", "start / stop recording"),
    ("s", "save a snapshot"),
    ("h", "HUD -> HUD + this help -> clean"),
    ("q, Esc", "quit"),
)

# Arrow keys differ per HighGUI backend: Qt, GTK, Windows, macOS.
_RIGHT_ARROWS = (0x1000014, 0xFF53, 0x270000, 0xF703)
_LEFT_ARROWS = (0x1000012, 0xFF51, 0x250000, 0xF702)
_ESCAPES = (27, 0x1000000)
_KEYS: dict[int, Action | Pick] = {
    **{code: Action.NEXT for code in (*_RIGHT_ARROWS, ord("n"))},
    **{code: Action.PREVIOUS for code in (*_LEFT_ARROWS, ord("p"))},
    **{ord(str(d)): Pick((d - 1) % 10) for d in range(10)},
    ord("b"): Action.MORPH,
    **{code: Action.STRENGTH_UP for code in (ord("+"), ord("="), 0xFFAB)},
    **{code: Action.STRENGTH_DOWN for code in (ord("-"), ord("_"), 0xFFAD)},
    ord("]"): Action.SIZE_UP,
    ord("["): Action.SIZE_DOWN,
    ord("m"): Action.MIRROR,
    ord("c"): Action.COMPARE,
    ord(" "): Action.PAUSE,
    ord("r"): Action.RECORD,
    ord("s"): Action.SNAPSHOT,
    ord("h"): Action.HUD,
    **{code: Action.QUIT for code in (*_ESCAPES, ord("q"))},
}


def action_for_key(code: int) -> Action | Pick | None:
    """A HighGUI key code → what it does (letters in either case), None for unbound keys."""
    if code in _KEYS:
        return _KEYS[code]
    if ord("A") <= code <= ord("Z"):
        return _KEYS.get(code + 32)
    return None


def hotkey_help() -> str:
    """The hotkey table as text, for `--help`."""
    return "\n".join(f"  {keys:<10} {text}" for keys, text in HOTKEYS)


def default_work_side(device: torch.device) -> int:
    return DEFAULT_WORK_SIDE["cuda" if device.type == "cuda" else "cpu"]


def open_source(spec: str, *, loop: bool = True, drop: bool = True) -> FrameSource:
    """`--source` text → a frame source: `sample` (built-in footage), a camera index, a video file or a URL."""
    if spec == "sample":
        return SampleSource(drop=drop)
    return VideoCaptureSource(parse_source(spec), loop=loop, drop=drop)


@dataclass
class LiveOptions:
    work_side: int = DEFAULT_WORK_SIDE["cpu"]
    mirror: bool = False
    compare: bool = False
    record: Path | None = None
    max_frames: int = 0
    realtime: bool = True
    output_dir: Path = Path(".")
    morph_seconds: float = MORPH_SECONDS
    display_max_side: int = DISPLAY_MAX_SIDE


@dataclass
class LiveState:
    """What the hotkeys change."""

    style_index: int
    strength: float
    work_side: int
    mirror: bool = False
    compare: bool = False
    paused: bool = False
    hud: str = HUD_MODES[0]
    quit: bool = False


class LoopStats:
    """Per-frame numbers: smoothed for the HUD, totals for the summary, recent latencies for percentiles."""

    def __init__(self) -> None:
        self.frames = 0
        self.fps = 0.0
        self.generator_ms = 0.0
        self.latency_ms = 0.0
        self.latencies: deque[float] = deque(maxlen=4096)
        self.generator_times: deque[float] = deque(maxlen=4096)
        self._first: float | None = None
        self._last: float | None = None

    def add(self, now: float, generator_ms: float, latency_ms: float) -> None:
        if self._last is not None and now > self._last:
            rate = 1.0 / (now - self._last)
            self.fps = rate if self.frames == 1 else self.fps + _EMA * (rate - self.fps)
        self._first = now if self._first is None else self._first
        self._last = now
        first = self.frames == 0
        self.generator_ms = generator_ms if first else self.generator_ms + _EMA * (generator_ms - self.generator_ms)
        self.latency_ms = latency_ms if first else self.latency_ms + _EMA * (latency_ms - self.latency_ms)
        self.latencies.append(latency_ms)
        self.generator_times.append(generator_ms)
        self.frames += 1

    @property
    def seconds(self) -> float:
        return 0.0 if self._first is None or self._last is None else self._last - self._first

    @property
    def mean_fps(self) -> float:
        return (self.frames - 1) / self.seconds if self.frames > 1 and self.seconds > 0 else 0.0


@dataclass(frozen=True)
class LiveSummary:
    frames: int
    seconds: float
    fps: float
    generator_ms: float
    latency_ms: float
    dropped: int
    stop_reason: str
    recordings: list[Recording] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Pending:
    """A selected style waiting for its target.

    `step` is +1 or -1 for next/previous, which move on past styles that fail, 0 for a pick, which stays
    put; `tried` counts the styles tried on the way, so a list where every style fails ends the search.
    """

    entry: StyleEntry
    morph: bool
    step: int = 0
    tried: int = 1


@dataclass
class _Morph:
    start: Tensor
    end: Tensor
    entry: StyleEntry
    buffer: Tensor
    started: float | None = None


# Called at the start of every step; returns actions to apply (scripted key presses, schedules).
Input = Callable[["LiveSession"], Iterable["Action | Pick"]]


class LiveSession:
    """The live loop: one `step()` reads input, stylises the newest frame and shows it; `run()` loops.

    The session owns what it is given from construction on: `run()` (or `close()`) closes the
    source, window and any recording, which is finalised however the loop ends.
    """

    def __init__(
        self,
        stylizer: Stylizer,
        source: FrameSource,
        catalog: StyleCatalog,
        options: LiveOptions | None = None,
        *,
        window: Window | None = None,
        snapshot: SnapshotHook = save_stylized,
        inputs: Sequence[Input] = (),
    ) -> None:
        self.stylizer = stylizer
        self.source = source
        self.catalog = catalog
        self.options = options or LiveOptions()
        self.window = window
        self.snapshot_hook = snapshot
        self.snapshot_status = SnapshotStatus()
        self.inputs = list(inputs)
        self.renderer = LiveRenderer(stylizer, self.options.display_max_side)
        self.state = LiveState(
            catalog.start_index, stylizer.strength, self.options.work_side, self.options.mirror, self.options.compare
        )
        self.stats = LoopStats()
        self.output: np.ndarray | None = None  # the last composed frame (what is recorded; no HUD)
        self.recorder: Recorder | None = None
        self.recordings: list[Recording] = []
        self.problems: list[str] = []
        self.stop_reason = ""
        self._frame: Frame | None = None
        self._pending: _Pending | None = None
        self._failures: dict[tuple[StyleSpec, ...], str] = {}  # styles that failed, and why: reported once
        self._morph: _Morph | None = None
        self._messages: deque[tuple[str, float]] = deque(maxlen=4)
        self._dirty = True
        self._display: np.ndarray | None = None
        self._last_present = float("-inf")
        self._record_start: float | None = None
        self.loader = TargetLoader(stylizer.styles)
        try:
            self._applied = catalog[self.state.style_index]
            loaded = self.loader.get(self._applied, wait=True)
            if loaded is None or loaded.error:
                raise RealtimeError(loaded.error if loaded else "closed while loading the first style")
            stylizer.target = loaded.target
            self._preview = loaded.preview
            start = self.state.style_index
            self.loader.prefetch(catalog.entries[start + 1 :] + catalog.entries[:start])
        except BaseException:
            self.close()
            raise

    # The loop -------------------------------------------------------------------------------------

    def run(self) -> LiveSummary:
        """Loop until quit, the source ends or `max_frames`; Ctrl-C stops it cleanly (recording kept)."""
        try:
            if self.options.record is not None:
                self._start_recording(self.options.record)
            self._warm_up()
            while self.step():
                pass
        except KeyboardInterrupt:
            self.stop_reason = "interrupted"
        finally:
            self.close()
        return self.summary()

    def step(self) -> bool:
        """One turn: apply input, stylise the newest frame if there is one, show it. False once done."""
        for action in self._poll_inputs():
            self.handle(action)
        if self.state.quit:
            return False
        self._resolve_pending()
        frame = self._next_frame()
        if self.state.quit:
            return False
        if frame is not None:
            self._frame = frame
        rendered = self._frame is not None and (frame is not None or self._dirty or self._morph is not None)
        if rendered:
            self._render(self._frame, record=frame is not None)
        self._present(rendered)
        if frame is not None:
            latency_ms = (time.perf_counter() - frame.captured_at) * 1000.0
            self.stats.add(time.perf_counter(), self.renderer.generator_ms, latency_ms)
        if self.options.max_frames and self.stats.frames >= self.options.max_frames:
            self.stop_reason = f"reached --max-frames {self.options.max_frames}"
            self.state.quit = True
        return not self.state.quit

    def close(self) -> None:
        """Finalise any recording and release the source, window and style worker (safe to repeat)."""
        if self.recorder is not None:
            self._stop_recording()
        self.loader.close()
        self.source.close()
        if self.window is not None:
            self.window.close()

    def summary(self) -> LiveSummary:
        s = self.stats
        generator = sum(s.generator_times) / len(s.generator_times) if s.generator_times else 0.0
        latency = sum(s.latencies) / len(s.latencies) if s.latencies else 0.0
        return LiveSummary(
            s.frames,
            s.seconds,
            s.mean_fps,
            generator,
            latency,
            self.source.dropped,
            self.stop_reason,
            list(self.recordings),
            list(self.problems),
        )

    # Hotkeys --------------------------------------------------------------------------------------

    def handle(self, action: Action | Pick) -> None:
        """Apply one hotkey's action to the session."""
        state = self.state
        if isinstance(action, Pick):
            self._rescan()
            if action.index < len(self.catalog):
                self._select(action.index)
            else:
                self.message(f"no style {action.index + 1}: the list has {len(self.catalog)}")
        elif action in (Action.NEXT, Action.PREVIOUS, Action.MORPH):
            self._rescan()
            step = -1 if action is Action.PREVIOUS else 1
            self._select(state.style_index + step, morph=action is Action.MORPH, step=step)
        elif action in (Action.STRENGTH_UP, Action.STRENGTH_DOWN):
            step = STRENGTH_STEP if action is Action.STRENGTH_UP else -STRENGTH_STEP
            state.strength = round(min(1.0, max(0.0, state.strength + step)), 2)
            self.stylizer.strength = state.strength
            self.message(f"strength {state.strength:.1f}")
        elif action in (Action.SIZE_UP, Action.SIZE_DOWN):
            self._step_size(1 if action is Action.SIZE_UP else -1)
        elif action is Action.MIRROR:
            state.mirror = not state.mirror
        elif action is Action.COMPARE:
            state.compare = not state.compare
        elif action is Action.PAUSE:
            state.paused = not state.paused
            self.message("paused (space to go on)" if state.paused else "playing")
        elif action is Action.RECORD:
            self._toggle_recording()
        elif action is Action.SNAPSHOT:
            self._snapshot()
        elif action is Action.HUD:
            state.hud = HUD_MODES[(HUD_MODES.index(state.hud) + 1) % len(HUD_MODES)]
        elif action is Action.QUIT:
            state.quit = True
            self.stop_reason = "quit"
        self._dirty = True

    def message(self, text: str) -> None:
        """Show `text` on the HUD for a few seconds."""
        self._messages.append((text, time.monotonic() + MESSAGE_SECONDS))

    @property
    def display_long_side(self) -> int:
        if self._frame is None:
            return SIZE_STEPS[-1]
        return max(self.renderer.display_size(*self._frame.image.shape[:2]))

    @property
    def work_side(self) -> int:
        """The working size in effect: the chosen one, but never above the display size."""
        return min(self.state.work_side, self.display_long_side)

    # Styles ---------------------------------------------------------------------------------------

    def _rescan(self) -> None:
        if self.catalog.folder is None:
            return
        selected = self.catalog[min(self.state.style_index, len(self.catalog) - 1)]
        try:
            new = self.catalog.scan()
        except RealtimeError as exc:  # the folder was removed or renamed: keep switching between the styles known
            self.message(str(exc))
            return
        if new:
            self.message(f"{new} new style{'s' if new > 1 else ''} in {self.catalog.folder}")
        entries = self.catalog.entries
        self.state.style_index = (
            entries.index(selected) if selected in entries else min(self.state.style_index, len(entries) - 1)
        )
        self.loader.prefetch(entries)

    def _select(self, index: int, morph: bool = False, step: int = 0) -> None:
        index %= len(self.catalog)
        self.state.style_index = index
        self._pending = _Pending(self.catalog[index], morph, step)
        if not morph:
            self._morph = None
        self._resolve_pending()

    def _resolve_pending(self) -> None:
        """Apply the selected style once its target exists (at once offline; when ready live)."""
        while self._pending is not None:
            pending = self._pending
            loaded = self.loader.get(pending.entry, wait=not self.options.realtime)
            if loaded is None:
                return
            self._pending = None
            if loaded.error or loaded.target is None:
                self._style_failed(pending, loaded.error or f"cannot use style {pending.entry.name}")
                continue
            self._failures.pop(pending.entry.specs, None)  # fixed since: a new failure is news again
            self._preview = loaded.preview
            if pending.morph:
                start = self.stylizer.target.clone()
                self._morph = _Morph(start, loaded.target, pending.entry, torch.empty_like(start))
            else:
                self.stylizer.target = loaded.target
                self._applied = pending.entry
            self._dirty = True

    def _style_failed(self, pending: _Pending, error: str) -> None:
        """Report a style that cannot be used and move on past it in the direction of travel, so one bad
        image does not wall off the styles after it; a pick (or a list where nothing else works) returns
        to the style in use. Next/previous skip a style that failed before without repeating its message."""
        if not pending.step or self._failures.get(pending.entry.specs) != error:
            self.message(error)
        self._failures[pending.entry.specs] = error
        entries = self.catalog.entries
        if pending.step and pending.entry in entries and pending.tried < len(entries):
            index = (entries.index(pending.entry) + pending.step) % len(entries)
            if entries[index] != self._applied:
                self.state.style_index = index
                self._pending = _Pending(entries[index], pending.morph, pending.step, pending.tried + 1)
                return
        self.state.style_index = entries.index(self._applied) if self._applied in entries else 0

    def _advance_morph(self, now: float) -> None:
        morph = self._morph
        if morph is None:
            return
        if morph.started is None:
            morph.started = now
        progress = (now - morph.started) / self.options.morph_seconds
        if progress >= 1.0:
            self.stylizer.target = morph.end
            self._applied = morph.entry
            self._morph = None
        else:
            torch.lerp(morph.start, morph.end, progress, out=morph.buffer)
            self.stylizer.target = morph.buffer

    # Frames ---------------------------------------------------------------------------------------

    def _poll_inputs(self) -> list[Action | Pick]:
        actions: list[Action | Pick] = []
        if self.window is not None:
            code = self.window.key(15 if self.state.paused else 1)
            action = action_for_key(code) if code is not None else None
            if action is not None:
                actions.append(action)
            if self.window.closed():
                actions.append(Action.QUIT)
        for source in self.inputs:
            actions.extend(source(self))
        return actions

    def _next_frame(self) -> Frame | None:
        if self.state.paused:
            return None
        timeout = (0.005 if self.window is not None else 0.1) if self.options.realtime else None
        try:
            return self.source.read(timeout)
        except SourceEnded as exc:
            self.stop_reason = str(exc)
            self.state.quit = True
            return None

    def _now(self, frame: Frame) -> float:
        return time.perf_counter() if self.options.realtime else frame.time_s

    def _warm_up(self) -> None:
        """Stylise a blank frame of the source's size before the source starts playing.

        The generator's first call (ONNX export, CUDA compile and kernel search) can take seconds: paid
        during playback it would drop the start of a file and skew the generator's mean time.
        """
        self._stylize(np.zeros((self.source.height, self.source.width, 3), np.uint8))

    def _stylize(self, image: np.ndarray) -> np.ndarray:
        """The display frame for `image`; out of GPU memory, retried at smaller working sizes."""
        while True:
            try:
                return self.renderer.render(image, self.work_side, mirror=self.state.mirror, compare=self.state.compare)
            except torch.OutOfMemoryError:
                self._shrink_after_oom()

    def _render(self, frame: Frame, record: bool) -> None:
        self._advance_morph(self._now(frame))
        self.output = self._stylize(frame.image)
        self._dirty = False
        if record and self.recorder is not None:
            self.recorder.write(self.output, self._record_time(frame))

    def _shrink_after_oom(self) -> None:
        current = self.work_side
        smaller = [side for side in SIZE_STEPS if side < current]
        if not smaller:
            raise RealtimeError(f"out of GPU memory even at working size {current}; close other programs using the GPU")
        if self.stylizer.device.type == "cuda":
            torch.cuda.empty_cache()
        self.state.work_side = smaller[-1]
        self.message(f"out of GPU memory at working size {current}: now {smaller[-1]}")

    def _step_size(self, direction: int) -> None:
        limit = self.display_long_side
        sides = sorted({side for side in SIZE_STEPS if side < limit} | {limit})
        current = self.work_side
        candidates = [s for s in sides if s > current] if direction > 0 else [s for s in sides if s < current]
        if not candidates:
            self.message("already at the display size" if direction > 0 else "already at the smallest working size")
            return
        self.state.work_side = candidates[0] if direction > 0 else candidates[-1]
        if self._frame is not None:
            h, w = fit_size(*self._frame.image.shape[:2], self.work_side)
            self.message(f"working size {w}x{h}")

    def _present(self, rendered: bool) -> None:
        if self.window is None or self.output is None:
            return
        now = time.perf_counter()
        if not rendered and now - self._last_present < _HUD_REFRESH_S:
            return
        if self._display is None or self._display.shape != self.output.shape:
            self._display = np.empty_like(self.output)
        np.copyto(self._display, self.output)
        draw_hud(self._display, self._hud_info())
        self.window.show(self._display)
        self._last_present = now

    def _hud_info(self) -> HudInfo:
        index = self.state.style_index
        style = f"{index + 1}/{len(self.catalog)} {self.catalog[index].name}"
        if self._morph is not None:
            style += "  (morphing)"
        now = time.monotonic()
        messages = [text for text, until in self._messages if until > now]
        if self.source.status == "reconnecting":
            messages.append(f"{self.source.name} lost: reconnecting...")
        text, progress, age = self.snapshot_status.read()
        bar = None
        if progress is not None and progress < 1.0:
            bar = (text, progress)
        elif text and age < MESSAGE_SECONDS:
            messages.append(text)
        recording = None
        if self.recorder is not None and self._record_start is not None:
            recording = time.perf_counter() - self._record_start if self.options.realtime else 0.0
        return HudInfo(
            style=style,
            strength=self.state.strength,
            work_size=self.renderer.work_size,
            fps=self.stats.fps,
            generator_ms=self.stats.generator_ms,
            latency_ms=self.stats.latency_ms,
            device=str(self.stylizer.device),
            mode=self.state.hud,
            loading=self._pending is not None,
            preview=self._preview,
            recording_s=recording,
            paused=self.state.paused,
            mirror=self.state.mirror,
            compare=self.state.compare,
            messages=messages,
            progress=bar,
            hotkeys=HOTKEYS,
        )

    # Recording and snapshots ----------------------------------------------------------------------

    def _toggle_recording(self) -> None:
        if self.recorder is not None:
            self._stop_recording()
            return
        try:
            self._start_recording(unique_path(self.options.output_dir, "recording", ".mp4"))
        except RealtimeError as exc:
            self.message(str(exc))

    def _start_recording(self, path: Path) -> None:
        self.recorder = Recorder(path, self.source.fps, lossless=not self.options.realtime)
        self._record_start = None
        self.message(f"recording to {path}")

    def _record_time(self, frame: Frame) -> float:
        now = self._now(frame)
        if self._record_start is None:
            self._record_start = now
        return now - self._record_start

    def _stop_recording(self) -> None:
        recorder, self.recorder = self.recorder, None
        try:
            recording = recorder.close()
        except RealtimeError as exc:
            self.problems.append(str(exc))
            self.message(str(exc))
            return
        self.recordings.append(recording)
        self.message(f"saved {recording.path} ({recording.frames} frames)")

    def _snapshot(self) -> None:
        if self._frame is None or self.output is None:
            self.message("nothing to snapshot yet")
            return
        photo, stylized = self.renderer.snapshot()
        request = SnapshotRequest(
            photo,
            stylized,
            self._applied.specs,
            self._applied.name,
            self.stylizer.strength,
            self.stylizer.preserve_color,
            self.options.output_dir,
        )
        try:
            self.snapshot_hook(request, self.snapshot_status)
        except RealtimeError as exc:
            self.snapshot_status.update(str(exc))
