"""The viewers connected now: taking offers up to `--max-clients`, forgetting those that leave, closing all at the end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from aiortc import RTCSessionDescription

from realtime.serving.bodies import Refused
from realtime.serving.controls import ViewerSettings, check_changes
from realtime.serving.gallery import Gallery
from realtime.serving.generator import SharedGenerator
from realtime.serving.peer import Viewer
from realtime.serving.settings import CONNECT_SECONDS, QUIET_SECONDS


class Busy(Refused):
    """Every place is taken (HTTP 503)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 503)


class Viewers:
    """At most `max_clients` viewers; a slot is taken before the first await, so two offers cannot both get the last."""

    def __init__(
        self,
        gallery: Gallery,
        generator: SharedGenerator,
        max_clients: int,
        working_size: int,
        timeouts: tuple[float, float] = (CONNECT_SECONDS, QUIET_SECONDS),
    ) -> None:
        self.gallery = gallery
        self.generator = generator
        self.max_clients = max_clients
        self.working_size = working_size
        self.timeouts = timeouts  # (connect, quiet) seconds: see `Viewer`
        self._viewers: set[Viewer] = set()

    def __len__(self) -> int:
        return len(self._viewers)

    def __iter__(self) -> Iterator[Viewer]:
        return iter(list(self._viewers))  # a copy: viewers may leave meanwhile

    async def connect(self, offer: RTCSessionDescription, changes: object = None) -> RTCSessionDescription:
        """A new viewer for `offer`; returns the answer. `Busy` when full, `RealtimeError` for a bad offer."""
        if len(self._viewers) >= self.max_clients:
            raise Busy(
                f"busy: {self.max_clients} viewer{'s' if self.max_clients != 1 else ''} connected, "
                "the most this server takes; try again later"
            )
        changes = dict(check_changes(changes if changes is not None else {}))
        settings = ViewerSettings(self.gallery.styles[0].id, self.working_size, self.working_size)
        viewer = Viewer(self.gallery, self.generator, settings, self._viewers.discard, *self.timeouts)
        self._viewers.add(viewer)
        try:
            return await viewer.answer(offer, changes)
        except BaseException:
            await viewer.close()
            raise

    async def close_all(self) -> None:
        await asyncio.gather(*(viewer.close() for viewer in self), return_exceptions=True)
