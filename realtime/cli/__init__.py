"""The `realtime` command: argument parsing and messages over the Python API, nothing more.

Exit codes: 0 success, 2 bad usage or bad input (one line on stderr), 130 interrupted (Ctrl-C),
143 / 129 stopped by SIGTERM / SIGHUP (`kill`, `docker stop`, a closed terminal).

Building the parser imports no PyTorch (every cli module keeps its heavy imports inside the function that
runs its command), so `--help` is instant, and a Ctrl-C during the seconds PyTorch takes to load lands
in `main`'s handler: one line, not a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from types import FrameType

from realtime.errors import RealtimeError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from realtime.cli import batch, bench, distill, export_web, gatys, image, live, serve, train, train_decoder, video
    from realtime.cli.options import Parser

    parser = Parser(prog="realtime", description="Real-time style transfer with MSG-Net.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (
        image,
        video,
        gatys,
        train,
        distill,
        train_decoder,
        live,
        serve,
        export_web,
        batch,
    ):  # the order --help lists them in
        command.register(commands)
    bench.register(commands)
    return parser


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"realtime: warning: {message}\n"


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C would be, so every command cleans up (temporary files
    removed, recordings finalised, Gatys keeps its best image) the way it does for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _out_of_memory(exc: Exception) -> bool:
    """PyTorch's out-of-memory error, looked up only where PyTorch is loaded (it alone raises it)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(exc, torch.OutOfMemoryError)


def main(argv: Sequence[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning
    try:
        parser = build_parser()
    except KeyboardInterrupt:
        print("realtime: interrupted while starting", file=sys.stderr)
        return 130
    args = parser.parse_args(argv)
    received: list[int] = []

    def terminate(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        raise Terminated(signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, terminate)
    try:
        code = args.run(args)
        if sys.stdout is not None:
            sys.stdout.flush()
        # A command that handles the interruption itself (live finalises its recording, Gatys saves its
        # best image) returns normally; the exit code still says which signal stopped it.
        return 128 + received[-1] if received else code
    except RealtimeError as exc:
        print(f"realtime: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of our standard output went away (`realtime image … -o - | head -c 10`): not an error of
        # ours, and Python would otherwise complain again while flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if not _out_of_memory(exc):
            raise
        print("realtime: error: out of memory at this size; try a smaller --size", file=sys.stderr)
        return 2
    except Terminated as stop:
        print(f"realtime: stopped by {stop}; no partial output was left behind", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print("realtime: interrupted; no partial output was left behind", file=sys.stderr)
        return 130
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
