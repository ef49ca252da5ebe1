"""End-to-end `realtime video` speed: frames per second and where the time goes, 720p and 1080p.

Each clip (a panned photo at 30 fps with an AAC track) is stylised twice in the same run:
- reference: one thread, decode → generator → encode one frame after another;
- pipelined: `realtime.video.stylize.stylize_video` (decode thread, batched generator, encode thread).
Stage columns are busy time as a share of wall time; in the pipelined run stages overlap, so they can
add up to more than 100 % and the busiest stage is the bottleneck.

    python benchmarks/bench_video.py --ngf 32 --frames 30          # CPU, a narrow untrained model
    python benchmarks/bench_video.py --io-only --frames 90         # no generator: the I/O ceiling
    python benchmarks/bench_video.py --weights weights/msgnet21-light.safetensors --style candy --frames 60 --compile
    python benchmarks/bench_video.py --device cuda --frames 300    # GPU, the full-width model
    python benchmarks/bench_video.py --weights W.safetensors --style candy --device cuda
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import torch

from realtime.device import resolve_device
from realtime.imaging.images import read_image
from realtime.model.style_spec import StyleSpec
from realtime.model.weights import load_weights, untrained_weights
from realtime.runtimes.cuda import FastSettings
from realtime.runtimes.look import Look
from realtime.runtimes.stylizer import Stylizer
from realtime.video.reader import VideoReader
from realtime.video.schedule import StyleSchedule
from realtime.video.settings import TimedStyle, VideoSettings
from realtime.video.stylize import stylize_video
from realtime.video.writer import VideoWriter

FPS = 30
AUDIO_RATE = 48000
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


class PassThrough(Stylizer):
    """A generator that returns its input: what decode, encode and the pipeline cost on their own."""

    def stylize_tensor(self, content: torch.Tensor, look: Look | None = None) -> torch.Tensor:
        return content

    def stylize_frames(self, frames: np.ndarray, look: Look | None = None) -> np.ndarray:
        return frames  # the CPU runtime's path never reaches stylize_tensor


def make_clip(path: Path, width: int, height: int, frames: int, source: str, keyframe_every: int = 0) -> Path:
    """A photo panned 2 px a frame, H.264 at 30 fps, with a stereo AAC tone as long as the video; a keyframe
    every `keyframe_every` frames (0: where x264 likes, at most every 250)."""
    image = read_image(source)
    scale = max((width + 2 * frames + 2) / image.shape[1], height / image.shape[0])
    image = cv2.resize(image, (math.ceil(image.shape[1] * scale), math.ceil(image.shape[0] * scale)))
    with av.open(str(path), "w") as out:
        options = {"preset": "veryfast", "crf": "20"}
        if keyframe_every:
            options |= {"g": str(keyframe_every), "sc_threshold": "0"}
        video = out.add_stream("libx264", rate=FPS, options=options)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream("aac", rate=AUDIO_RATE)
        sound.layout = "stereo"
        for t in range(frames):
            window = np.ascontiguousarray(image[:height, 2 * t : 2 * t + width])
            frame = av.VideoFrame.from_ndarray(window, format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        samples = round(AUDIO_RATE * frames / FPS)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / AUDIO_RATE)).astype(np.float32)
        chunk = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
        chunk.sample_rate, chunk.pts = AUDIO_RATE, 0
        out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))
    return path


def sequential(clip: Path, output: Path, stylizer: Stylizer) -> tuple[int, float, dict[str, float]]:
    """The reference: no overlap, one frame at a time."""
    busy = {"decode": 0.0, "generator": 0.0, "stabilize": 0.0, "encode": 0.0}
    began = time.perf_counter()
    with (
        VideoReader(clip) as reader,
        av.open(str(clip)) as audio,
        VideoWriter(output, reader.fps, audio_from=audio) as writer,
    ):
        frames = iter(reader)
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            t1 = time.perf_counter()
            busy["decode"] += t1 - t0
            if frame is None:
                break
            styled = stylizer(frame.image)
            t2 = time.perf_counter()
            writer.write(styled, frame.time)
            busy["generator"] += t2 - t1
            busy["encode"] += time.perf_counter() - t2
        count = writer.frames_written
    return count, time.perf_counter() - began, busy


def row(name: str, path: str, batch: int, frames: int, seconds: float, busy: dict[str, float]) -> str:
    fps = frames / seconds
    shares = " | ".join(f"{100 * busy[k] / seconds:.1f} %" for k in ("decode", "generator", "stabilize", "encode"))
    return f"| {name} | {path} | {batch} | {fps:.3g} | {fps / FPS:.3g}× | {shares} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="trained weights file (default: an untrained generator of width --ngf)")
    parser.add_argument(
        "--ngf", type=int, default=128, help="width of the untrained generator (default 128, the full model)"
    )
    parser.add_argument(
        "--style", default="sample:chelsea", help="built-in style name or style image (default sample:chelsea)"
    )
    parser.add_argument("--image", default="sample:astronaut")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--frames", type=int, default=30, help="frames per clip (default 30 = 1 s)")
    parser.add_argument(
        "--batch", type=int, nargs="+", default=None, help="pipelined batch sizes (default 4 on CUDA, 1 on CPU)"
    )
    parser.add_argument("--stabilize", type=float, default=0.0, help="also stabilise in the pipelined runs")
    parser.add_argument("--no-reference", action="store_true", help="skip the sequential reference run")
    parser.add_argument("--io-only", action="store_true", help="skip the generator: the decode/encode ceiling")
    parser.add_argument(
        "--compile", action="store_true", help="time `realtime video --compile`: the generator compiled per size first"
    )
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    device = resolve_device(args.device)
    weights = load_weights(args.weights) if args.weights else untrained_weights(ngf=args.ngf)
    label = args.weights or f"untrained MSG-Net ngf={args.ngf} (random weights: speed only)"
    if args.io_only:
        label = "none (--io-only: frames pass through untouched; decode + encode + pipeline only)"
    optimize = FastSettings.compiled_for(device) if args.compile else None
    stylizer = (PassThrough if args.io_only else Stylizer)(weights, device, optimize=optimize)
    stylizer.set_style([args.style])
    schedule = StyleSchedule([TimedStyle(StyleSpec(args.style))], stylizer.styles.blend)
    batches = args.batch or [4 if device.type == "cuda" else 1]
    hardware = (
        torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} torch threads"
    )

    path = f"; compiled: {optimize.describe()}" if optimize else ""
    print(f"model: {label}; device {device} ({hardware}){path}; {args.frames} frames per clip at {FPS} fps")
    print()
    print("| clip | path | batch | fps | × real time | decode | generator | stabilize | encode |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.sizes:
            width, height = SIZES[name]
            clip = make_clip(Path(folder) / f"{name}.mp4", width, height, args.frames, args.image)
            stylizer(np.zeros((height, width, 3), np.uint8))  # warm-up: kernels, allocator, cuDNN choice, --compile
            if not args.no_reference:
                frames, seconds, busy = sequential(clip, Path(folder) / "ref.mp4", stylizer)
                print(row(name, "reference (sequential)", 1, frames, seconds, busy), flush=True)
            for batch in batches:
                result = stylize_video(
                    clip,
                    Path(folder) / "out.mp4",
                    stylizer,
                    schedule,
                    VideoSettings(batch=batch, stabilize=args.stabilize),
                    progress=False,
                )
                print(row(name, "pipelined", batch, result.frames, result.seconds, result.stages), flush=True)


if __name__ == "__main__":
    main()
