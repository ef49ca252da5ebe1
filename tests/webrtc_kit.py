"""A `realtime serve` server on a thread of its own, and a Python WebRTC client for it: no browser needed.

The client sends frames (a list, looped, at a steady rate) over a real peer connection on loopback and
keeps what comes back; tests poll its numbers with generous timeouts, never sleep-and-hope.
"""

from __future__ import annotations

import asyncio
import fractions
import json
import threading
import time
import urllib.request
from collections.abc import Sequence

import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame
from browser_kit import TIMEOUT, wait_for


class ServerThread:
    """A StyleServer on a background event loop, listening on an ephemeral port of 127.0.0.1."""

    def __init__(self, stylizer: object, **options: object) -> None:
        from realtime.serving.server import StyleServer  # here: a client alone (in a subprocess) needs no PyTorch
        from realtime.serving.settings import ServeOptions

        self.server = StyleServer(stylizer, ServeOptions(**{"port": 0, **options}))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test server", daemon=True)
        self.thread.start()
        self.url = self.call(self.server.start())

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/"

    def call(self, coroutine, timeout: float = TIMEOUT):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def status(self) -> dict:
        return get_json(self.base + "api/status", self.server.options.token)

    def close(self) -> None:
        try:
            self.call(self.server.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


def get_json(url: str, token: str | None = None) -> object:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return json.loads(response.read())


def post(url: str, body: bytes, token: str | None = None, content_type: str = "application/json") -> tuple[int, dict]:
    """POST `body`; (status, JSON reply) for successes and HTTP errors alike."""
    headers = {"Content-Type": content_type, **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


class FrameTrack(MediaStreamTrack):
    """Sends `frames` (H×W×3 uint8 RGB) in a loop at `fps`; `frames` may be swapped while running."""

    kind = "video"

    def __init__(self, frames: Sequence[np.ndarray], fps: float = 15.0) -> None:
        super().__init__()
        self.frames = list(frames)
        self.fps = fps
        self.sent = 0
        self.sent_at: dict[int, float] = {}
        self._start: float | None = None

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":  # stopped: the camera was switched off
            raise MediaStreamError
        if self._start is None:
            self._start = time.perf_counter()
        due = self._start + self.sent / self.fps
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        frame = VideoFrame.from_ndarray(self.frames[self.sent % len(self.frames)], format="rgb24")
        frame.pts, frame.time_base = self.sent, fractions.Fraction(1, round(self.fps))
        self.sent_at[self.sent] = time.perf_counter()
        self.sent += 1
        return frame


class Client:
    """A WebRTC client of the server on its own thread and loop: sends frames, keeps the frames that return."""

    def __init__(self, url: str, frames: Sequence[np.ndarray], fps: float = 15.0, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self.track = FrameTrack(frames, fps)
        self.received: list[tuple[float, np.ndarray]] = []
        self.messages: list[dict] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test client", daemon=True)
        self.thread.start()
        self.pc: RTCPeerConnection | None = None
        self.channel = None
        self.answer_status: int | None = None
        self.answer: dict | None = None

    def _run(self, coroutine, timeout: float = TIMEOUT):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def connect(self, settings: dict | None = None) -> int:
        """Offer, post it, apply the answer; returns the HTTP status of the offer (200 when connected)."""
        return self._run(self._connect(settings))

    async def _connect(self, settings: dict | None) -> int:
        self.pc = pc = RTCPeerConnection()
        pc.addTransceiver(self.track, direction="sendrecv")
        self.channel = pc.createDataChannel("control")
        self.channel.on("message", lambda text: self.messages.append(json.loads(text)))
        pc.on("track", lambda track: asyncio.ensure_future(self._keep(track)))
        await pc.setLocalDescription(await pc.createOffer())
        body = {"sdp": pc.localDescription.sdp, "type": "offer", **({"settings": settings} if settings else {})}
        loop = asyncio.get_running_loop()
        status, answer = await loop.run_in_executor(
            None, post, self.url + "offer", json.dumps(body).encode(), self.token
        )
        self.answer_status, self.answer = status, answer
        if status == 200:
            await pc.setRemoteDescription(RTCSessionDescription(**answer))
        return status

    async def _keep(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                self.received.append((time.perf_counter(), frame.to_ndarray(format="rgb24")))
        except MediaStreamError:
            pass

    def set(self, **changes: object) -> None:
        """Send a settings change on the data channel (once it is open)."""
        wait_for(lambda: self.channel is not None and self.channel.readyState == "open", what="the data channel")
        self.loop.call_soon_threadsafe(self.channel.send, json.dumps({"set": changes}))

    def frames_after(self, count: int, timeout: float = TIMEOUT) -> np.ndarray:
        """Wait until `count` more frames came back; returns the newest."""
        start = len(self.received)
        wait_for(lambda: len(self.received) >= start + count, timeout, f"{count} stylised frames")
        return self.received[-1][1]

    def state(self) -> dict | None:
        states = [m["state"] for m in self.messages if "state" in m]
        return states[-1] if states else None

    def close(self) -> None:
        if self.pc is not None:
            self._run(self.pc.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
