"""The styles a live session steps through, and their targets computed off the display thread.

The list is the built-in bank plus every image in a styles folder (re-read on request, so paintings
dropped into the folder appear without a restart). Targets for images are computed once, on a
worker thread, so switching to a new painting never freezes the picture; built-ins are a lookup.
With refinement on, a painting's encoder target comes first and its fitted target follows, so a new
painting shows at once and sharpens into its own style once fitted (tens of seconds on a CPU).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_long_side
from realtime.imaging.images import IMAGE_SUFFIXES, SAMPLE_PREFIX, SAMPLES, read_image
from realtime.imaging.palette import Palette
from realtime.model.style_spec import StyleSpec, file_stamp
from realtime.model.targets import StyleTargets
from realtime.runtimes.tracing import GATE

PREVIEW_SIDE = 112


@dataclass(frozen=True)
class StyleEntry:
    """One switchable style: the name the HUD shows and the specs the stylizer blends."""

    name: str
    specs: tuple[StyleSpec, ...]
    builtin: bool = False

    @property
    def preview_source(self) -> str | None:
        """The picture to show as a thumbnail: the first style image in the blend, if any."""
        for spec in self.specs:
            if spec.source.startswith(SAMPLE_PREFIX) or Path(spec.source).is_file():
                return spec.source
        return None


def _entry_name(specs: Sequence[StyleSpec]) -> str:
    def label(spec: StyleSpec) -> str:
        if spec.source.startswith(SAMPLE_PREFIX):
            return spec.source
        return Path(spec.source).stem if Path(spec.source).suffix else spec.source

    if len(specs) == 1:
        return label(specs[0])
    total = sum(s.weight for s in specs)
    return " + ".join(f"{label(s)} {round(100 * s.weight / total)}%" for s in specs)


class StyleCatalog:
    """Ordered styles: a starting blend (when it is not already in the list), built-ins, then folder images.

    With no built-ins and no images in the folder, scikit-image's sample photos stand in, so there is always
    something to switch between.
    """

    def __init__(
        self, builtins: Sequence[str], folder: str | Path | None = None, start: Sequence[StyleSpec] = ()
    ) -> None:
        self.folder = Path(folder) if folder is not None else None
        if self.folder is not None and not self.folder.is_dir():
            raise RealtimeError(f"styles folder not found: {self.folder}")
        self._builtins = [StyleEntry(name, (StyleSpec(name),), builtin=True) for name in builtins]
        self._images: list[StyleEntry] = []
        self._extra: list[StyleEntry] = []
        self._scanned = False
        self.uses_samples = False
        self.scan()
        self.start_index = 0
        if start:
            self.start_index = self._find_or_insert(tuple(start), builtins)

    @property
    def entries(self) -> list[StyleEntry]:
        return self._extra + self._builtins + self._images

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> StyleEntry:
        return self.entries[index]

    def index(self, entry: StyleEntry) -> int:
        return self.entries.index(entry)

    def scan(self) -> int:
        """Re-read the styles folder; returns how many images are new since the last scan.

        A folder that cannot be read (removed, renamed) raises `RealtimeError` and keeps the styles known so far.
        """
        before = {e.specs for e in self._images}
        images: list[StyleEntry] = []
        if self.folder is not None:
            try:
                paths = sorted(
                    (
                        p
                        for p in self.folder.iterdir()
                        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
                    ),
                    key=lambda p: p.name.lower(),
                )
            except OSError as exc:
                raise RealtimeError(f"cannot read styles folder {self.folder}: {exc.strerror}") from None
            images = [StyleEntry(p.stem, (StyleSpec(str(p)),)) for p in paths if p.is_file()]
        self.uses_samples = not images and not self._builtins
        if self.uses_samples:
            images = [StyleEntry(f"{SAMPLE_PREFIX}{n}", (StyleSpec(f"{SAMPLE_PREFIX}{n}"),)) for n in SAMPLES]
        new = sum(e.specs not in before for e in images) if self._scanned else 0
        self._scanned = True
        self._images = images
        return new

    def _find_or_insert(self, specs: tuple[StyleSpec, ...], builtins: Sequence[str]) -> int:
        if len(specs) == 1 and specs[0].weight == 1.0:
            wanted = specs[0].source
            for i, entry in enumerate(self.entries):
                source = entry.specs[0].source
                same_name = entry.builtin and source.lower() == wanted.lower()
                same_file = not entry.builtin and _same_path(source, wanted)
                if len(entry.specs) == 1 and (same_name or same_file):
                    return i
        lowered = {b.lower() for b in builtins}
        self._extra = [StyleEntry(_entry_name(specs), specs, builtin=all(s.source.lower() in lowered for s in specs))]
        return 0


def _same_path(a: str, b: str) -> bool:
    if a.startswith(SAMPLE_PREFIX) or b.startswith(SAMPLE_PREFIX):
        return a == b
    pa, pb = Path(a), Path(b)
    return pa.exists() and pb.exists() and pa.resolve() == pb.resolve()


@dataclass(frozen=True)
class LoadedStyle:
    """A style ready to use (target on the generator's device, optional thumbnail) or why it is not.

    `final` is False for an encoder target whose fitted one is still to come; `fit_error` says why a
    fit failed, when the encoder's target is kept instead. `palette`: a style picture's colours.
    """

    target: Tensor | None
    preview: np.ndarray | None
    error: str | None = None
    final: bool = True
    fit_error: str | None = None
    palette: Palette | None = None


class TargetLoader:
    """Computes targets and thumbnails off the live loop, which asks without waiting.

    Encodes run on one worker thread; urgent requests (the style a user just picked) jump the queue of
    background prefetches. With a refiner, the styles a user picks are fitted on a second thread, latest
    pick first, so a painting picked while another is being fitted still shows at once. The encode thread
    asks `StyleTargets` for encoder targets only and the fit thread for fitted ones: their cache entries
    never overlap, so it needs no lock.
    """

    def __init__(self, styles: StyleTargets) -> None:
        self._styles = styles
        self._cond = threading.Condition()
        self._queue: deque[StyleEntry] = deque()
        self._busy: set[tuple[StyleSpec, ...]] = set()  # being encoded now
        self._fits: list[StyleEntry] = []  # picked styles shown with their encoder target, waiting to be fitted
        self._fitting: set[tuple[StyleSpec, ...]] = set()  # in `_fits` or being fitted now
        self._done: dict[tuple[StyleSpec, ...], LoadedStyle] = {}
        self._failed_files: dict[tuple[StyleSpec, ...], tuple[tuple[int, int] | None, ...]] = {}
        self._closed = False
        self._threads = [
            threading.Thread(target=self._encode_work, name="style targets", daemon=True),
            threading.Thread(target=self._fit_work, name="style fits", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def request(self, entry: StyleEntry, urgent: bool = False) -> None:
        if entry.builtin:
            return  # a bank lookup: nothing to compute ahead
        with self._cond:
            if self._known(entry) or entry.specs in self._busy or self._closed:
                return
            if entry in self._queue:
                if not urgent:
                    return
                self._queue.remove(entry)
            (self._queue.appendleft if urgent else self._queue.append)(entry)
            self._cond.notify_all()

    def prefetch(self, entries: Sequence[StyleEntry]) -> None:
        """Encode ahead (fitting waits until a style is picked: it costs seconds per painting)."""
        for entry in entries:
            self.request(entry)

    def get(self, entry: StyleEntry, wait: bool = False, final: bool = False) -> LoadedStyle | None:
        """The loaded style, or None while it is still being computed (`wait=True` blocks until there is one;
        with `final` too, until the fitted target replaces the encoder's). Asking for a style picks it: its
        fit, if it needs one, starts next."""
        if entry.builtin:
            return self._builtin(entry)
        with self._cond:
            if not self._known(entry):
                self.request(entry, urgent=True)
            self._pick(entry)
            if wait:
                self._cond.wait_for(lambda: self._ready(entry, final) or self._closed)
            return self._done.get(entry.specs)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._fits.clear()
            self._cond.notify_all()
        encoder, fitter = self._threads
        encoder.join(timeout=10.0)
        # A fit takes tens of seconds and cannot stop midway: quitting does not wait for it. Its cache file
        # is written whole or not at all, and the thread ends with the process.
        fitter.join(timeout=0.5)

    def _known(self, entry: StyleEntry) -> bool:
        """Whether `entry` has a result; a failure is forgotten once its files change (a painting caught
        half-copied by a rescan loads once the copy completes). Call with the lock held."""
        failed = self._failed_files.get(entry.specs)
        if failed is not None and failed != _file_stamps(entry):
            del self._failed_files[entry.specs], self._done[entry.specs]
        return entry.specs in self._done

    def _ready(self, entry: StyleEntry, final: bool) -> bool:
        """Call with the lock held; queues the fit of an encoder target that has just arrived."""
        loaded = self._done.get(entry.specs)
        if loaded is not None and not loaded.final:
            self._pick(entry)
        return loaded is not None and (loaded.final or not final)

    def _pick(self, entry: StyleEntry) -> None:
        """Queue the fit of a picked style shown with its encoder target (latest pick first). Lock held."""
        loaded = self._done.get(entry.specs)
        if loaded is None or loaded.final or self._closed:
            return
        if entry.specs in self._fitting:
            if entry in self._fits:  # picked again: fit it next
                self._fits.remove(entry)
                self._fits.append(entry)
            return
        self._fitting.add(entry.specs)
        self._fits.append(entry)
        self._cond.notify_all()

    def _builtin(self, entry: StyleEntry) -> LoadedStyle:
        try:
            return LoadedStyle(self._styles.blend(list(entry.specs)), None)
        except RealtimeError as exc:
            return LoadedStyle(None, None, str(exc))

    def _encode_work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if self._closed:
                    return
                entry = self._queue.popleft()
                self._busy.add(entry.specs)
            stamps = _file_stamps(entry)  # taken first: a file changed while loading is tried again
            loaded = self._load(entry, refine=False)  # fitted, if at all, on the fit thread
            final = loaded.error is not None or self._styles.refiner is None
            self._store(entry, replace(loaded, final=final), stamps)

    def _fit_work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._fits or self._closed)
                if self._closed:
                    return
                entry = self._fits.pop()
            stamps = _file_stamps(entry)
            fitted = self._load(entry)
            with self._cond:
                self._fitting.discard(entry.specs)
                quick = self._done.get(entry.specs)
            if fitted.error and quick is not None:  # the encoder's target still works: keep it, say why
                fitted = replace(quick, final=True, fit_error=f"{fitted.error}; using its encoder target")
            self._store(entry, fitted, stamps)

    def _store(self, entry: StyleEntry, loaded: LoadedStyle, stamps: tuple[tuple[int, int] | None, ...]) -> None:
        with self._cond:
            self._busy.discard(entry.specs)
            self._done[entry.specs] = loaded
            if loaded.error:
                self._failed_files[entry.specs] = stamps
            else:
                self._failed_files.pop(entry.specs, None)
            self._cond.notify_all()

    def _load(self, entry: StyleEntry, refine: bool = True) -> LoadedStyle:
        try:
            with GATE.eager():  # the live loop may be compiling the generator meanwhile
                target = self._styles.blend(list(entry.specs), refine)
                palette = self._styles.blend_palette(list(entry.specs))
        except RealtimeError as exc:
            return LoadedStyle(None, None, str(exc))
        except Exception as exc:  # noqa: BLE001 - e.g. out of memory on a huge style image: report it, keep the loop alive
            return LoadedStyle(None, None, f"cannot use style {entry.name}: {exc}")
        return LoadedStyle(target, _preview(entry.preview_source), palette=palette)


def _file_stamps(entry: StyleEntry) -> tuple[tuple[int, int] | None, ...]:
    """The file stamp of each style in `entry` (None for built-ins, samples, missing files)."""
    return tuple(file_stamp(spec.source) for spec in entry.specs)


def _preview(source: str | None) -> np.ndarray | None:
    """A thumbnail for the HUD; a picture that fails to load just has none (its target loaded fine)."""
    if source is None:
        return None
    try:
        return fit_long_side(read_image(source, PREVIEW_SIDE), PREVIEW_SIDE)
    except RealtimeError:
        return None
