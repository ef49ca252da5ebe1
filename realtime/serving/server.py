"""`StyleServer`: the gallery, the shared generator, the viewers and the HTTP app, started and stopped as one.

    server = StyleServer(Stylizer.load(), ServeOptions(port=8000))
    asyncio.run(server.run_until_stopped())     # or `await server.start()` … `await server.stop()`

Stopping closes every peer connection first (viewers see the call end at once), then the HTTP side, then
the worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import replace

from aiohttp import web

from realtime.errors import RealtimeError
from realtime.live.settings import default_working_size
from realtime.runtimes.stylizer import Stylizer
from realtime.serving.app import Routes, build_app
from realtime.serving.auth import Guard, new_token
from realtime.serving.gallery import Gallery
from realtime.serving.generator import SharedGenerator
from realtime.serving.settings import ServeOptions, is_loopback
from realtime.serving.uploads import UploadLimits
from realtime.serving.viewers import Viewers

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
# A camera's usual frame, for the warm-up that pays the fast path's first build before anyone connects.
WARM_UP_FRAME = (480, 640)
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


class StyleServer:
    """The live demo over WebRTC: one `Stylizer` shared by up to `max_clients` viewers."""

    def __init__(self, stylizer: Stylizer, options: ServeOptions | None = None) -> None:
        options = with_token(options or ServeOptions())
        if options.max_clients < 1:
            raise RealtimeError("--max-clients must be 1 or more")
        self.options = options
        self._ssl = ssl_context(options)
        self.stylizer = stylizer
        # The light model's size whatever the model: the cores are shared between every viewer's frames.
        self.working_size = options.working_size or default_working_size(stylizer.device.type)
        self.gallery = Gallery(stylizer, options.styles)
        self.generator = SharedGenerator(stylizer, max_batch=options.max_clients)
        timeouts = (options.connect_seconds, options.quiet_seconds)
        self.viewers = Viewers(self.gallery, self.generator, options.max_clients, self.working_size, timeouts)
        limits = UploadLimits()
        routes = Routes(self.gallery, self.viewers, self.generator, limits, stylizer.styles.style_size)
        guard = Guard(options.token, secure_cookie=self._ssl is not None, allow_origins=options.allow_origins)
        self.app = build_app(routes, guard, limits.max_bytes + 1)
        self._runner: web.AppRunner | None = None
        self.port = options.port

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

    def warm_up(self) -> float:
        """Pay the generator's first builds (seconds) for a usual camera frame at every batch size up to max_clients.

        Largest first: the CUDA fast path then builds once (smaller batches run in its buffers), while CPU runtimes
        that compile per shape get each.
        """
        h, w = WARM_UP_FRAME
        scale = min(1.0, self.working_size / max(h, w))
        size = (round(h * scale), round(w * scale))
        return sum(self.generator.warm_up(*size, batch) for batch in range(self.options.max_clients, 0, -1))

    async def start(self) -> str:
        """Listen; returns the URL. A port in use or a host that is not ours is one clear line."""
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None, shutdown_timeout=STOP_GRACE)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port, ssl_context=self._ssl)
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
        """Close every viewer, then the HTTP side, then the workers (safe to repeat)."""
        await self.viewers.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await asyncio.get_running_loop().run_in_executor(None, self._close_workers)

    async def run_until_stopped(self, on_ready: Callable[[str], None] | None = None) -> int:
        """Serve until Ctrl-C, SIGTERM or SIGHUP (returns its number), then stop cleanly; cancelling stops it too."""
        stopped: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        handled = self._catch_signals(stopped)
        try:
            url = await self.start()
            if on_ready is not None:
                on_ready(url)
            return await stopped
        finally:
            with contextlib.suppress(Exception):
                await self.stop()
            for signum in handled:
                asyncio.get_running_loop().remove_signal_handler(signum)

    def _catch_signals(self, stopped: asyncio.Future[int]) -> list[int]:
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

    def _close_workers(self) -> None:
        self.generator.close()
        self.gallery.close()
