"""What the HUD shows, gathered from the live session's parts whenever the window is redrawn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from realtime.live.hotkeys import HOTKEYS
from realtime.live.hud import HudInfo
from realtime.runtimes.strokes import effective_stroke

if TYPE_CHECKING:
    from realtime.live.session import LiveSession


def _painted(stroke: float, working_resolution: tuple[int, int]) -> float:
    width, height = working_resolution
    return effective_stroke(height, width, stroke) if width else stroke  # nothing rendered yet: as asked


def stroke_note(stroke: float, working_resolution: tuple[int, int]) -> str:
    """The note for a new stroke size, and what the working size makes of it when that differs."""
    painted = _painted(stroke, working_resolution)
    width, height = working_resolution
    if abs(painted - stroke) < 0.05:
        return f"strokes {stroke:g}"
    return f"strokes {stroke:g} (painted {painted:.1f} at working size {max(width, height)})"


def hud_info(session: LiveSession) -> HudInfo:
    """The session's state as the HUD shows it now (messages that have not expired yet included)."""
    messages = session.messages.showing()
    if session.source.status == "reconnecting":
        messages.append(f"{session.source.name} lost: reconnecting...")
    snapshot_message, progress = session.snapshots.on_hud()
    if snapshot_message:
        messages.append(snapshot_message)
    state, stats, switcher = session.state, session.stats, session.switcher
    return HudInfo(
        style=switcher.label,
        strength=switcher.look.strength,
        stroke=_painted(switcher.look.stroke, session.renderer.working_resolution),
        working_resolution=session.renderer.working_resolution,
        fps=stats.fps,
        generator_ms=stats.generator_ms,
        latency_ms=stats.latency_ms,
        device=str(session.stylizer.device),
        keyframes=session.renderer.keyframes is not None,
        mode=state.hud,
        loading=switcher.loading,
        preview=switcher.preview,
        recording_s=session.recording.elapsed(session.clock.now()),
        paused=state.paused,
        mirror=state.mirror,
        compare=state.compare,
        messages=messages,
        progress=progress,
        hotkeys=HOTKEYS,
    )
