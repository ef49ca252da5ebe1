"""`realtime bench`: the eager fp32 generator and the fast path, timed and compared on this machine."""

from __future__ import annotations

import argparse

from realtime.runtimes.bench import add_arguments, run_command


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "bench",
        help="time the generator: eager fp32 next to the fast path, with their pixel difference",
        description="Per 16:9 size: ms per frame and fps of the eager fp32 reference and the fast path, "
        "their ratio, and the max and mean absolute pixel difference (0–255) between their outputs.",
    )
    add_arguments(parser)
    parser.set_defaults(run=run_command)
