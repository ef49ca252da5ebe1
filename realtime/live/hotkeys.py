"""Hotkeys: what each key in the live window does, and the table `h` and `--help` show.

Free of heavy imports, so the command line can print the table without loading PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from realtime.live.settings import MORPH_SECONDS

if TYPE_CHECKING:
    from realtime.live.window import Window


class Action(Enum):
    NEXT = "next style"
    PREVIOUS = "previous style"
    MORPH = "morph to the next style"
    STRENGTH_UP = "strength up"
    STRENGTH_DOWN = "strength down"
    STROKE_UP = "larger brush strokes"
    STROKE_DOWN = "smaller brush strokes"
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
    ("> / <", "brush strokes larger / smaller"),
    ("] / [", "working size up / down"),
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
    **{code: Action.STROKE_UP for code in (ord("."), ord(">"))},
    **{code: Action.STROKE_DOWN for code in (ord(","), ord("<"))},
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


def window_actions(window: Window, wait_ms: int) -> list[Action | Pick]:
    """The action of the key pressed within `wait_ms` (if bound), and quit once the window was closed."""
    code = window.key(wait_ms)
    action = action_for_key(code) if code is not None else None
    actions = [] if action is None else [action]
    if window.closed():
        actions.append(Action.QUIT)
    return actions


def hotkey_help() -> str:
    """The hotkey table as text, for `--help`."""
    return "\n".join(f"  {keys:<10} {text}" for keys, text in HOTKEYS)
