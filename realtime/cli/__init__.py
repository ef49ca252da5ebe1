"""The `realtime` command: argument parsing and messages over the Python API, nothing more.

Exit codes: 0 success, 2 bad usage or bad input (one line on stderr), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

import torch

from ..errors import RealtimeError
from . import bench, gatys, image, live, train, video
from .options import Parser

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="realtime", description="Real-time style transfer with MSG-Net.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (image, video, gatys, train, live):  # the order --help lists them in
        command.register(commands)
    bench.register(commands)
    return parser


def _one_line_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    return f"realtime: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except RealtimeError as exc:
        print(f"realtime: error: {exc}", file=sys.stderr)
        return 2
    except torch.OutOfMemoryError:
        print("realtime: error: out of memory at this size; try a smaller --size", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("realtime: interrupted; no partial output was left behind", file=sys.stderr)
        return 130
