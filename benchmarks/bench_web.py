"""The exported site's speed in a real browser, next to the Python runtimes on the same machine, and its size.

Headless Chromium (Debian's package, driven by Playwright) opens the site with its fake camera playing a 320×240
photo, the working size pinned (`?size=`), and counts the frames the page paints over `--seconds` after a
warm-up. Two hosts in the same run:
- a plain static server (no cross-origin isolation, as most hosts serve it): WASM runs on one thread;
- `realtime serve --client-side`'s server (COOP/COEP headers): WASM runs on up to 4 threads.
The references are the same generator in Python on this CPU: onnxruntime (the same graph file, 1 thread and
all cores) and the desktop's CPU runtime (OpenVINO). A screenshot of each page goes to `--shots`.

    python benchmarks/bench_web.py                                 # WASM, light model, 320×240
    python benchmarks/bench_web.py --webgpu --size 640             # on a machine with a GPU: WebGPU too

WebGPU needs a GPU Chromium can use (`--webgpu` starts it with --enable-unsafe-webgpu on Linux).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gzip
import http.server
import shutil
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime
import torch
from bench_live import hardware
from playwright.sync_api import sync_playwright

from realtime.imaging.images import sample_image
from realtime.runtimes.stylizer import Stylizer
from realtime.serving.settings import ServeOptions
from realtime.serving.site import SiteServer
from realtime.web.site import export_site, site_weights

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FRAMES_JS = "() => Number(document.getElementById('output').dataset.frames || 0)"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def plain_host(folder: Path) -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/"


def isolated_host(folder: Path) -> str:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    server = SiteServer(folder, ServeOptions(port=0))
    return asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)


def camera_clip(path: Path, height: int, width: int) -> Path:
    frame = cv2.resize(sample_image("astronaut"), (width, height), interpolation=cv2.INTER_AREA)
    planes = cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(30):
            out.write(b"FRAME\n" + planes)
    return path


def page_fps(
    url: str, clip: Path, backend: str, size: int | None, seconds: float, shot: Path, webgpu: bool
) -> tuple[float, str, str]:
    """Frames the page paints per second, its backend and its working size; `size` None lets the page adapt it
    (measured after it has had `seconds` to settle)."""
    flags = ["--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    flags += [f"--use-file-for-fake-video-capture={clip}"]
    flags += ["--enable-unsafe-webgpu", "--enable-features=Vulkan"] if webgpu else ["--disable-gpu"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.set_default_timeout(120_000)
            pinned = f"&size={size}" if size else ""
            page.goto(f"{url}{'&' if '?' in url else '?'}backend={backend}{pinned}")
            page.wait_for_function(f"() => document.body.dataset.state === 'running' && ({FRAMES_JS})() > 10")
            if size is None:
                time.sleep(seconds)
            start, begun = page.evaluate(FRAMES_JS), time.perf_counter()
            time.sleep(seconds)
            fps = (page.evaluate(FRAMES_JS) - start) / (time.perf_counter() - begun)
            page.screenshot(path=str(shot))
            return fps, page.text_content("#backend"), page.text_content("#size")
        finally:
            browser.close()


def python_fps(weights, graph: bytes, size: tuple[int, int], seconds: float) -> dict[str, float]:
    """Frames per second of the same generator in Python: onnxruntime on the site's own graph, and OpenVINO."""
    frame = cv2.resize(sample_image("astronaut"), size[::-1], interpolation=cv2.INTER_AREA)
    rgba = np.concatenate([frame, np.full((*size, 1), 255, np.uint8)], axis=-1)[None]
    target = weights.bank[weights.bank.names()[0]].numpy()[None]
    feeds = {"rgba": rgba, "target": target, "strength": np.ones(1, np.float32), "keep_colors": np.zeros(1, np.float32)}
    results = {}
    for threads in (1, torch.get_num_threads()):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(graph, options)
        results[f"onnxruntime, {threads} thread(s)"] = _rate(lambda s=session: s.run(None, feeds), seconds)
    stylizer = Stylizer(weights, "cpu")
    look = stylizer.look([weights.bank.names()[0]])
    results[stylizer.runtime] = _rate(lambda: stylizer.stylize_frames(frame[None], look), seconds)
    return results


def _rate(call, seconds: float) -> float:
    for _ in range(5):
        call()
    count, begun = 0, time.perf_counter()
    while time.perf_counter() - begun < seconds:
        call()
        count += 1
    return count / (time.perf_counter() - begun)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="shipped model (default: the site's, fast else light)")
    parser.add_argument("--size", type=int, default=320, help="working size, the long side (default 320)")
    parser.add_argument("--seconds", type=float, default=15.0, help="frames are counted this long (default 15)")
    parser.add_argument("--webgpu", action="store_true", help="measure the WebGPU backend too (needs a GPU)")
    parser.add_argument("--shots", default="bench-web-shots", help="folder for the pages' screenshots")
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit("bench_web: no chromium (apt-get install chromium)")
    height, width = args.size * 3 // 4, args.size
    shots = Path(args.shots)
    shots.mkdir(exist_ok=True)
    weights = site_weights(None, args.model)
    name = Path(weights.source).stem
    with tempfile.TemporaryDirectory() as folder:
        report = export_site(weights, Path(folder) / "site")
        transfer = sum(len(gzip.compress(p.read_bytes(), 9)) for p in report.path.rglob("*") if p.is_file())
        print(f"# {name} at {width}×{height} · {hardware(torch.device('cpu'))} · Chromium, headless")
        print(f"site: {report.total / 1e6:.1f} MB on disk, {transfer / 1e6:.1f} MB gzip-compressed over the wire")
        for part, size in report.sizes.items():
            print(f"  {part:16s} {size / 1e6:6.2f} MB")
        clip = camera_clip(Path(folder) / "camera.y4m", height, width)
        print("| path | working size | fps |\n|---|---|---|")
        graph = (report.path / "model" / "generator.onnx").read_bytes()
        for label, fps in python_fps(weights, graph, (height, width), args.seconds).items():
            print(f"| Python reference: {label} | {width}×{height} | {fps:.1f} |", flush=True)
        hosts = [("plain static host", plain_host(report.path)), ("serve --client-side", isolated_host(report.path))]
        backends = ["wasm", "webgpu"] if args.webgpu else ["wasm"]
        for host, url in hosts:
            for backend in backends:
                for size in (args.size, None):
                    shot = shots / f"{backend}-{host.split()[0]}-{size or 'adaptive'}.png"
                    fps, described, shown = page_fps(url, clip, backend, size, args.seconds, shot, args.webgpu)
                    how = "pinned" if size else "adapted"
                    print(f"| page on a {host}: {described} | {shown} ({how}) | {fps:.1f} |", flush=True)
    print(f"screenshots: {shots}/")


if __name__ == "__main__":
    main()
