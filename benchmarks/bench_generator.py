"""Which fast-path settings reach the targets: `realtime bench` over several settings in one run.

Each variant is a full `realtime.runtimes.bench.run_bench` (eager fp32 reference and the variant, timed in the
same run, with their pixel difference), so every row carries its own reference. Variants are tried in
order until the time budget is spent (compiles take minutes on first use); JSON goes to --out after
each variant, so a run stopped at its limit keeps what it measured. Needs no PyAV.

    python benchmarks/bench_generator.py --device cpu --sizes 72 --frames 2 --variants eager-graph
    python3 benchmarks/bench_generator.py --out $OUT/sweep.json        # H100: 480/720/1080, all variants

Targets: 720p <= 5 ms and 1080p <= 10 ms per frame, each >= 5x the eager fp32 reference,
mean |diff| <= 1 (0-255).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from realtime.runtimes.bench import format_table, run_bench
from realtime.runtimes.cuda import FastSettings
from realtime.runtimes.settings import width_for

# Each size compiled for itself (dynamic=False), as the app does for its first working size.
VARIANTS = {
    "default-graph": FastSettings("fp16", True, "default", cuda_graph=True, dynamic=False),  # the app's default
    "eager-graph": FastSettings("fp16", True, "none", cuda_graph=True, dynamic=False),
    "default-nograph": FastSettings("fp16", True, "default", cuda_graph=False, dynamic=False),
    "autotune-graph": FastSettings("fp16", True, "max-autotune-no-cudagraphs", cuda_graph=True, dynamic=False),
    "reduce-overhead": FastSettings("fp16", True, "reduce-overhead", cuda_graph=False, dynamic=False),
    "bf16-default-graph": FastSettings("bf16", True, "default", cuda_graph=True, dynamic=False),
    "dynamic-graph": FastSettings("fp16", True, "default", cuda_graph=True, dynamic=True),
    "nchw-default-graph": FastSettings("fp16", False, "default", cuda_graph=True, dynamic=False),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--sizes", default="480,720,1080", help="16:9 frame heights")
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--weights")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, from {', '.join(VARIANTS)}")
    parser.add_argument("--budget", type=float, default=480.0, help="seconds; no new variant starts after this")
    parser.add_argument("--profile", action="store_true", help="profile each variant at the largest size")
    parser.add_argument("--out", type=Path, help="write all results as JSON here")
    args = parser.parse_args()
    sizes = tuple((width_for(height), height) for height in (int(s) for s in args.sizes.split(",")))  # 16:9
    began = time.perf_counter()
    results: dict[str, object] = {}
    for name in args.variants.split(","):
        if time.perf_counter() - began > args.budget:
            print(f"budget spent: skipping {name}", file=sys.stderr)
            continue
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            report = run_bench(
                args.device,
                sizes,
                args.frames,
                args.warmup,
                args.weights,
                VARIANTS[name],
                lambda m: print(m, file=sys.stderr, flush=True),
                args.profile,
            )
        except Exception as exc:  # noqa: BLE001 — one variant failing must not lose the others
            print(f"{name} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        results[name] = report.as_dict()
        print(f"\n== {name}\n{format_table(report)}\n", flush=True)
        if args.out:
            args.out.write_text(json.dumps(results, indent=2))
    print("summary (ms per frame: fast / eager, speedup, mean|diff|):")
    for name, result in results.items():
        if "error" in result:
            print(f"{name:>20}: {result['error']}")
            continue
        cells = [
            f"{r['height']}p {r['fast_ms']:.2f}/{r['eager_ms']:.2f} {r['speedup']:.1f}x d{r['mean_diff']:.2f}"
            for r in result["sizes"]
        ]
        print(f"{name:>20}: " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
