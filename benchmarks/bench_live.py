"""The live loop on a 30 fps video source: end-to-end fps, generator ms and capture → display latency.

Both paths stylise the same 720p footage (the built-in sample footage, encoded to a file that plays
at its own frame rate, like a camera), measured in the same run after a warm-up:
- reference: the plain `read → stylise → show` loop over a camera: frames wait in the driver's
  4 buffers (OpenCV's V4L2 default; newer frames are dropped while they are full) and are read
  oldest first; each is stylised with `Stylizer.__call__` (host resize, pageable copies) and
  upscaled back to the display size on the host;
- live: `realtime.live.session.LiveSession` headless (newest frame only; on CUDA resize and compose on the
  GPU with pinned buffers and non-blocking copies, on a CPU resize as bytes with OpenCV).
Latency is from the moment the source delivered a frame to the moment its stylised frame is ready
to show. A loop that cannot keep up shows it here: with driver buffers the picture is several
generator calls old; with the newest frame it is about one generator call old.

    python benchmarks/bench_live.py                                   # CPU, full-width untrained model
    python benchmarks/bench_live.py --ngf 32 --size 320 --frames 40   # CPU, a narrower model
    python benchmarks/bench_live.py --device cuda --frames 300        # H100: 720p must keep up with 30 fps
"""

from __future__ import annotations

import argparse
import platform
import queue
import statistics
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from realtime.device import resolve_device
from realtime.imaging.frames import fit_long_side, fit_size
from realtime.live.catalog import StyleCatalog
from realtime.live.session import LiveSession
from realtime.live.settings import LiveOptions, default_working_size
from realtime.live.stats import LoopStats
from realtime.model.msgnet import MSGNet
from realtime.model.style_spec import StyleSpec
from realtime.model.weights import Weights, load_weights
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.capture import VideoCaptureSource
from realtime.sources.sample import SampleSource
from realtime.video.writer import VideoWriter

FPS = 30.0
DRIVER_BUFFERS = 4
STYLE = "sample:coffee"


def make_clip(path: Path, width: int, height: int, seconds: float) -> Path:
    footage = SampleSource((width, height), FPS)
    with VideoWriter(path, FPS) as writer:
        for i in range(round(seconds * FPS)):
            writer.write(footage.frame_at(i / FPS))
    return path


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    name = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return f"{name}, {torch.get_num_threads()} torch threads"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_reference(stylizer: Stylizer, clip: Path, working_size: int, warmup: int, frames: int) -> dict[str, float]:
    """Frames read oldest first from a camera-like 4-buffer queue, stylised on the host path."""
    capture = cv2.VideoCapture(str(clip))
    fifo: queue.Queue[tuple[np.ndarray, float]] = queue.Queue(maxsize=DRIVER_BUFFERS)
    stop = threading.Event()
    dropped = [0]

    def produce() -> None:
        start, index = time.perf_counter(), 0
        while not stop.is_set():
            ok, bgr = capture.read()
            if not ok:
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                continue
            delay = start + index / FPS - time.perf_counter()
            if delay > 0 and stop.wait(delay):
                return
            try:
                fifo.put_nowait((cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), time.perf_counter()))
            except queue.Full:
                dropped[0] += 1
            index += 1

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    latencies, generator, stamps = [], [], []
    try:
        for i in range(warmup + frames):
            if i == warmup:
                dropped[0] = 0
            frame, captured = fifo.get()
            display = fit_size(*frame.shape[:2], 1280)
            work = fit_long_side(frame, working_size)
            start = time.perf_counter()
            out = stylizer(work)
            _sync(stylizer.device)
            gen_ms = (time.perf_counter() - start) * 1000
            cv2.resize(out, (display[1], display[0]), interpolation=cv2.INTER_LINEAR)
            if i >= warmup:
                now = time.perf_counter()
                latencies.append((now - captured) * 1000)
                generator.append(gen_ms)
                stamps.append(now)
    finally:
        stop.set()
        thread.join()
        capture.release()
    return _row(latencies, generator, stamps, dropped[0])


def run_live(stylizer: Stylizer, clip: Path, working_size: int, warmup: int, frames: int) -> dict[str, float]:
    source = VideoCaptureSource(str(clip))
    catalog = StyleCatalog([], None, [StyleSpec(STYLE)])
    session = LiveSession(stylizer, source, catalog, LiveOptions(working_size=working_size))
    try:
        for entry in catalog.entries:  # let background style loading finish before timing
            session.switcher.loader.get(entry, wait=True)
        while session.stats.frames < warmup:
            session.step()
        session.stats = LoopStats()
        dropped_before = source.dropped
        while session.stats.frames < frames:
            session.step()
        stats = session.stats
        row = _row(list(stats.latencies), list(stats.generator_times), None, source.dropped - dropped_before)
        row["fps"] = stats.mean_fps
        return row
    finally:
        session.close()


def _row(latencies: list[float], generator: list[float], stamps: list[float] | None, dropped: int) -> dict[str, float]:
    fps = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if stamps and len(stamps) > 1 else 0.0
    ordered = sorted(latencies)
    return {
        "fps": fps,
        "generator_ms": statistics.mean(generator),
        "latency_ms": statistics.mean(latencies),
        "latency_p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "dropped": dropped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--size", type=int, help="working size, long side (default: the app's default for the device)")
    parser.add_argument("--source-size", default="1280x720", help="source frame size WxH (default 1280x720)")
    parser.add_argument("--frames", type=int, help="measured frames per path (default 300 on CUDA, 20 on CPU)")
    parser.add_argument("--warmup", type=int, help="frames before measuring (default 30 on CUDA, 3 on CPU)")
    parser.add_argument("--weights", help="weights file (default: an untrained generator of --ngf width)")
    parser.add_argument(
        "--ngf", type=int, default=128, help="generator width when no --weights (default 128, the real one)"
    )
    args = parser.parse_args()

    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    frames = args.frames or (300 if cuda else 20)
    warmup = args.warmup if args.warmup is not None else (30 if cuda else 3)
    width, height = (int(v) for v in args.source_size.lower().split("x"))
    if args.weights:
        weights = load_weights(args.weights)
    else:
        torch.manual_seed(0)
        weights = Weights(MSGNet(ngf=args.ngf), source=f"untrained ngf={args.ngf}")
    stylizer = Stylizer(weights, device)
    stylizer.set_style([STYLE])
    working_size = args.size or default_working_size(device.type, stylizer.model.shape)
    work_h, work_w = fit_size(height, width, working_size)

    with tempfile.TemporaryDirectory() as tmp:
        seconds = max(5.0, (warmup + frames) / FPS if cuda else 5.0)
        clip = make_clip(Path(tmp) / "source.mp4", width, height, seconds)
        print(f"hardware: {hardware(device)}")
        print(
            f"model: {weights.source}; source {width}x{height} at {FPS:g} fps; working size {work_w}x{work_h}; "
            f"{frames} frames measured after {warmup} warm-up"
        )
        rows = {
            "live (newest frame, device path)": run_live(stylizer, clip, working_size, warmup, frames),
            "reference (driver buffers, host)": run_reference(stylizer, clip, working_size, warmup, frames),
        }
    frame_ms = 1000.0 / FPS
    header = (
        f"{'path':<34} {'fps':>6} {'gen ms':>8} {'latency ms':>11} {'p95 ms':>9} {'latency/gen':>12} "
        f"{'frames late':>11} {'dropped':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, r in rows.items():
        print(
            f"{name:<34} {r['fps']:6.1f} {r['generator_ms']:8.1f} {r['latency_ms']:11.1f} {r['latency_p95_ms']:9.1f} "
            f"{r['latency_ms'] / r['generator_ms']:12.2f} {r['latency_ms'] / frame_ms:11.2f} {r['dropped']:8d}"
        )
    print("latency/gen: how many generator calls old the shown picture is (independent of machine speed)")
    live = rows["live (newest frame, device path)"]
    keeps_up = live["fps"] >= FPS * 0.97 and live["latency_ms"] <= 1.5 * frame_ms
    print(f"live keeps up with a {FPS:g} fps source with <= 1.5 frames latency: {'yes' if keeps_up else 'no'}")


if __name__ == "__main__":
    main()
