"""The styles the page offers: built-ins, the `--styles` folder, uploads; their targets and thumbnails.

Targets and thumbnails are computed once, on one worker thread (the only one that encodes styles, so
`StyleTargets`' cache needs no lock), and cached; the event loop awaits them without blocking. Encodes
pass `GATE`, since the shared generator may be compiling on its own thread meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import numpy as np
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_long_side
from realtime.imaging.images import SAMPLE_PREFIX, SAMPLES, image_files, read_image
from realtime.imaging.palette import Palette
from realtime.model.thumbnails import THUMBNAIL_SIDE, builtin_preview, thumbnail_jpeg
from realtime.runtimes.stylizer import Stylizer
from realtime.runtimes.tracing import GATE
from realtime.serving.settings import MAX_UPLOADS

T = TypeVar("T")


@dataclass(frozen=True)
class Style:
    """One entry of the gallery. `source` is a built-in name, an image path or `sample:NAME`; None for uploads."""

    id: str
    name: str
    kind: str  # "builtin", "folder", "sample" or "upload"
    source: str | None = None

    def as_json(self) -> dict[str, str]:
        thumbnail = f"/api/styles/{quote(self.id, safe='')}/thumbnail"
        return {"id": self.id, "name": self.name, "kind": self.kind, "thumbnail": thumbnail}


class Gallery:
    """Styles by id, in the order the page shows them (and the number keys pick them)."""

    def __init__(self, stylizer: Stylizer, folder: str | Path | None = None, max_uploads: int = MAX_UPLOADS) -> None:
        self._stylizer = stylizer
        self._max_uploads = max_uploads
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="style targets")
        self._fixed = [Style(name, name, "builtin", name) for name in stylizer.weights.bank.names()]
        if folder is not None:
            paths = image_files(folder, "styles")
            self._fixed += [Style(f"file{i}", p.stem, "folder", str(p)) for i, p in enumerate(paths)]
        if not self._fixed:
            self._fixed = [Style(name, name, "sample", f"{SAMPLE_PREFIX}{name}") for name in SAMPLES]
        self._uploads: OrderedDict[str, Style] = OrderedDict()
        self._pictures: dict[str, np.ndarray] = {}  # uploads' pixels, for their thumbnails
        self._targets: dict[str, Tensor] = {}
        self._palettes: dict[str, Palette | None] = {}
        self._thumbnails: dict[str, bytes] = {}
        self._numbers = itertools.count(1)

    @property
    def styles(self) -> list[Style]:
        return self._fixed + list(self._uploads.values())

    def find(self, key: str) -> Style:
        """A style by id, or by name (what a non-browser client may find easier to send)."""
        for style in self.styles:
            if key == style.id:
                return style
        for style in self.styles:
            if key.lower() == style.name.lower():
                return style
        raise RealtimeError(f"unknown style {key!r}")

    async def target(self, style: Style) -> Tensor:
        """The style's C×C target on the generator's device (computed once)."""
        if style.id not in self._targets:
            try:
                self._targets[style.id], self._palettes[style.id] = await self._run(self._encode, style)
            except RealtimeError:
                raise
            except Exception as exc:  # noqa: BLE001 - e.g. out of memory on a huge painting: one viewer's error
                raise RealtimeError(f"cannot use style {style.name}: {exc}") from None
        return self._targets[style.id]

    def palette(self, style: Style) -> Palette | None:
        """The palette of a style whose `target` has been computed (None for a built-in)."""
        return self._palettes.get(style.id)

    async def thumbnail(self, style: Style) -> bytes:
        """A JPEG for the gallery (computed once)."""
        if style.id not in self._thumbnails:
            self._thumbnails[style.id] = await self._run(self._thumbnail, style)
        return self._thumbnails[style.id]

    async def add_upload(self, picture: np.ndarray, name: str) -> Style:
        """A new style from an uploaded picture; its target is computed before it is listed."""
        style = Style(f"upload{next(self._numbers)}", name, "upload")
        self._pictures[style.id] = fit_long_side(picture, THUMBNAIL_SIDE * 2)
        try:
            self._targets[style.id] = await self._run(self._stylizer.styles.encode, picture)
            self._palettes[style.id] = Palette.of(picture)
        except BaseException:
            self._pictures.pop(style.id, None)
            raise
        self._uploads[style.id] = style
        while len(self._uploads) > self._max_uploads:
            old, _ = self._uploads.popitem(last=False)
            for cache in (self._pictures, self._targets, self._palettes, self._thumbnails):
                cache.pop(old, None)
        return style

    def close(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)

    async def _run(self, work, *args):
        def guarded():
            with GATE.eager():
                return work(*args)

        return await asyncio.get_running_loop().run_in_executor(self._worker, guarded)

    def _encode(self, style: Style) -> tuple[Tensor, Palette | None]:
        styles = self._stylizer.styles
        return styles.target(style.source), styles.palette(style.source)

    def _thumbnail(self, style: Style) -> bytes:
        if style.kind == "builtin":
            picture = builtin_preview(self._stylizer.model, self._stylizer.styles.target(style.source))
        elif style.kind == "upload":
            picture = self._pictures[style.id]
        else:
            picture = read_image(style.source, THUMBNAIL_SIDE)
        return thumbnail_jpeg(picture)
