"""`StyleServer`: the gallery, the shared generator, the viewers and the HTTP app, started and stopped as one.

    server = StyleServer(Stylizer.load(), ServeOptions(port=8000))
    asyncio.run(server.run_until_stopped())     # or `await server.start()` … `await server.stop()`

Stopping closes every peer connection first (viewers see the call end at once), then the HTTP side, then
the worker threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from realtime.errors import RealtimeError
from realtime.live.settings import default_working_size
from realtime.runtimes.stylizer import Stylizer
from realtime.serving.app import Routes, build_app
from realtime.serving.auth import Guard
from realtime.serving.gallery import Gallery
from realtime.serving.generator import SharedGenerator
from realtime.serving.listener import Listener, run_until_stopped, ssl_context, with_token
from realtime.serving.settings import ServeOptions
from realtime.serving.uploads import UploadLimits
from realtime.serving.viewers import Viewers

# A camera's usual frame, for the warm-up that pays the fast path's first build before anyone connects.
WARM_UP_FRAME = (480, 640)


class StyleServer:
    """The live demo over WebRTC: one `Stylizer` shared by up to `max_clients` viewers."""

    def __init__(self, stylizer: Stylizer, options: ServeOptions | None = None) -> None:
        options = with_token(options or ServeOptions())
        if options.max_clients < 1:
            raise RealtimeError("--max-clients must be 1 or more")
        self.options = options
        ssl_context(options)  # a bad certificate fails before the parts below start their threads
        self.stylizer = stylizer
        # The light model's size whatever the model: the cores are shared between every viewer's frames.
        self.working_size = options.working_size or default_working_size(stylizer.device.type)
        self.gallery = Gallery(stylizer, options.styles)
        self.generator = SharedGenerator(stylizer, max_batch=options.max_clients)
        timeouts = (options.connect_seconds, options.quiet_seconds)
        self.viewers = Viewers(self.gallery, self.generator, options.max_clients, self.working_size, timeouts)
        limits = UploadLimits()
        routes = Routes(self.gallery, self.viewers, self.generator, limits, stylizer.styles.style_size)
        guard = Guard(options.token, secure_cookie=options.certfile is not None, allow_origins=options.allow_origins)
        self.listener = Listener(build_app(routes, guard, limits.max_bytes + 1), options)

    @property
    def port(self) -> int:
        return self.listener.port

    @property
    def url(self) -> str:
        """Where a browser opens the page (with the token, when there is one)."""
        return self.listener.url

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
        return await self.listener.start()

    async def stop(self) -> None:
        """Close every viewer, then the HTTP side, then the workers (safe to repeat)."""
        await self.viewers.close_all()
        await self.listener.stop()
        await asyncio.get_running_loop().run_in_executor(None, self._close_workers)

    async def run_until_stopped(self, on_ready: Callable[[str], None] | None = None) -> int:
        """Serve until Ctrl-C, SIGTERM or SIGHUP (returns its number), then stop cleanly; cancelling stops it too."""
        return await run_until_stopped(self.start, self.stop, on_ready)

    def _close_workers(self) -> None:
        self.generator.close()
        self.gallery.close()
