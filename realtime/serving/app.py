"""The HTTP side: the page, the style gallery and uploads, and `POST /offer` (aiortc's signalling convention).

Every error is JSON `{"error": "one line"}` with a status that says whose fault it is: 400 a bad request,
401/403 no or a wrong token or another site's page, 413 too large, 415 not the type asked for, 503 busy.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web
from aiortc import RTCSessionDescription

from realtime.errors import RealtimeError
from realtime.serving.auth import Guard, Handler
from realtime.serving.bodies import Refused, parse_json, read_capped
from realtime.serving.gallery import Gallery
from realtime.serving.generator import SharedGenerator
from realtime.serving.settings import MAX_DECODES, MAX_OFFER_BYTES
from realtime.serving.uploads import (
    UploadLimits,
    UploadRejected,
    check_size,
    decode_upload,
    display_name,
    too_large,
)
from realtime.serving.viewers import Viewers

STATIC = Path(__file__).with_name("static")
# The page loads only its own files; the video comes over WebRTC, snapshots and recordings are blobs.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`RealtimeError` → a JSON error with its status (400 unless it says otherwise).

    A refused body left unread (an upload too large to take) closes the connection rather than draining it.
    """
    try:
        response = await handler(request)
    except RealtimeError as exc:
        response = web.json_response({"error": str(exc)}, status=exc.status if isinstance(exc, Refused) else 400)
        if not request.content.is_eof():
            response.force_close()
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Content-Security-Policy", CSP)
    return response


class Routes:
    """The handlers, over the server's parts."""

    def __init__(
        self, gallery: Gallery, viewers: Viewers, generator: SharedGenerator, limits: UploadLimits, style_size: int
    ) -> None:
        self.gallery = gallery
        self.viewers = viewers
        self.generator = generator
        self.limits = limits
        self.style_size = style_size
        self._decoding = 0  # uploads being read or decoded now (on the event loop's thread only)

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/", self.page)
        app.router.add_static("/static/", STATIC)
        app.router.add_get("/api/styles", self.styles)
        app.router.add_post("/api/styles", self.upload)
        app.router.add_get("/api/styles/{id}/thumbnail", self.thumbnail)
        app.router.add_get("/api/status", self.status)
        app.router.add_post("/offer", self.offer)

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def styles(self, request: web.Request) -> web.Response:
        return web.json_response([style.as_json() for style in self.gallery.styles])

    async def thumbnail(self, request: web.Request) -> web.Response:
        style = self.gallery.find(request.match_info["id"])
        return web.Response(body=await self.gallery.thumbnail(style), content_type="image/jpeg")

    async def status(self, request: web.Request) -> web.Response:
        stats = self.generator.stats
        return web.json_response(
            {
                "viewers": len(self.viewers),
                "max_clients": self.viewers.max_clients,
                "device": str(self.generator.stylizer.device),
                "generator": {"batches": stats.batches, "frames": stats.frames, "mean_batch": stats.mean_batch},
            }
        )

    async def upload(self, request: web.Request) -> web.Response:
        """The painting is the request body (any image type we take); `?name=` is only shown in the gallery.

        At most `MAX_DECODES` uploads are read and decoded at once, so their memory has a ceiling; one more is
        told to retry.
        """
        if request.content_type.startswith("multipart/"):
            raise UploadRejected("send the image file itself as the request body, not a form", 415)
        if not request.content_type.startswith("image/"):
            raise UploadRejected(
                f"the upload is not an image (Content-Type {request.content_type}); send it with its image type", 415
            )
        check_size(request.content_length, self.limits)
        if self._decoding >= MAX_DECODES:
            raise Refused(f"busy: {MAX_DECODES} uploads are being decoded; try again in a moment", 503)
        self._decoding += 1
        try:
            data = await read_capped(request, self.limits.max_bytes, lambda: too_large(self.limits))
            loop = asyncio.get_running_loop()
            picture = await loop.run_in_executor(None, decode_upload, data, self.limits, self.style_size)
        finally:
            self._decoding -= 1
        name = display_name(request.query.get("name"), f"upload {len(self.gallery.styles) + 1}")
        style = await self.gallery.add_upload(picture, name)
        return web.json_response(style.as_json(), status=201)

    async def offer(self, request: web.Request) -> web.Response:
        """`{"sdp", "type": "offer"}` (and optionally `"settings": {"style": ...}`) → the answer's `{"sdp", "type"}`."""
        expected = '{"sdp": ..., "type": "offer"}'
        if request.content_type != "application/json":
            raise Refused(f"send the offer as application/json (Content-Type was {request.content_type})", 415)
        body = parse_json(await read_capped(request, MAX_OFFER_BYTES, _offer_too_large), expected)
        if not isinstance(body, dict) or not isinstance(body.get("sdp"), str) or body.get("type") != "offer":
            raise Refused(f"expected JSON {expected}")
        offer = RTCSessionDescription(sdp=body["sdp"], type="offer")
        try:
            answer = await self.viewers.connect(offer, body.get("settings"))
        except RealtimeError:
            raise
        except Exception as exc:  # noqa: BLE001 - aiortc's parser raises many types on a malformed SDP
            raise RealtimeError(f"malformed SDP offer: {exc}") from None
        return web.json_response({"sdp": answer.sdp, "type": answer.type})


def _offer_too_large() -> Refused:
    return Refused(f"the offer is larger than {MAX_OFFER_BYTES // 1024} kB", 413)


def build_app(routes: Routes, guard: Guard, max_body: int) -> web.Application:
    """The aiohttp application: the guard first, then errors as JSON, then the routes."""
    app = web.Application(middlewares=[guard.middleware, _errors], client_max_size=max_body)
    routes.add_to(app)
    return app
