"""`realtime serve` with 1, 2 and 4 WebRTC clients: round-trip fps and latency per client.

Each client is a Python aiortc peer on loopback that sends a 30 fps camera-sized clip and keeps what comes
back. Every frame carries its number as a row of black and white blocks in its top-left corner, and the
clients ask for compare mode, whose left half is the camera picture: the number survives the generator and
both video codecs, so a returned frame is matched to the moment it was sent (true round trip: encode,
network, decode, resize, generator, encode back, decode). Two server paths in the same run:
- reference: one generator call per frame (the shared generator with batches of 1);
- shared: frames waiting from all clients go through the generator together (`realtime serve`'s default).
The server runs in this process (its own thread and event loop), the clients in a child process: they share
the machine's cores, as they would not in real use, so the server's own CPU time per returned frame is
measured too (what a machine that only serves would spend).

    python benchmarks/bench_serve.py                                        # CPU: 640×480, the light weights
    python benchmarks/bench_serve.py --device cuda --camera 1280x720        # GPU: the target is 4 × 30 fps
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import multiprocessing
import statistics
import threading
import time
import urllib.request
from multiprocessing.connection import Connection

import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame
from bench_live import hardware

from realtime.imaging.frames import resize_frame
from realtime.imaging.images import sample_image
from realtime.live.settings import default_working_size
from realtime.runtimes.look import Look
from realtime.runtimes.stylizer import Stylizer
from realtime.serving.server import StyleServer
from realtime.serving.settings import ServeOptions

FPS = 30
BITS = 12  # frame number modulo 4096, then 4 check bits
BLOCK = 16  # pixels per bit at 640 wide (scaled with the frame)


def mark(picture: np.ndarray, number: int) -> np.ndarray:
    """The picture with `number` written as blocks across its top-left corner."""
    frame = picture.copy()
    side = BLOCK * frame.shape[1] // 640
    value = (number % (1 << BITS)) | ((number * 7 % 16) << BITS)
    frame[: 3 * side, : (BITS + 6) * side] = 128
    for bit in range(BITS + 4):
        frame[side : 2 * side, (bit + 1) * side : (bit + 2) * side] = 255 if value >> bit & 1 else 0
    return frame


def read_mark(frame: np.ndarray) -> int | None:
    """The number `mark` wrote, or None when the blocks do not read back with a valid check."""
    side = BLOCK * frame.shape[1] / 640  # the frame may come back smaller than it was sent
    luma = frame.mean(axis=2)
    value = 0
    for bit in range(BITS + 4):
        y, x = int(1.5 * side), int((bit + 1.5) * side)
        if luma[y - 1 : y + 2, x - 1 : x + 2].mean() > 128:
            value |= 1 << bit
    number = value & ((1 << BITS) - 1)
    return number if value >> BITS == number * 7 % 16 else None


class Camera(MediaStreamTrack):
    """A 30 fps camera playing `picture` with its frame number marked; remembers when each was sent."""

    kind = "video"

    def __init__(self, picture: np.ndarray) -> None:
        super().__init__()
        self.picture = picture
        self.sent_at: dict[int, float] = {}
        self.count = 0
        self._start: float | None = None

    async def recv(self) -> VideoFrame:
        self._start = self._start or time.perf_counter()
        await asyncio.sleep(max(0.0, self._start + self.count / FPS - time.perf_counter()))
        frame = VideoFrame.from_ndarray(mark(self.picture, self.count), format="rgb24")
        frame.pts, frame.time_base = self.count, fractions.Fraction(1, FPS)
        self.sent_at[self.count % (1 << BITS)] = time.perf_counter()
        self.count += 1
        return frame


class Viewer:
    """One client: offers, sends the camera, reads the numbers of the frames that come back."""

    def __init__(self, url: str, picture: np.ndarray) -> None:
        self.url = url
        self.camera = Camera(picture)
        self.latencies: list[float] = []
        self.received = self.unreadable = 0
        self.pc = RTCPeerConnection()

    async def connect(self) -> None:
        self.pc.addTransceiver(self.camera, direction="sendrecv")
        self.pc.on("track", lambda track: asyncio.ensure_future(self._receive(track)))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        body = {"sdp": self.pc.localDescription.sdp, "type": "offer", "settings": {"compare": True}}
        answer = await asyncio.get_running_loop().run_in_executor(None, _post, self.url + "offer", body)
        await self.pc.setRemoteDescription(RTCSessionDescription(**answer))

    async def _receive(self, track: MediaStreamTrack) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await track.recv()
                now = time.perf_counter()
                number = await loop.run_in_executor(None, _number_in, frame)
                self.received += 1
                if number is None or number not in self.camera.sent_at:
                    self.unreadable += 1  # the codec mixed blocks of two frames (the check bits disagree)
                    continue
                self.latencies.append((now - self.camera.sent_at[number]) * 1000.0)
        except MediaStreamError:
            pass

    def reset(self) -> None:
        self.latencies, self.received, self.unreadable = [], 0, 0


def _number_in(frame: VideoFrame) -> int | None:
    return read_mark(frame.to_ndarray(format="rgb24"))


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


class Server:
    """The server on its own thread and event loop, as `realtime serve` runs it."""

    def __init__(self, stylizer: Stylizer, clients: int, batched: bool) -> None:
        self.server = StyleServer(stylizer, ServeOptions(port=0, max_clients=clients))
        if not batched:
            self.server.generator.max_batch = 1
        self.server.warm_up()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(60)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)


async def measure(
    url: str, picture: np.ndarray, clients: int, warm_up: float, seconds: float, window: Connection
) -> list[dict]:
    """Connect `clients`, let them settle, then measure for `seconds`, telling `window` when it opens and closes."""
    viewers = [Viewer(url, picture) for _ in range(clients)]
    for viewer in viewers:
        await viewer.connect()
    await asyncio.sleep(warm_up)  # connection set-up, the codecs' first key frames, the runtime's first shapes
    for viewer in viewers:
        viewer.reset()
    window.send("open")
    await asyncio.sleep(seconds)
    window.send("closed")
    results = [
        {
            "fps": v.received / seconds,
            "median_ms": statistics.median(v.latencies) if v.latencies else float("nan"),
            "p90_ms": float(np.percentile(v.latencies, 90)) if v.latencies else float("nan"),
            "unreadable": v.unreadable,
        }
        for v in viewers
    ]
    await asyncio.gather(*(v.pc.close() for v in viewers))
    return results


def clients_process(
    url: str, picture: np.ndarray, clients: int, warm_up: float, seconds: float, pipe: Connection
) -> None:
    """The clients, in a process of their own, so the server's own CPU time can be measured apart from theirs."""
    pipe.send(asyncio.run(measure(url, picture, clients, warm_up, seconds, pipe)))


def run(server: Server, picture: np.ndarray, clients: int, warm_up: float, seconds: float) -> tuple[list[dict], float]:
    """The clients' results, and the server process's CPU milliseconds per frame it returned in the window."""
    context = multiprocessing.get_context("spawn")
    pipe, child_pipe = context.Pipe()
    args = (server.server.url, picture, clients, warm_up, seconds, child_pipe)
    child = context.Process(target=clients_process, args=args, daemon=True)
    child.start()
    stats = server.server.generator.stats
    assert pipe.recv() == "open"
    cpu, frames = time.process_time(), stats.frames
    assert pipe.recv() == "closed"
    cpu, frames = time.process_time() - cpu, stats.frames - frames
    results = pipe.recv()
    child.join(60)
    return results, cpu * 1000.0 / max(frames, 1)


def costs(stylizer: Stylizer, picture: np.ndarray, working: tuple[int, int], frames: int = 60) -> str:
    """Milliseconds per frame of the round trip's heavy steps on this machine, one at a time: aiortc's VP8 encoder
    at the camera's size and at the working size, and the generator at the working size."""
    from aiortc.codecs.vpx import Vp8Encoder

    def encode_ms(size: tuple[int, int]) -> float:
        encoder, sized = Vp8Encoder(), resize_frame(picture, size)
        began = time.perf_counter()
        for i in range(frames):
            frame = VideoFrame.from_ndarray(mark(sized, i), format="rgb24")
            frame.pts, frame.time_base = i, fractions.Fraction(1, FPS)
            encoder.encode(frame)
        return (time.perf_counter() - began) * 1000.0 / frames

    small = resize_frame(picture, working)[None]
    look = Look(stylizer.styles.target(stylizer.weights.bank.names()[0])[None])  # as a viewer's job: no palette
    stylizer.stylize_frames(small, look)
    began = time.perf_counter()
    for _ in range(frames):
        stylizer.stylize_frames(small, look)
    generator = (time.perf_counter() - began) * 1000.0 / frames
    work = f"{working[1]}×{working[0]}"
    return (
        f"# per frame, alone: VP8 encode {encode_ms(picture.shape[:2]):.1f} ms at {picture.shape[1]}×{picture.shape[0]}, "
        f"{encode_ms(working):.1f} ms at {work}; generator {generator:.1f} ms at {work}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--camera", default=None, help="WxH the clients send (default 640x480 on a CPU, 1280x720 on CUDA)"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--weights", help="weights file (default: the shipped ones for the device)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured per run, after the warm-up")
    parser.add_argument("--warm-up", type=float, default=6.0)
    args = parser.parse_args()

    stylizer = Stylizer.load(args.weights, args.device)
    camera = args.camera or ("1280x720" if stylizer.device.type == "cuda" else "640x480")
    width, height = (int(v) for v in camera.split("x"))
    picture = resize_frame(sample_image("astronaut"), (height, width))
    print(
        f"# {hardware(stylizer.device)}, {stylizer.runtime}; camera {width}×{height} at {FPS} fps, "
        f"working size {default_working_size(stylizer.device.type)}; {args.seconds:g} s per run after {args.warm_up:g} s"
    )
    size = default_working_size(stylizer.device.type)
    print(costs(stylizer, picture, (height * size // width, size)))
    print(
        "| clients | server path | fps per client (mean, lowest) | round trip ms (median; p90 of the worst client) | "
        "mean batch | server CPU ms per frame | unreadable frames |"
    )
    print("|---|---|---|---|---|---|---|")
    for clients in args.clients:
        for batched in (False, True):
            server = Server(stylizer, clients, batched)
            try:
                results, server_ms = run(server, picture, clients, args.warm_up, args.seconds)
                stats = server.server.generator.stats
            finally:
                server.close()
            fps = [r["fps"] for r in results]
            median = statistics.median(r["median_ms"] for r in results)
            worst = max(r["p90_ms"] for r in results)
            path = "shared batches" if batched else "reference: one call per frame"
            print(
                f"| {clients} | {path} | {statistics.mean(fps):.1f}, {min(fps):.1f} | {median:.0f}; {worst:.0f} | "
                f"{stats.mean_batch:.2f} | {server_ms:.0f} | {sum(r['unreadable'] for r in results)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
