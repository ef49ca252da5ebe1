"""Gatys mode: speed, quality against MSG-Net, the `--init msgnet` head start, and live fps during a snapshot.

Everything is measured in one run on one device, reference next to optimised:
- speed: seconds for `--steps` steps per size, full size only (levels 1) and coarse-to-fine (auto levels);
- quality: the Gatys objective's style / content / total loss of MSG-Net's output (reference) and of
  the Gatys render (optimised) for the same photo and painting, plus the style-distance ratio
  (style loss ÷ that of the unstylised photo; lower is more stylised);
- init: steps `--init content` needs to reach its final loss, and steps `--init msgnet` needs for the same;
- live: frames per second of the generator on a live-sized frame alone, and while a snapshot renders
  in the background (`realtime.live.gatys_worker`).

    python benchmarks/bench_gatys.py --sizes 256 --steps 100 --device cpu       # CPU, small
    python benchmarks/bench_gatys.py --sizes 512 1024 --steps 300 --device cuda  # GPU
MSG-Net is the shipped model for the device (light on a CPU, full on CUDA) unless `--weights` names one.
The loss network is torchvision's ImageNet VGG19, else VGG16 (downloaded once), unless `--vgg` names a
local features state dict, as `realtime gatys --vgg` takes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from realtime.device import resolve_device
from realtime.gatys.network import LossNetwork
from realtime.gatys.objective import LossTerms
from realtime.gatys.optimize import Gatys
from realtime.gatys.settings import GatysSettings
from realtime.imaging.frames import fit_long_side
from realtime.imaging.images import read_image
from realtime.live.gatys_worker import GatysSnapshotRenderer
from realtime.runtimes.stylizer import Stylizer

DEFAULT_STYLE = Path(__file__).resolve().parents[1] / "docs" / "example-painting.jpg"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_render(gatys: Gatys, content: np.ndarray, styles, init="content"):
    sync(gatys.device)
    start = time.perf_counter()
    result = gatys.render(content, styles, init)
    sync(gatys.device)
    return result, time.perf_counter() - start


def steps_to_reach(history: list[float], loss: float) -> int | None:
    return next((i + 1 for i, value in enumerate(history) if value <= loss), None)


def fmt(terms: LossTerms) -> str:
    return f"{terms.style:9.4f} {terms.content:9.4f} {terms.total:9.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", default="sample:chelsea")
    parser.add_argument("--style", default=str(DEFAULT_STYLE), help="a painting (default: docs/example-painting.jpg)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument(
        "--vgg", metavar="PATH", help="VGG16/VGG19 features state dict (default: torchvision's, downloaded once)"
    )
    parser.add_argument("--weights", help="MSG-Net weights (default: shipped, else the untrained placeholder)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--live-size", type=int, default=480, help="long side of the live frame for the fps rows")
    parser.add_argument("--live-seconds", type=float, default=5.0)
    parser.add_argument("--skip", nargs="*", default=[], choices=["speed", "quality", "init", "live"])
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    args = parser.parse_args()

    device = resolve_device(args.device)
    torch.manual_seed(0)
    network = LossNetwork.load(args.vgg)
    stylizer = Stylizer.load(args.weights, str(device))
    stylizer.set_style([args.style])
    photo = read_image(args.content)
    name = (
        "cuda: " + torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"cpu ({torch.get_num_threads()} threads)"
    )
    print(f"device {name}; loss network {network.describe()}; MSG-Net weights {stylizer.weights.source}")
    print(f"content {args.content}, style {Path(args.style).name}, {args.steps} steps per level\n")
    numbers: dict = {"device": name, "steps": args.steps, "sizes": {}}

    warm_up = Gatys(network, GatysSettings(size=64, steps=2, levels=1), device)
    warm_up.render(photo, warm_up.styles([args.style]))

    for size in args.sizes:
        flat = Gatys(network, GatysSettings(size=size, steps=args.steps, levels=1), device)
        styles = flat.styles([args.style])
        content = fit_long_side(photo, size)
        row: dict = {}
        numbers["sizes"][size] = row

        result, seconds = timed_render(flat, content, styles)
        row["flat"] = {"seconds": seconds, "loss": vars(result.loss)}
        if "speed" not in args.skip:
            print(f"## speed at {size} px ({content.shape[1]}×{content.shape[0]})")
            print(f"{'render':<28} {'seconds':>8} {'s/step':>8} {'total loss':>10}")
            print(
                f"{'full size only (levels 1)':<28} {seconds:8.2f} {seconds / args.steps:8.3f} {result.loss.total:10.4f}"
            )
            coarse = Gatys(network, GatysSettings(size=size, steps=args.steps), device)
            if len(coarse.level_sizes(content.shape[:2])) > 1:
                c2f, c2f_seconds = timed_render(coarse, content, styles)
                row["coarse_to_fine"] = {"seconds": c2f_seconds, "levels": len(c2f.history), "loss": vars(c2f.loss)}
                label = f"coarse-to-fine ({len(c2f.history)} levels)"
                print(f"{label:<28} {c2f_seconds:8.2f} {c2f_seconds / c2f.steps:8.3f} {c2f.loss.total:10.4f}")
            print()

        msgnet = stylizer(content)
        if "quality" not in args.skip:
            photo_terms = flat.evaluate(content, content, styles)
            msgnet_terms = flat.evaluate(msgnet, content, styles)
            print(f"## quality at {size} px (Gatys objective; style ratio = style loss ÷ the photo's)")
            print(f"{'image':<26} {'style':>9} {'content':>9} {'total':>9} {'style ratio':>11}")
            rows = [
                ("photo (unstylised)", photo_terms),
                ("MSG-Net (reference)", msgnet_terms),
                ("Gatys (optimised)", result.loss),
            ]
            for label, terms in rows:
                print(f"{label:<26} {fmt(terms)} {terms.style / photo_terms.style:11.4f}")
            print()
            row["quality"] = {"photo": vars(photo_terms), "msgnet": vars(msgnet_terms), "gatys": vars(result.loss)}

        if "init" not in args.skip:
            from_msgnet, msgnet_seconds = timed_render(flat, content, styles, msgnet)
            target = result.loss.total
            reached = steps_to_reach(from_msgnet.history[0], target)
            print(f"## init at {size} px: steps to reach --init content's final loss {target:.4f}")
            print(f"{'init':<10} {'steps':>8} {'seconds':>8} {'loss after all steps':>21}")
            print(f"{'content':<10} {args.steps:8d} {seconds:8.2f} {result.loss.total:21.4f}")
            shown = "never" if reached is None else str(reached)
            print(f"{'msgnet':<10} {shown:>8} {msgnet_seconds:8.2f} {from_msgnet.loss.total:21.4f}\n")
            row["init"] = {"content_steps": args.steps, "msgnet_steps": reached, "msgnet_final": vars(from_msgnet.loss)}

    if "live" not in args.skip:
        numbers["live"] = live_fps(network, stylizer, photo, args, device)
    if args.json:
        Path(args.json).write_text(json.dumps(numbers, indent=2))


def live_fps(network: LossNetwork, stylizer: Stylizer, photo: np.ndarray, args, device: torch.device) -> dict:
    """Generator fps on a live-sized frame alone, then while a full-size snapshot renders beside it."""
    frame = fit_long_side(photo, args.live_size)

    def run_for(seconds: float, until=None) -> tuple[int, float]:
        frames, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds and (until is None or not until()):
            stylizer(frame)
            frames += 1
        return frames, time.perf_counter() - start

    stylizer(frame)
    alone, alone_s = run_for(args.live_seconds)
    size = max(args.sizes)
    gatys = Gatys(network, GatysSettings(size=size, steps=args.steps), device)
    with tempfile.TemporaryDirectory() as folder, GatysSnapshotRenderer(gatys) as renderer:
        job = renderer.submit(photo, [args.style], Path(folder) / "snapshot.png")
        start = time.perf_counter()
        during, during_s = run_for(3600, until=job.done.is_set)
        snapshot_s = time.perf_counter() - start
    print(f"## live fps at {frame.shape[1]}×{frame.shape[0]} while a {size} px snapshot renders")
    print(f"{'live loop':<34} {'fps':>7}")
    print(f"{'alone (reference)':<34} {alone / alone_s:7.2f}")
    print(f"{'during the snapshot':<34} {during / during_s:7.2f}")
    print(f"snapshot: {job.status} after {snapshot_s:.1f} s")
    return {
        "alone_fps": alone / alone_s,
        "during_fps": during / during_s,
        "snapshot_seconds": snapshot_s,
        "status": job.status,
    }


if __name__ == "__main__":
    main()
