"""How a style is named on the command line and told apart on disk: torch-free, so parsers can use it."""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from realtime.errors import RealtimeError

DEFAULT_STYLE_SIZE = 512


def number_suffix(
    text: str, separator: str, what: str, requirement: str, ok: Callable[[float], bool], unit: str = ""
) -> tuple[str, float | None]:
    """`head<separator>number[unit]` → (head, number); (text, None) when there is no numeric suffix.

    Arguments end in optional numbers (`a.jpg:0.7`, `candy@4.5s`), but paths may contain the separators
    too, so a suffix that is not a number stays part of the text. A number that is not finite or not
    `ok` is an error: "<what> must be <requirement>".
    """
    head, sep, tail = text.rpartition(separator)
    if not (sep and head):
        return text, None
    try:
        value = float(tail.removesuffix(unit) if unit else tail)
    except ValueError:
        return text, None
    if not (math.isfinite(value) and ok(value)):
        raise RealtimeError(f"{what} must be {requirement}, got '{tail}' in '{text}'")
    return head, value


@dataclass(frozen=True)
class StyleSpec:
    """One `--style` argument: a built-in name, an image path or `sample:NAME`, with a blend weight."""

    source: str
    weight: float = 1.0

    @classmethod
    def parse(cls, text: str) -> StyleSpec:
        """`NAME|PATH[:WEIGHT]`; a suffix that is not a number stays part of the path."""
        if not text:
            raise RealtimeError("empty --style value")
        source, weight = number_suffix(text, ":", "style weight", "a positive number", lambda w: w > 0)
        return cls(source) if weight is None else cls(source, weight)

    @classmethod
    def parse_all(cls, specs: Iterable[StyleSpec | str]) -> list[StyleSpec]:
        """Specs as given, with any text among them parsed: what the APIs that take styles accept."""
        return [spec if isinstance(spec, StyleSpec) else cls.parse(spec) for spec in specs]


def file_stamp(path: str | Path) -> tuple[int, int] | None:
    """Modification time and size of a regular file, None for anything else (a name, a folder, nothing).

    Cheap enough to check on every use, so an edited style image is noticed while an unchanged one is
    never read twice.
    """
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_mtime_ns, info.st_size) if stat.S_ISREG(info.st_mode) else None
