"""Start-up: seconds from the command to its result with nothing kept from earlier runs, next to a second run
that finds the exported generator and its compiled graphs in the cache, and next to that run with torchvision
imported first (as every command did before torchvision was imported only where a VGG is built).

Each round runs every command in fresh processes, first with an empty `$REALTIME_CACHE` (what the first run
after installing pays), then twice with the cache that run left (every run after it); rounds alternate, and
the table gives medians.

    python benchmarks/bench_startup.py
    python benchmarks/bench_startup.py --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_live_quality import cpu_name

from realtime.cache import CACHE_ENV

COMMANDS = {
    "image, full model, 512 px": ["image", "sample:chelsea", "--style", "candy", "--size", "512", "-o", "{out}/a.jpg"],
    "live, first frame (the CPU probe included)": [
        "live", "--source", "sample", "--style", "candy", "--no-window", "--record", "{out}/a.mp4", "--max-frames", "1",
    ],
}  # fmt: skip


RUN_WITH_TORCHVISION = "import runpy, torchvision; runpy.run_module('realtime', run_name='__main__')"


def seconds(args: list[str], cache: Path, out: Path, torchvision: bool = False) -> float:
    env = {**os.environ, CACHE_ENV: str(cache)}
    start = ["-c", RUN_WITH_TORCHVISION] if torchvision else ["-m", "realtime"]
    command = [sys.executable, *start, *(arg.format(out=out) for arg in args)]
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of cold and warm runs (default 3)")
    args = parser.parse_args(argv)
    times: dict[str, dict[str, list[float]]] = {name: {"cold": [], "warm": [], "vision": []} for name in COMMANDS}
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        for round_ in range(args.rounds):
            for index, (name, command) in enumerate(COMMANDS.items()):
                cache = out / f"cache-{round_}-{index}"  # empty: nothing from the other command either
                times[name]["cold"].append(seconds(command, cache, out))
                times[name]["warm"].append(seconds(command, cache, out))
                times[name]["vision"].append(seconds(command, cache, out, torchvision=True))
    print(f"CPU: {cpu_name()}, {os.cpu_count()} threads; median of {args.rounds} rounds")
    print("| command | empty cache (s) | cache kept (s) | cache kept, torchvision imported first (s) |")
    print("|---|---|---|---|")
    for name, runs in times.items():
        cold, warm, vision = (statistics.median(runs[key]) for key in ("cold", "warm", "vision"))
        print(f"| {name} | {cold:.1f} | {warm:.1f} | {vision:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
