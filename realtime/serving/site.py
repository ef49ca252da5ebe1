"""`SiteServer`: a site `realtime export-web` wrote, served as it is (`realtime serve --client-side`).

The page runs the generator in the viewer's browser, so this server only hands out files: with the headers
that let the page's WASM runtime use threads (cross-origin isolation), and behind the same token, Host and
Origin checks as the WebRTC server.

    server = SiteServer(export_site(...).path, ServeOptions(port=8000))
    asyncio.run(server.run_until_stopped())
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from realtime.serving.auth import Guard, Handler
from realtime.serving.listener import Listener, run_until_stopped, with_token
from realtime.serving.settings import ServeOptions
from realtime.web.site import ISOLATION_HEADERS

# Browsers compile WebAssembly while it downloads only when it comes as application/wasm; ONNX has no type.
_TYPES = {".wasm": "application/wasm", ".onnx": "application/octet-stream", ".mjs": "text/javascript"}


@web.middleware
async def _isolated(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.update(ISOLATION_HEADERS)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


class SiteServer:
    """Serves the static site in `folder`."""

    def __init__(self, folder: str | Path, options: ServeOptions | None = None) -> None:
        options = with_token(options or ServeOptions())
        self.options = options
        self.folder = Path(folder)
        guard = Guard(options.token, secure_cookie=options.certfile is not None, allow_origins=options.allow_origins)
        app = web.Application(middlewares=[guard.middleware, _isolated])
        app.router.add_get("/{path:.*}", self._file)
        self.listener = Listener(app, options)

    @property
    def port(self) -> int:
        return self.listener.port

    @property
    def url(self) -> str:
        return self.listener.url

    async def _file(self, request: web.Request) -> web.StreamResponse:
        """A file of the site; anything else (a folder, a path out of it, nothing) is one 404 line."""
        root = self.folder.resolve()
        try:
            path = (root / (request.match_info["path"] or "index.html")).resolve()
        except (ValueError, OSError):  # a NUL byte, a name too long
            path = root
        if not path.is_relative_to(root) or not path.is_file():
            return web.Response(text=f"realtime: no such file: {request.path}\n", status=404)
        headers = {"Cache-Control": "no-cache"}  # a new export behind the same address is seen at once
        if path.suffix in _TYPES:
            headers["Content-Type"] = _TYPES[path.suffix]
        return web.FileResponse(path, headers=headers)

    async def start(self) -> str:
        return await self.listener.start()

    async def stop(self) -> None:
        await self.listener.stop()

    async def run_until_stopped(self, on_ready: Callable[[str], None] | None = None) -> int:
        """Serve until Ctrl-C, SIGTERM or SIGHUP (returns its number); cancelling stops it too."""
        return await run_until_stopped(self.start, self.stop, on_ready)
