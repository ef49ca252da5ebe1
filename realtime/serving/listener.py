"""`Listener`: an aiohttp app on a host and port, started, stopped, and run until a stop signal — what both
servers (`StyleServer`, `SiteServer`) need from the network side."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable
from dataclasses import replace

from aiohttp import web

from realtime.errors import RealtimeError
from realtime.serving.auth import new_token
from realtime.serving.settings import ServeOptions, is_loopback

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
# Seconds requests in flight get to finish at a stop; an idle keep-alive connection would otherwise hold it up.
STOP_GRACE = 2.0


def ssl_context(options: ServeOptions) -> ssl.SSLContext | None:
    """The TLS context for `--certfile/--keyfile` (None without them); a bad pair is one clear line."""
    if options.certfile is None and options.keyfile is None:
        return None
    if options.certfile is None or options.keyfile is None:
        raise RealtimeError("--certfile and --keyfile go together")
    for path in (options.certfile, options.keyfile):
        if not path.is_file():
            raise RealtimeError(f"no such file: {path}")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(options.certfile, options.keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise RealtimeError(f"cannot use {options.certfile} with {options.keyfile}: {exc}") from None
    return context


def with_token(options: ServeOptions) -> ServeOptions:
    """The options with a fresh token when the host is reachable from other machines and none was given."""
    if options.token is None and not is_loopback(options.host):
        return replace(options, token=new_token())
    return options


class Listener:
    """Serves `app` where `options` say; `port` is the real one once started (options may ask for any: 0)."""

    def __init__(self, app: web.Application, options: ServeOptions) -> None:
        self.app = app
        self.options = options
        self.ssl = ssl_context(options)
        self.port = options.port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Where a browser opens the page (with the token, when there is one)."""
        host = self.options.host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        elif ":" in host:
            host = f"[{host}]"
        token = f"?token={self.options.token}" if self.options.token else ""
        return f"{self.options.scheme}://{host}:{self.port}/{token}"

    async def start(self) -> str:
        """Listen; returns the URL. A port in use or a host that is not ours is one clear line."""
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None, shutdown_timeout=STOP_GRACE)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port, ssl_context=self.ssl)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise RealtimeError(
                f"cannot listen on {self.options.host}:{self.options.port}: {exc.strerror or exc} (--port picks another)"
            ) from None
        self.port = self._runner.addresses[0][1]
        return self.url

    async def stop(self) -> None:
        """Stop listening and close the HTTP side (safe to repeat)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def run_until_stopped(
    start: Callable[[], Awaitable[str]],
    stop: Callable[[], Awaitable[None]],
    on_ready: Callable[[str], None] | None = None,
) -> int:
    """`start`, then serve until Ctrl-C, SIGTERM or SIGHUP (returns its number), then `stop` cleanly; cancelling
    stops it too."""
    stopped: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    handled = _catch_signals(stopped)
    try:
        url = await start()
        if on_ready is not None:
            on_ready(url)
        return await stopped
    finally:
        with contextlib.suppress(Exception):
            await stop()
        for signum in handled:
            asyncio.get_running_loop().remove_signal_handler(signum)


def _catch_signals(stopped: asyncio.Future[int]) -> list[int]:
    """Turn the stop signals into a clean stop (main thread only; Windows has no loop signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return []
    loop = asyncio.get_running_loop()
    handled = []
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, lambda s=signum: stopped.done() or stopped.set_result(s))
        except (NotImplementedError, RuntimeError):
            continue
        handled.append(signum)
    return handled
