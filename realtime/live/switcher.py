"""Switching styles in the live loop: which style is selected, which is in use, and the way between.

A selected style applies once its target is ready (the loader computes it off the display thread),
either at once or as a morph over a second; a style that cannot be used is reported and skipped in
the direction of travel, and the styles folder is re-read on every switch so new paintings appear.
A painting shown with its encoder target while its fitted target is computed takes the fitted one
when it arrives, if it is still the style in use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.imaging.palette import Palette
from realtime.live.catalog import StyleCatalog, StyleEntry, TargetLoader
from realtime.live.messages import Messages
from realtime.live.settings import MORPH_SECONDS
from realtime.model.style_spec import StyleSpec
from realtime.runtimes.look import Look
from realtime.runtimes.settings import DEFAULT_STROKE
from realtime.runtimes.stylizer import Stylizer


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
    """A blend from the `start` target and palette to the `end` ones over the morph's seconds, counted from
    `started` (its first frame)."""

    start: Tensor
    end: Tensor
    entry: StyleEntry
    palettes: tuple[Palette | None, Palette | None]
    started: float | None = None


class StyleSwitcher:
    """Owns the current look (`realtime.runtimes.look`): the selection index, the style applied, the one
    pending, the morph, and the strength, stroke and colour mode the hotkeys change. `look` is a frozen
    value replaced whole, so whoever paints with it (the keyframe thread) holds one consistent look.

    `wait=True` (offline) applies a selected style as soon as it is selected, waiting for its target
    (the fitted one, when styles are refined); live, the loop calls `update()` every turn and the style
    applies once its target is ready. The first style is loaded before the constructor returns, and a
    failure there is an error.
    """

    def __init__(
        self,
        stylizer: Stylizer,
        catalog: StyleCatalog,
        messages: Messages,
        *,
        wait: bool = False,
        morph_seconds: float = MORPH_SECONDS,
        strength: float = 1.0,
        stroke: float = DEFAULT_STROKE,
        preserve_color: bool = False,
        palette: bool = True,
    ) -> None:
        self.stylizer = stylizer
        self._finish = {"strength": strength, "stroke": stroke, "preserve_color": preserve_color}
        self._palette = palette  # paintings recoloured to their palettes
        self.look: Look | None = None
        self.catalog = catalog
        self.messages = messages
        self.wait = wait
        self.morph_seconds = morph_seconds
        self.index = catalog.start_index
        self.applied = catalog[self.index]
        self._pending: _Pending | None = None
        self._failures: dict[tuple[StyleSpec, ...], str] = {}  # styles that failed, and why: reported once
        self._morph: _Morph | None = None
        self.preview: np.ndarray | None = None  # the thumbnail of the style last selected
        self._fitting: StyleEntry | None = None  # the style in use while its fitted target is computed
        self.loader = TargetLoader(stylizer.styles)
        try:
            loaded = self.loader.get(self.applied, wait=True, final=wait)
            if loaded is None or loaded.error:
                raise RealtimeError(loaded.error if loaded else "closed while loading the first style")
            self._show(loaded.target, loaded.palette)
            self.preview = loaded.preview
            self._fitting = None if loaded.final else self.applied
            self.loader.prefetch(catalog.entries[self.index + 1 :] + catalog.entries[: self.index])
        except BaseException:
            self.loader.close()
            raise

    @property
    def loading(self) -> bool:
        """Whether a selected style is still waiting for its target."""
        return self._pending is not None

    @property
    def morphing(self) -> bool:
        return self._morph is not None

    @property
    def label(self) -> str:
        """The selected style as the HUD names it: its place in the list and its name."""
        text = f"{self.index + 1}/{len(self.catalog)} {self.catalog[self.index].name}"
        if self._morph is not None:
            return text + "  (morphing)"
        return text + "  (fitting to the painting)" if self._fitting is not None else text

    def pick(self, index: int) -> None:
        """Select the style at `index` (0-based); one past the end of the list is reported."""
        self._rescan()
        if index < len(self.catalog):
            self._select(index)
        else:
            self.messages.post(f"no style {index + 1}: the list has {len(self.catalog)}")

    def step(self, direction: int, morph: bool = False) -> None:
        """Select the next (+1) or previous (-1) style, skipping styles that fail; `morph` blends into it."""
        self._rescan()
        self._select(self.index + direction, morph=morph, step=direction)

    def update(self) -> bool:
        """Apply the selected style once its target exists; True when the picture changes because of it."""
        changed = self._take_fitted()
        while self._pending is not None:
            pending = self._pending
            loaded = self.loader.get(pending.entry, wait=self.wait, final=self.wait)
            if loaded is None:
                return changed
            self._pending = None
            if loaded.error or loaded.target is None:
                self._failed(pending, loaded.error or f"cannot use style {pending.entry.name}")
                continue
            self._failures.pop(pending.entry.specs, None)  # fixed since: a new failure is news again
            self.preview = loaded.preview
            self._fitting = None if loaded.final else pending.entry
            if pending.morph:
                palettes = (self.look.palette, loaded.palette)
                self._morph = _Morph(self.look.target, loaded.target, pending.entry, palettes)
            else:
                self._show(loaded.target, loaded.palette)
                self.applied = pending.entry
            changed = True
        return changed

    def _take_fitted(self) -> bool:
        """Swap in the fitted target of the style in use once it is ready (after any morph into it)."""
        entry = self._fitting
        if entry is None or self._morph is not None or self._pending is not None:
            return False
        loaded = self.loader.get(entry)
        if loaded is None or not loaded.final:
            return False
        self._fitting = None
        if loaded.fit_error:
            self.messages.post(loaded.fit_error)
            return False
        if entry != self.applied or loaded.target is None:
            return False
        self._show(loaded.target, loaded.palette)
        self.messages.post(f"{entry.name}: fitted to the painting")
        return True

    def advance(self, now: float) -> None:
        """Move a running morph to time `now` (its clock starts with the first call)."""
        morph = self._morph
        if morph is None:
            return
        if morph.started is None:
            morph.started = now
        progress = (now - morph.started) / self.morph_seconds
        if progress >= 1.0:
            self._show(morph.end, morph.palettes[1])
            self.applied = morph.entry
            self._morph = None
        else:
            self._show(torch.lerp(morph.start, morph.end, progress), Palette.lerp(*morph.palettes, progress))

    def close(self) -> None:
        self.loader.close()

    def adjust(self, **changes: object) -> Look:
        """Change the look's strength, stroke or colour mode (checked first); returns the new look."""
        self.look = self.look.with_changes(**changes)
        self._finish.update(changes)
        return self.look

    def _show(self, target: Tensor, palette: Palette | None) -> None:
        self.look = Look(target, palette if self._palette else None, **self._finish)

    def _rescan(self) -> None:
        if self.catalog.folder is None:
            return
        selected = self.catalog[min(self.index, len(self.catalog) - 1)]
        try:
            new = self.catalog.scan()
        except RealtimeError as exc:  # the folder was removed or renamed: keep switching between the styles known
            self.messages.post(str(exc))
            return
        if new:
            self.messages.post(f"{new} new style{'s' if new > 1 else ''} in {self.catalog.folder}")
        entries = self.catalog.entries
        self.index = entries.index(selected) if selected in entries else min(self.index, len(entries) - 1)
        self.loader.prefetch(entries)

    def _select(self, index: int, morph: bool = False, step: int = 0) -> None:
        index %= len(self.catalog)
        self.index = index
        self._pending = _Pending(self.catalog[index], morph, step)
        if not morph:
            self._morph = None
        self.update()

    def _failed(self, pending: _Pending, error: str) -> None:
        """Report a style that cannot be used and move on past it in the direction of travel, so one bad
        image does not wall off the styles after it; a pick (or a list where nothing else works) returns
        to the style in use. Next/previous skip a style that failed before without repeating its message."""
        if not pending.step or self._failures.get(pending.entry.specs) != error:
            self.messages.post(error)
        self._failures[pending.entry.specs] = error
        entries = self.catalog.entries
        if pending.step and pending.entry in entries and pending.tried < len(entries):
            index = (entries.index(pending.entry) + pending.step) % len(entries)
            if entries[index] != self.applied:
                self.index = index
                self._pending = _Pending(entries[index], pending.morph, pending.step, pending.tried + 1)
                return
        self.index = entries.index(self.applied) if self.applied in entries else 0
