"""The live window through OpenCV's HighGUI: show RGB frames, read keys, notice when it is closed.

This is the OpenCV output boundary, so RGB becomes BGR here. Qt (OpenCV's GUI on Linux wheels)
aborts the whole process when it cannot reach a display, so the display is checked first and a
missing one becomes a one-line error that points at `--no-window`.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import cv2
import numpy as np

from realtime.errors import RealtimeError

WINDOW_TITLE = "realtime live"
# Qt in the opencv-python wheels ships no fonts; pointing it at a system font folder silences its warnings.
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu")

NO_WINDOW_HINT = "run with --no-window (add --record out.mp4 to keep the result)"


def display_problem() -> str | None:
    """Why no window can open here, in a few words (None when one can): checked without touching Qt."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    display = os.environ.get("DISPLAY")
    if not display:
        return "DISPLAY is not set"
    if not _x_server_reachable(display):
        return f"cannot reach the X display {display}"
    return None


def check_display() -> None:
    """Fail with a one-line hint, before any slow work, when no window can open here."""
    problem = display_problem()
    if problem:
        raise RealtimeError(f"no display to open a window on ({problem}); {NO_WINDOW_HINT}")


def _x_server_reachable(display: str) -> bool:
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    if host in ("", "unix"):
        return Path(f"/tmp/.X11-unix/X{number}").exists() or _connects(("localhost", 6000 + int(number)))
    return _connects((host, 6000 + int(number)))


def _connects(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1.0):
            return True
    except OSError:
        return False


class Window:
    """A bare, auto-sized window (no Qt toolbar) that shows RGB frames."""

    def __init__(self, title: str = WINDOW_TITLE) -> None:
        check_display()
        if "QT_QPA_FONTDIR" not in os.environ:
            font_dir = next((d for d in _FONT_DIRS if Path(d).is_dir()), None)
            if font_dir:
                os.environ["QT_QPA_FONTDIR"] = font_dir
        self.title = title
        self._bgr: np.ndarray | None = None
        self._shown = False

    def show(self, frame: np.ndarray) -> None:
        """Show an RGB frame; the window opens with the first one, already at its size."""
        if not self._shown:
            try:
                cv2.namedWindow(self.title, cv2.WINDOW_GUI_NORMAL | cv2.WINDOW_AUTOSIZE)
            except cv2.error as exc:
                raise RealtimeError(f"cannot open a window ({exc.msg.strip() or exc}); {NO_WINDOW_HINT}") from None
        if self._bgr is None or self._bgr.shape != frame.shape:
            self._bgr = np.empty_like(frame)
        cv2.cvtColor(frame, cv2.COLOR_RGB2BGR, dst=self._bgr)
        cv2.imshow(self.title, self._bgr)
        self._shown = True

    def key(self, wait_ms: int = 1) -> int | None:
        """The key pressed within `wait_ms` (also lets the window repaint), None if none."""
        if not self._shown:
            return None
        code = cv2.waitKeyEx(max(1, wait_ms))
        return None if code == -1 else code

    def closed(self) -> bool:
        """True once the user closed the window with its close button."""
        return self._shown and cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1

    def close(self) -> None:
        if not self._shown:
            return
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:
            pass  # already gone with its close button
