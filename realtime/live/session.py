"""`realtime live`: the capture → stylise → display loop, wiring the parts that each do one job.

The loop is plain logic over parts handed to it (a frame source, an optional window, scripted
inputs), so tests drive it with a video file and key presses, and `realtime demo` drives it with a
style schedule. Only the newest captured frame is ever stylised, so a slow generator drops frames
instead of building lag. Styles are switched by the `StyleSwitcher`, time comes from the session's
clock (wall time live, the stream's own timeline offline: lossless, reproducible), recordings and
snapshots from their controls, and what the HUD shows from `status.hud_info`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from realtime.live.catalog import StyleCatalog
from realtime.live.clock import clock_for
from realtime.live.hotkeys import Action, Pick, window_actions
from realtime.live.hud import HUD_MODES, HudScreen
from realtime.live.messages import Messages
from realtime.live.record_control import RecordingControl
from realtime.live.renderer import LiveRenderer
from realtime.live.settings import OFFLINE_KEYFRAME_EVERY, LiveOptions
from realtime.live.snapshot import SnapshotHook, Snapshots, save_stylized
from realtime.live.stats import LiveSummary, LoopStats
from realtime.live.status import hud_info, stroke_note
from realtime.live.switcher import StyleSwitcher
from realtime.live.window import Window
from realtime.live.working_size import WorkingSize
from realtime.runtimes.settings import MAX_STRENGTH, MAX_STROKE
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.capture import Frame, FrameSource, SourceEnded

STRENGTH_STEP = 0.1
STROKE_STEP = 0.25


def _stepped(value: float, step: float, highest: float) -> float:
    """A key's step of a setting, kept within 0–`highest` and free of float drift (0.1 + 0.2 …)."""
    return round(min(highest, max(0.0, value + step)), 2)


@dataclass
class LiveState:
    """The view settings the hotkeys change (the working size and the look have their own parts)."""

    mirror: bool = False
    compare: bool = False
    paused: bool = False
    hud: str = HUD_MODES[0]
    quit: bool = False


# Called at the start of every step; returns actions to apply (scripted key presses, schedules).
Input = Callable[["LiveSession"], Iterable[Action | Pick]]


class FrameSink(Protocol):
    """Gets every frame the session stylises, as recorded (no HUD): a virtual camera (`live/virtual_camera.py`)."""

    def send(self, frame: np.ndarray) -> None: ...

    def close(self) -> None: ...


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
        sinks: Sequence[FrameSink] = (),
    ) -> None:
        self.stylizer = stylizer
        self.source = source
        self.options = options or LiveOptions()
        self.window = window
        self.inputs = list(inputs)
        self.sinks = list(sinks)
        self.clock = clock_for(self.options.realtime)
        self.messages = Messages()
        self.renderer = LiveRenderer(
            stylizer,
            self.options.display_max_side,
            upsample=self.options.upsample,
            stabilize=self.options.stabilize,
            keyframes=self.options.keyframes,
            keyframe_every=0 if self.options.realtime else OFFLINE_KEYFRAME_EVERY,  # offline: on a fixed schedule
        )
        self.state = LiveState(self.options.mirror, self.options.compare)
        self.sizes = WorkingSize(self.options.working_size, self.messages)
        self.stats = LoopStats()
        self.recording = RecordingControl(self.messages, source.fps, self.options.output_dir, lossless=self.clock.waits)
        self.snapshots = Snapshots(snapshot, self.options.output_dir, self.messages.seconds)
        self.screen = HudScreen(window) if window is not None else None
        self.output: np.ndarray | None = None  # the last composed frame (what is recorded; no HUD)
        self.stop_reason = ""
        self._frame: Frame | None = None
        self._dirty = True
        try:
            options = self.options
            self.switcher = StyleSwitcher(
                stylizer,
                catalog,
                self.messages,
                wait=self.clock.waits,
                morph_seconds=options.morph_seconds,
                strength=options.strength,
                stroke=options.stroke,
                preserve_color=options.preserve_color,
                palette=options.palette,
            )
        except BaseException:
            self._close_io()
            raise

    @property
    def frame(self) -> Frame | None:
        """The frame last captured (shown again, restylised, while paused)."""
        return self._frame

    # The loop -------------------------------------------------------------------------------------

    def run(self) -> LiveSummary:
        """Loop until quit, the source ends or `max_frames`; Ctrl-C stops it cleanly (recording kept)."""
        try:
            if self.options.record is not None:
                self.recording.start(self.options.record)
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
        self._dirty |= self.switcher.update()
        frame = self._next_frame()
        if self.state.quit:
            return False
        if frame is not None:
            self._frame = frame
            self.clock.see(frame)
            self.sizes.display_side = max(self.renderer.display_size(*frame.image.shape[:2]))
        rendered = self._frame is not None and (frame is not None or self._dirty or self.switcher.morphing)
        if rendered:
            self._render(self._frame, record=frame is not None)
        if self.screen is not None and self.output is not None:
            self.screen.show(self.output, lambda: hud_info(self), new=rendered)
        if frame is not None:
            latency_ms = (time.perf_counter() - frame.captured_at) * 1000.0
            self.stats.add(time.perf_counter(), self.renderer.generator_ms, latency_ms)
        if self.options.max_frames and self.stats.frames >= self.options.max_frames:
            self.stop_reason = f"reached --max-frames {self.options.max_frames}"
            self.state.quit = True
        return not self.state.quit

    def close(self) -> None:
        """Finalise any recording and release the source, window and style worker (safe to repeat)."""
        self.recording.stop()
        self.switcher.close()
        self._close_io()

    def summary(self) -> LiveSummary:
        s = self.stats
        return LiveSummary(
            s.frames,
            s.seconds,
            s.mean_fps,
            s.mean_generator_ms,
            s.mean_latency_ms,
            self.source.dropped,
            self.stop_reason,
            list(self.recording.recordings),
            list(self.recording.problems),
        )

    # Hotkeys --------------------------------------------------------------------------------------

    def handle(self, action: Action | Pick) -> None:
        """Apply one hotkey's action to the session."""
        state = self.state
        if isinstance(action, Pick):
            self.switcher.pick(action.index)
        elif action in (Action.NEXT, Action.PREVIOUS, Action.MORPH):
            self.switcher.step(-1 if action is Action.PREVIOUS else 1, morph=action is Action.MORPH)
        elif action in (Action.STRENGTH_UP, Action.STRENGTH_DOWN):
            step = STRENGTH_STEP if action is Action.STRENGTH_UP else -STRENGTH_STEP
            look = self.switcher.adjust(strength=_stepped(self.switcher.look.strength, step, MAX_STRENGTH))
            self.messages.post(f"strength {look.strength:.1f}")
        elif action in (Action.STROKE_UP, Action.STROKE_DOWN):
            step = STROKE_STEP if action is Action.STROKE_UP else -STROKE_STEP
            look = self.switcher.adjust(stroke=_stepped(self.switcher.look.stroke, step, MAX_STROKE))
            self.messages.post(stroke_note(look.stroke, self.renderer.working_resolution))
        elif action in (Action.SIZE_UP, Action.SIZE_DOWN):
            shape = None if self._frame is None else self._frame.image.shape
            self.sizes.step(1 if action is Action.SIZE_UP else -1, shape)
        elif action is Action.MIRROR:
            state.mirror = not state.mirror
        elif action is Action.COMPARE:
            state.compare = not state.compare
        elif action is Action.PAUSE:
            state.paused = not state.paused
            self.messages.post("paused (space to go on)" if state.paused else "playing")
        elif action is Action.RECORD:
            self.recording.toggle()
        elif action is Action.SNAPSHOT:
            self._snapshot()
        elif action is Action.HUD:
            state.hud = HUD_MODES[(HUD_MODES.index(state.hud) + 1) % len(HUD_MODES)]
        elif action is Action.QUIT:
            state.quit = True
            self.stop_reason = "quit"
        self._dirty = True

    def _poll_inputs(self) -> list[Action | Pick]:
        # Paused, nothing else needs the loop: waiting longer for a key spares the CPU.
        actions = [] if self.window is None else window_actions(self.window, 15 if self.state.paused else 1)
        for source in self.inputs:
            actions.extend(source(self))
        return actions

    def _snapshot(self) -> None:
        if self._frame is None or self.output is None:
            self.messages.post("nothing to snapshot yet")
            return
        photo, stylized = self.renderer.snapshot()
        look = self.switcher.look
        self.snapshots.take(photo, stylized, self.switcher.applied, look.strength, look.preserve_color)

    # Frames ---------------------------------------------------------------------------------------

    def _next_frame(self) -> Frame | None:
        if self.state.paused:
            return None
        try:
            return self.source.read(self.clock.read_timeout(window=self.window is not None))
        except SourceEnded as exc:
            self.stop_reason = str(exc)
            self.state.quit = True
            return None

    def _warm_up(self) -> None:
        """Stylise a blank frame of the source's size before the source starts playing.

        The generator's first call (ONNX export, CUDA compile and kernel search) can take seconds: paid
        during playback it would drop the start of a file and skew the generator's mean time.
        """
        self._stylize(np.zeros((self.source.height, self.source.width, 3), np.uint8))
        self.renderer.forget()

    def _render(self, frame: Frame, record: bool) -> None:
        self.switcher.advance(self.clock.now())
        self.output = self._stylize(frame.image)
        self._dirty = False
        for sink in self.sinks:
            sink.send(self.output)
        if record:
            self.recording.write(self.output, self.clock.now())

    def _stylize(self, image: np.ndarray) -> np.ndarray:
        """The display frame for `image`; out of GPU memory, retried at smaller working sizes."""
        while True:
            try:
                return self.renderer.render(
                    image,
                    self.sizes.current,
                    self.switcher.look,
                    mirror=self.state.mirror,
                    compare=self.state.compare,
                    again=self.state.paused,
                )
            except torch.OutOfMemoryError:
                if self.stylizer.device.type == "cuda":
                    torch.cuda.empty_cache()
                self.sizes.shrink()

    def _close_io(self) -> None:
        self.renderer.close()
        for sink in self.sinks:
            sink.close()
        self.source.close()
        if self.window is not None:
            self.window.close()
