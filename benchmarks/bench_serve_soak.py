"""`realtime serve` under churn and abuse: does it give back what every visitor took?

The server runs as users run it (`python -m realtime serve`, its own process); this script is its visitors:
- calls: aiortc clients that connect, get frames back and hang up, one after another;
- half-open offers: an offer posted by a peer that never completes ICE (each holds a place until the
  server's connect timeout frees it), a place-full of them at a time;
- hostile requests: another site's uploads, chunked offers past the cap, JSON nested 100,000 deep, header
  bytes that are not text, a PNG claiming more pixels than the cap;
- uploads: 16 MP PNGs (the largest a whole-decoding format may be) posted several at once, while the
  server's resident memory is sampled, for the memory an upload costs at its worst.
The server process's resident memory, threads and open files are read from /proc (Linux) after a warm-up
and after each phase, once every place is free again.

    python benchmarks/bench_serve_soak.py                   # 50 calls, 10 half-open offers, 8 uploads
    python benchmarks/bench_serve_soak.py --calls 200
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import torch
from aiortc import RTCPeerConnection
from bench_live import hardware
from bench_serve import Viewer
from PIL import Image

from realtime.imaging.images import sample_image
from realtime.serving.settings import CONNECT_SECONDS, MAX_UPLOAD_PIXELS


def process_numbers(pid: int) -> dict[str, float]:
    """Resident memory (MB), threads and open file descriptors of process `pid`."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {
        "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
        "threads": int(status["Threads"]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


class ServerProcess:
    """`realtime serve` in a child process; its address from the line it prints."""

    def __init__(self, max_clients: int, weights: str | None) -> None:
        command = [sys.executable, "-m", "realtime", "serve", "--port", "0", "--device", "cpu", "--model", "light"]
        command += ["--max-clients", str(max_clients), *(["--weights", weights] if weights else [])]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise SystemExit("the server did not start")
        self.port = urlsplit(self.url).port

    def viewers(self) -> int:
        with urllib.request.urlopen(self.url + "api/status", timeout=30) as response:
            return json.loads(response.read())["viewers"]

    def wait_free(self, timeout: float) -> float:
        """Seconds until no viewer holds a place (or SystemExit after `timeout`)."""
        began = time.monotonic()
        while self.viewers():
            if time.monotonic() - began > timeout:
                raise SystemExit(f"places still held after {timeout:.0f} s")
            time.sleep(0.1)
        return time.monotonic() - began

    def request(self, method: str, path: str, body: bytes, headers: dict, chunked: bool = False) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.putrequest(method, path)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.putheader("Transfer-Encoding", "chunked") if chunked else conn.putheader("Content-Length", len(body))
            conn.endheaders()
            try:
                if chunked:
                    for at in range(0, len(body), 65536):
                        conn.send(b"%x\r\n%s\r\n" % (len(body[at : at + 65536]), body[at : at + 65536]))
                    conn.send(b"0\r\n\r\n")
                else:
                    conn.send(body)
            except OSError:
                pass  # the server answered and closed before the body was all sent
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)


async def call(url: str, picture: np.ndarray, frames: int) -> None:
    viewer = Viewer(url, picture)
    await viewer.connect()
    while viewer.received < frames:
        await asyncio.sleep(0.02)
    await viewer.pc.close()


async def half_open_offer(url: str) -> int:
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    body = json.dumps({"sdp": pc.localDescription.sdp, "type": "offer"}).encode()
    await pc.close()
    request = urllib.request.Request(url + "offer", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def hostile(server: ServerProcess) -> list[int]:
    """Statuses of one round of hostile requests; none may be a 5xx."""
    json_type = {"Content-Type": "application/json"}
    claims = io.BytesIO()
    Image.new("RGB", (8, 8)).save(claims, "PNG")
    png = bytearray(claims.getvalue())
    png[16:24] = (5000).to_bytes(4, "big") + (4000).to_bytes(4, "big")  # IHDR now claims 20 MP
    png[29:33] = zlib.crc32(bytes(png[12:29])).to_bytes(4, "big")
    return [
        server.request(
            "POST", "/api/styles", claims.getvalue(), {"Origin": "http://evil.example", "Content-Type": "image/png"}
        ),
        server.request("POST", "/offer", b'{"sdp": "' + b"a" * 400_000 + b'"}', json_type, chunked=True),
        server.request("POST", "/offer", b"[" * 100_000 + b"]" * 100_000, json_type),
        server.request("GET", "/api/status", b"", {"Authorization": b"Bearer \xff\xfe"}),
        server.request("POST", "/api/styles", bytes(png), {"Content-Type": "image/png"}),
    ]


def uploads(server: ServerProcess, count: int, at_once: int) -> tuple[float, list[int]]:
    """Peak resident memory (MB) while `count` 16 MP PNGs are posted `at_once` at a time, and their statuses."""
    side = int(MAX_UPLOAD_PIXELS**0.5)
    buffer = io.BytesIO()
    Image.fromarray(sample_image("astronaut")).resize((side, side)).save(buffer, "PNG", compress_level=1)
    body, peak, done = buffer.getvalue(), [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process_numbers(server.process.pid)["rss_mb"])
            time.sleep(0.02)

    def post() -> int:
        request = urllib.request.Request(server.url + "api/styles?name=big", body, {"Content-Type": "image/png"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    statuses: list[int] = []
    with ThreadPoolExecutor(at_once) as pool:
        for _ in range(0, count, at_once):
            statuses += pool.map(lambda _: post(), range(at_once))
    done.set()
    sampler.join()
    return peak[0], statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=50, help="connect / get frames / hang up cycles")
    parser.add_argument("--half-open", type=int, default=10, help="offers from peers that never connect")
    parser.add_argument("--hostile", type=int, default=20, help="rounds of hostile requests")
    parser.add_argument("--uploads", type=int, default=8, help="16 MP PNG uploads, 4 at a time")
    parser.add_argument("--max-clients", type=int, default=2)
    parser.add_argument("--weights", help="weights file (default: the shipped light model)")
    args = parser.parse_args()
    print(
        f"# {hardware(torch.device('cpu'))}; server: realtime serve --device cpu --model light --max-clients {args.max_clients}"
    )
    picture = np.asarray(Image.fromarray(sample_image("astronaut")).resize((320, 240)))
    server = ServerProcess(args.max_clients, args.weights)
    rows: list[tuple[str, dict[str, float], str]] = []
    try:
        for _ in range(3):  # warm-up: the codecs, the runtime's first shapes, the pools' threads
            asyncio.run(call(server.url, picture, 3))
        server.wait_free(30)
        rows.append(("after 3 warm-up calls", process_numbers(server.process.pid), ""))

        began = time.monotonic()
        for _ in range(args.calls):
            asyncio.run(call(server.url, picture, 3))
        freed = server.wait_free(30)
        seconds = time.monotonic() - began
        rows.append(
            (
                f"after {args.calls} more calls",
                process_numbers(server.process.pid),
                f"{seconds:.0f} s; last freed {freed:.1f} s after hang-up",
            )
        )

        held = []
        for _ in range(0, args.half_open, args.max_clients):
            statuses = [asyncio.run(half_open_offer(server.url)) for _ in range(args.max_clients)]
            assert statuses == [200] * args.max_clients, statuses
            held.append(server.wait_free(CONNECT_SECONDS + 30))
        note = f"each place freed {min(held):.1f}–{max(held):.1f} s after the offer (connect timeout {CONNECT_SECONDS:g} s)"
        rows.append((f"after {args.half_open} half-open offers", process_numbers(server.process.pid), note))

        statuses = [status for _ in range(args.hostile) for status in hostile(server)]
        assert max(statuses) < 500, statuses
        kinds = ", ".join(f"{s}×{statuses.count(s)}" for s in sorted(set(statuses)))
        rows.append((f"after {args.hostile} rounds of hostile requests", process_numbers(server.process.pid), kinds))

        peak, statuses = uploads(server, args.uploads, 4)
        kinds = ", ".join(f"{s}×{statuses.count(s)}" for s in sorted(set(statuses)))
        before = rows[-1][1]["rss_mb"]
        rows.append(
            (
                f"after {args.uploads} 16 MP PNG uploads, 4 at once",
                process_numbers(server.process.pid),
                f"{kinds}; peak {peak:.0f} MB (+{peak - before:.0f})",
            )
        )

        asyncio.run(call(server.url, picture, 3))  # and it still serves
        server.wait_free(30)
    finally:
        server.stop()
    print("| after | RSS MB | threads | fds | notes |")
    print("|---|---|---|---|---|")
    for name, numbers, note in rows:
        print(f"| {name} | {numbers['rss_mb']:.0f} | {numbers['threads']} | {numbers['fds']} | {note} |")


if __name__ == "__main__":
    main()
