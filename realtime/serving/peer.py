"""One viewer: its peer connection, its settings and style, its control channel, its stylised track."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable

import numpy as np
import torch
from aiortc import MediaStreamTrack, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.imaging.palette import Palette
from realtime.live.settings import MORPH_SECONDS
from realtime.runtimes.look import Look
from realtime.runtimes.strokes import effective_stroke
from realtime.serving import compose
from realtime.serving.controls import ViewerSettings, parse_message
from realtime.serving.gallery import Gallery
from realtime.serving.generator import Job, SharedGenerator
from realtime.serving.settings import CONNECT_SECONDS, QUIET_SECONDS
from realtime.serving.track import StylizedTrack

STATS_SECONDS = 1.0  # how often the page hears its numbers
WATCH_SECONDS = 0.5  # how often a viewer's call is checked for a connection and for camera frames


class Viewer:
    """A browser (or any WebRTC client) watching its own camera stylised.

    Closing is idempotent and frees everything the viewer holds: the peer connection, the outgoing track,
    its tasks; `on_closed(viewer)` then tells the registry. A viewer closes itself when its call is not
    connected `connect_seconds` after the answer, or its camera sends nothing for `quiet_seconds`: a client
    that never completes ICE, or vanishes without a word, would otherwise hold its place for minutes.
    """

    def __init__(
        self,
        gallery: Gallery,
        generator: SharedGenerator,
        settings: ViewerSettings,
        on_closed: Callable[[Viewer], None],
        connect_seconds: float = CONNECT_SECONDS,
        quiet_seconds: float = QUIET_SECONDS,
    ) -> None:
        self.gallery = gallery
        self.generator = generator
        self.settings = settings
        self.connect_seconds = connect_seconds
        self.quiet_seconds = quiet_seconds
        self.pc = RTCPeerConnection()
        self.track: StylizedTrack | None = None
        self.channel: RTCDataChannel | None = None
        self.closed = asyncio.Event()
        self._on_closed = on_closed
        self._target: Tensor | None = None
        self._palette: Palette | None = None
        # (the target and palette morphed from, start time)
        self._morph: tuple[Tensor, Palette | None, float] | None = None
        self._style_requests = 0
        self._style_name = ""
        self._camera_side = 0  # the camera frames' long side, once one has come: it caps the working size
        self._tasks: list[asyncio.Task] = []
        self.pc.on("track", self._on_track)
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("connectionstatechange", self._on_state)

    async def answer(self, offer: RTCSessionDescription, changes: dict[str, object]) -> RTCSessionDescription:
        """Apply the offer's settings, take the offer, and return the answer (ICE candidates included)."""
        await self.change(changes)
        await self.pc.setRemoteDescription(offer)
        if self.track is None:
            raise RealtimeError("the offer has no video track: send the camera (sendrecv video)")
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self._tasks += [asyncio.ensure_future(self._send_stats()), asyncio.ensure_future(self._watch())]
        return self.pc.localDescription

    async def change(self, changes: dict[str, object]) -> None:
        """Apply `{"style", "morph", "strength", ...}`: checked first, so a bad message changes nothing.

        A style may take a moment to load (a painting's first use); settings changed meanwhile are kept, and a
        style picked meanwhile wins over this one.
        """
        others = {k: v for k, v in changes.items() if k not in ("style", "morph")}
        style = self.gallery.find(str(changes["style"])) if "style" in changes else None
        ViewerSettings(**self.settings.as_json()).apply(others)  # raises before anything changes
        target = None
        if style is not None or self._target is None:
            self._style_requests += 1
            request = self._style_requests
            style = style or self.gallery.find(self.settings.style)
            target = await self.gallery.target(style)
            palette = self.gallery.palette(style)
            if request != self._style_requests:
                target = None  # a newer pick is on its way
        settings = ViewerSettings(**self.settings.as_json())
        settings.apply(others)
        if target is not None:
            morph = changes.get("morph") is True and self._target is not None
            self._morph = (*self._current_style(), time.perf_counter()) if morph else None
            self._target, self._palette, settings.style, self._style_name = target, palette, style.id, style.name
        self.settings = settings
        if self.track is not None:
            self.track.poke()

    async def render(self, image: np.ndarray) -> np.ndarray:
        """The camera frame as this viewer sees it: mirrored, at its working size, stylised, compared."""
        s = self.settings
        self._camera_side = max(image.shape[:2])
        loop = asyncio.get_running_loop()
        work = await loop.run_in_executor(None, compose.prepare, image, s.size, s.mirror)
        try:
            target, palette = self._current_style()
            look = Look(target, palette, s.strength, s.stroke, s.preserve_color)
            out = await self.generator.stylize(Job(work, look))
        except Exception as exc:  # noqa: BLE001 - the generator failed this frame (out of memory…): say so, keep going
            self.send({"error": f"the generator failed: {exc}"})
            out = work
        if self._morph is not None and self.track is not None:
            self.track.poke()  # a morph moves on every frame, also while paused
        return compose.compare(work, out) if s.compare else out

    def send(self, message: dict[str, object]) -> None:
        channel = self.channel
        if channel is not None and channel.readyState == "open":
            channel.send(json.dumps(message))

    def state(self) -> dict[str, object]:
        """The settings, and the stroke the working size actually paints (a small picture paints larger)."""
        s = self.settings
        side = min(s.size, self._camera_side or s.size)
        painted = round(effective_stroke(side, side, s.stroke), 2)
        return {**s.as_json(), "style_name": self._style_name, "painted_stroke": painted}

    async def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for task in self._tasks:
            if task is not asyncio.current_task():  # the watch closes its own viewer
                task.cancel()
        if self.track is not None:
            self.track.stop()
        with contextlib.suppress(Exception):  # a connection half set up may fail to close: it is gone either way
            await self.pc.close()
        self._on_closed(self)

    def _current_style(self) -> tuple[Tensor, Palette | None]:
        """The target and palette this frame is painted with: the style's own, or a morph's blend."""
        if self._morph is None:
            return self._target, self._palette
        start_target, start_palette, began = self._morph
        t = (time.perf_counter() - began) / MORPH_SECONDS
        if t >= 1.0:
            self._morph = None
            return self._target, self._palette
        return torch.lerp(start_target, self._target, t), Palette.lerp(start_palette, self._palette, t)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind != "video" or self.track is not None:
            return
        self.track = StylizedTrack(track, self.render, paused=lambda: self.settings.paused)
        self.pc.addTrack(self.track)

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        self.channel = channel
        channel.on("message", lambda text: asyncio.ensure_future(self._on_message(text)))
        self.send({"state": self.state()})

    async def _on_message(self, text: str | bytes) -> None:
        try:
            message = parse_message(text)
            if "ping" in message:
                self.send({"pong": message["ping"]})
            if "set" in message:
                await self.change(message["set"])
                self.send({"state": self.state()})
        except RealtimeError as exc:
            self.send({"error": str(exc)})

    async def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            await self.close()

    async def _watch(self) -> None:
        answered = time.perf_counter()
        connected: float | None = None
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            now = time.perf_counter()
            if self.pc.connectionState == "connected":
                connected = connected or now
                heard = max(connected, self.track.last_received if self.track is not None else connected)
                if now - heard > self.quiet_seconds:
                    break
            elif now - answered > self.connect_seconds:
                break
        await self.close()

    async def _send_stats(self) -> None:
        while True:
            await asyncio.sleep(STATS_SECONDS)
            track = self.track
            if track is not None:
                self.send({"stats": {"fps": track.fps, "server_ms": track.latency_ms, "dropped": track.dropped}})
