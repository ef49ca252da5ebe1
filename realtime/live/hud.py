"""The live window's overlay: numbers, the style in use, recording state, messages and the hotkey list.

Drawn in place on the RGB display frame after it was recorded, so recordings and snapshots stay
clean. Text is outlined rather than boxed, which reads on any picture and costs little per frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from realtime.live.window import Window

HUD_MODES = ("on", "help", "off")
_REFRESH_S = 0.1  # how often the window is redrawn when no new frame arrives (timers, messages)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_WHITE = (255, 255, 255)
_YELLOW = (255, 220, 80)
_RED = (230, 30, 30)
_BLACK = (0, 0, 0)
_OUTLINE = ((-1, -1), (1, -1), (-1, 1), (1, 1), (0, 2), (2, 0), (0, -2), (-2, 0))


@dataclass
class HudInfo:
    """What the overlay shows; the live session fills one per displayed frame."""

    style: str
    strength: float
    stroke: float  # as painted at the working size
    working_resolution: tuple[int, int]  # width, height of the frame the generator saw
    fps: float
    generator_ms: float
    latency_ms: float
    device: str
    keyframes: bool = False  # the generator paints beside the loop: its ms are a keyframe's, not a frame's
    mode: str = "on"
    loading: bool = False
    preview: np.ndarray | None = None
    recording_s: float | None = None
    paused: bool = False
    mirror: bool = False
    compare: bool = False
    messages: Sequence[str] = field(default_factory=list)
    progress: tuple[str, float] | None = None
    hotkeys: Sequence[tuple[str, str]] = field(default_factory=list)


class HudScreen:
    """Shows frames in the window with the HUD drawn on a copy, so what is recorded stays clean.

    Without a new frame the picture is redrawn now and then, so timers and messages stay current.
    """

    def __init__(self, window: Window) -> None:
        self.window = window
        self._shown: np.ndarray | None = None
        self._last = float("-inf")

    def show(self, frame: np.ndarray, info: Callable[[], HudInfo], new: bool) -> None:
        """Show `frame` with the HUD `info()` describes; a frame that is not `new` only when a refresh is due."""
        now = time.perf_counter()
        if not new and now - self._last < _REFRESH_S:
            return
        if self._shown is None or self._shown.shape != frame.shape:
            self._shown = np.empty_like(frame)
        np.copyto(self._shown, frame)
        draw_hud(self._shown, info())
        self.window.show(self._shown)
        self._last = now


def draw_hud(frame: np.ndarray, info: HudInfo) -> None:
    """Draw `info` onto the H×W×3 uint8 `frame` in place. Recording state and messages show in every mode."""
    height, width = frame.shape[:2]
    scale = max(0.4, min(0.8, height / 720 * 0.6))
    line = int(30 * scale / 0.6)
    margin = int(12 * scale / 0.6)
    if info.mode != "off":
        _draw_status(frame, info, scale, line, margin)
        _draw_preview(frame, info.preview, margin, top=margin + (line if info.recording_s is not None else 0))
        if info.compare:
            _text(frame, "original", (margin, height - margin), scale, _WHITE)
            _text(frame, "stylised", (width // 2 + margin, height - margin), scale, _WHITE)
    if info.recording_s is not None:
        _draw_recording(frame, info.recording_s, scale, line, margin)
    _draw_messages(frame, info, scale, line, margin)
    if info.mode == "help":
        _draw_help(frame, info.hotkeys, scale, line)


def _draw_status(frame: np.ndarray, info: HudInfo, scale: float, line: int, margin: int) -> None:
    flags = [name for name, on in (("mirror", info.mirror), ("compare", info.compare), ("PAUSED", info.paused)) if on]
    rows = [
        f"{info.style}{'  (loading...)' if info.loading else ''}",
        f"{info.fps:4.1f} fps   generator {info.generator_ms:.0f} ms{' a keyframe' if info.keyframes else ''}   "
        f"latency {info.latency_ms:.0f} ms",
        f"strength {info.strength:.1f}   strokes {info.stroke:.1f}   "
        f"working {info.working_resolution[0]}x{info.working_resolution[1]}   {info.device}"
        + "".join(f"   {flag}" for flag in flags),
    ]
    for i, row in enumerate(rows):
        _text(frame, row, (margin, margin + line * (i + 1) - line // 4), scale, _YELLOW if i == 0 else _WHITE)


def _draw_preview(frame: np.ndarray, preview: np.ndarray | None, margin: int, top: int) -> None:
    if preview is None:
        return
    ph, pw = preview.shape[:2]
    height, width = frame.shape[:2]
    x, y = width - margin - pw, top
    if x < 1 or y + ph + 1 > height:
        return
    frame[y - 1 : y + ph + 1, x - 1 : x + pw + 1] = _WHITE
    frame[y : y + ph, x : x + pw] = preview


def _draw_recording(frame: np.ndarray, seconds: float, scale: float, line: int, margin: int) -> None:
    label = f"REC {int(seconds // 60)}:{int(seconds % 60):02d}"
    (tw, _), _ = cv2.getTextSize(label, _FONT, scale, 1)
    x = frame.shape[1] - margin - tw
    y = margin + line - line // 4
    cv2.circle(frame, (x - line // 2, y - line // 4), max(3, line // 4), _RED, -1, cv2.LINE_AA)
    _text(frame, label, (x, y), scale, _RED)


def _draw_messages(frame: np.ndarray, info: HudInfo, scale: float, line: int, margin: int) -> None:
    y = frame.shape[0] - margin - (line if info.compare and info.mode != "off" else 0)
    if info.progress is not None:
        message, value = info.progress
        bar_w = min(frame.shape[1] - 2 * margin, int(300 * scale / 0.6))
        top = y - line // 2
        cv2.rectangle(frame, (margin, top), (margin + bar_w, y), _WHITE, 1)
        cv2.rectangle(frame, (margin, top), (margin + int(bar_w * min(max(value, 0.0), 1.0)), y), _WHITE, -1)
        y -= line
        _text(frame, message, (margin, y), scale, _WHITE)
        y -= line
    for message in reversed(info.messages):
        _text(frame, message, (margin, y), scale, _WHITE)
        y -= line


def _draw_help(frame: np.ndarray, hotkeys: Sequence[tuple[str, str]], scale: float, line: int) -> None:
    height, width = frame.shape[:2]
    key_w = max((cv2.getTextSize(k, _FONT, scale, 1)[0][0] for k, _ in hotkeys), default=0)
    text_w = max((cv2.getTextSize(t, _FONT, scale, 1)[0][0] for _, t in hotkeys), default=0)
    box_w, box_h = key_w + text_w + 3 * line, line * (len(hotkeys) + 1)
    # Below the status lines where the window has room, else as low as still shows every row.
    x0, y0 = max(0, (width - box_w) // 2), max(0, min(max(4 * line, (height - box_h) // 2), height - box_h))
    region = frame[y0 : y0 + box_h, x0 : x0 + box_w]
    np.right_shift(region, 2, out=region)
    for i, (keys, text) in enumerate(hotkeys):
        y = y0 + line * (i + 1)
        _text(frame, keys, (x0 + line, y), scale, _YELLOW)
        _text(frame, text, (x0 + 2 * line + key_w, y), scale, _WHITE)


def _text(frame: np.ndarray, text: str, origin: tuple[int, int], scale: float, color: tuple[int, int, int]) -> None:
    """Outlined text; Hershey fonts are ASCII only, so anything else shows as '?'."""
    text = text.encode("ascii", "replace").decode("ascii")
    x, y = origin
    # Thickness changes Hershey glyph advances, so the outline is the same thin text shifted around.
    for dx, dy in _OUTLINE:
        cv2.putText(frame, text, (x + dx, y + dy), _FONT, scale, _BLACK, 1, cv2.LINE_AA)
    cv2.putText(frame, text, origin, _FONT, scale, color, 1, cv2.LINE_AA)
