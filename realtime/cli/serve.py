"""`realtime serve`: the live demo in any browser, stylised on this machine, over WebRTC."""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
from pathlib import Path

from realtime.cli.options import BuildNotes, add_model_options, non_negative_int, positive_int
from realtime.errors import RealtimeError
from realtime.live.settings import DEFAULT_WORKING_SIZE
from realtime.model.style_spec import DEFAULT_STYLE_SIZE
from realtime.serving.settings import (
    DEFAULT_HOST,
    DEFAULT_MAX_CLIENTS,
    DEFAULT_PORT,
    ServeOptions,
    check_origin,
    is_loopback,
)

EXTRA_MODULES = ("aiortc", "aiohttp")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="the live demo in a browser: webcam in, stylised video back over WebRTC",
        description="Serve a page that sends the browser's webcam over WebRTC and shows it stylised by this "
        "machine's generator (GPU or CPU), with a style gallery, uploads and the live window's hotkeys. "
        "Listens on 127.0.0.1 unless --host says otherwise; any other host needs a token (made up and printed "
        "with the address when --token is not given). Browsers give the camera only to https:// pages and "
        "localhost: use --certfile/--keyfile, or an https reverse proxy, for other machines.",
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    serve.add_argument(
        "--port", type=non_negative_int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free one)"
    )
    serve.add_argument("--styles", metavar="DIR", help="folder of style images offered beside the built-in styles")
    serve.add_argument(
        "--max-clients",
        type=positive_int,
        default=DEFAULT_MAX_CLIENTS,
        metavar="N",
        help=f"viewers at once; one more is told the server is busy (default {DEFAULT_MAX_CLIENTS})",
    )
    serve.add_argument(
        "--token", help="the token viewers must give (off localhost one is made up and printed when not given)"
    )
    serve.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a page served elsewhere (e.g. https://example.org) that may call this server; repeatable. "
        "Requests from any other site's page are refused",
    )
    serve.add_argument("--certfile", metavar="F", help="TLS certificate (PEM) to serve https://")
    serve.add_argument("--keyfile", metavar="F", help="its private key (PEM)")
    serve.add_argument(
        "--size",
        type=positive_int,
        help=f"working size, the long side the generator sees (default {DEFAULT_WORKING_SIZE['cuda']} on CUDA, "
        f"{DEFAULT_WORKING_SIZE['cpu']} on CPU); viewers may go lower with [ and ]",
    )
    serve.add_argument(
        "--style-size",
        type=positive_int,
        default=DEFAULT_STYLE_SIZE,
        help=f"long side a style image is scaled to before its target is computed (default {DEFAULT_STYLE_SIZE})",
    )
    serve.add_argument(
        "--client-side",
        action="store_true",
        help="serve the page of `realtime export-web` instead: the generator runs in each viewer's browser, this "
        "machine only hands out files (--max-clients and --size do not apply)",
    )
    add_model_options(serve)
    serve.set_defaults(run=_run_serve)


def _options(args: argparse.Namespace) -> ServeOptions:
    if args.port > 65535:
        raise RealtimeError(f"--port must be at most 65535, got {args.port}")
    if args.token is not None and not args.token.strip():
        raise RealtimeError("--token is empty")
    return ServeOptions(
        host=args.host,
        port=args.port,
        styles=Path(args.styles) if args.styles else None,
        max_clients=args.max_clients,
        token=args.token,
        certfile=Path(args.certfile) if args.certfile else None,
        keyfile=Path(args.keyfile) if args.keyfile else None,
        working_size=args.size,
        allow_origins=tuple(check_origin(origin) for origin in args.allow_origin),
    )


def _run_serve(args: argparse.Namespace) -> int:
    needed = ("aiohttp",) if args.client_side else EXTRA_MODULES
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise RealtimeError(f"realtime serve needs {' and '.join(missing)}: pip install 'realtime[serve]'")
    if args.client_side:
        return _serve_site(args)
    import asyncio

    from realtime.imaging.images import image_files
    from realtime.live.settings import default_working_size
    from realtime.live.setup import load_live
    from realtime.serving.listener import ssl_context
    from realtime.serving.server import StyleServer

    options = _options(args)
    ssl_context(options)  # a bad certificate or a bad folder fails before the model loads
    if options.styles is not None:
        image_files(options.styles, "styles")
    size = args.size or default_working_size("cpu")  # the size the model choice is timed at, on a CPU
    # Viewers share one generator batching their newest frames; keyframes are a single window's.
    stylizer = load_live(
        args.weights,
        device=args.device,
        style_size=args.style_size,
        on_build=BuildNotes(),
        model=args.model,
        working_size=size,
        keyframes="off",
    ).stylizer
    server = StyleServer(stylizer, options)
    server.warm_up()

    def ready(url: str) -> None:
        where = "the CPU" if stylizer.device.type == "cpu" else str(stylizer.device)
        print(
            f"realtime: serving on {where} at working size {server.working_size}, up to {options.max_clients} "
            "viewers; open this address in a browser (Ctrl-C stops):",
            file=sys.stderr,
        )
        print(url, flush=True)
        _note_https(options)

    signum = asyncio.run(server.run_until_stopped(on_ready=ready))
    return _stopped(signum, "every viewer was disconnected")


def _serve_site(args: argparse.Namespace) -> int:
    """The exported page from a temporary folder, removed at the stop."""
    import asyncio
    import tempfile

    from realtime.cli.export_web import build_site
    from realtime.serving.listener import ssl_context
    from realtime.serving.site import SiteServer

    options = _options(args)
    ssl_context(options)  # a bad certificate fails before the export
    with tempfile.TemporaryDirectory(prefix="realtime-site-") as folder:
        model = None if args.model == "auto" else args.model
        report = build_site(args, Path(folder) / "site", model, progress=sys.stderr.isatty())
        server = SiteServer(report.path, options)

        def ready(url: str) -> None:
            print(
                f"realtime: serving the client-side page ({report.total / 1e6:.1f} MB; the generator runs in each "
                "viewer's browser); open this address in a browser (Ctrl-C stops):",
                file=sys.stderr,
            )
            print(url, flush=True)
            _note_https(options)

        signum = asyncio.run(server.run_until_stopped(on_ready=ready))
    return _stopped(signum, "the page's viewers keep running what they loaded")


def _note_https(options: ServeOptions) -> None:
    if not is_loopback(options.host) and options.certfile is None:
        print(
            "realtime: note: browsers give the camera only to https:// pages and localhost; pass "
            "--certfile/--keyfile or put the server behind an https reverse proxy",
            file=sys.stderr,
        )


def _stopped(signum: int, what: str) -> int:
    how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    print(f"realtime: {how}; {what}", file=sys.stderr)
    return 128 + signum
