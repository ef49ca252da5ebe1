"""Who may talk to the server: the token, and the Host check that keeps other web sites out of a local one.

A server reachable from other machines needs its token on every request. Browsers carry it in a cookie
set when the page is opened with `?token=...` (SameSite=Strict, so another site's page cannot send it);
other clients send `Authorization: Bearer TOKEN`. A server on 127.0.0.1 without a token still checks the
Host header, so a web page that re-points its own domain name at 127.0.0.1 (DNS rebinding) is refused.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from realtime.serving.settings import is_loopback

COOKIE = "realtime_token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    return secrets.token_urlsafe(16)


def _host_name(host_header: str) -> str:
    """`example.org:8000` → `example.org`; `[::1]:8000` → `::1`."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class Guard:
    """Checks each request: the token when there is one, else that the request was meant for this machine."""

    def __init__(self, token: str | None, secure_cookie: bool = False) -> None:
        self.token = token
        self.secure_cookie = secure_cookie

    def presented(self, request: web.Request) -> str | None:
        """The token a request carries: `?token=`, then the Authorization header, then the cookie."""
        if "token" in request.query:
            return request.query["token"]
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value:
            return value.strip()
        return request.cookies.get(COOKIE)

    def refusal(self, request: web.Request) -> str | None:
        """Why `request` is refused, or None when it may go on."""
        if self.token is None:
            if not is_loopback(_host_name(request.host or "")):
                return f"this server answers to localhost only, not to {request.host!r}"
            return None
        given = self.presented(request)
        if given is None:
            return "this server needs its token: open the address it printed (…/?token=…)"
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return "wrong token"
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        why = self.refusal(request)
        if why is not None:
            if request.path.startswith("/api/") or request.path == "/offer":
                return web.json_response({"error": why}, status=401 if self.token else 403)
            return web.Response(text=f"realtime: {why}\n", status=401 if self.token else 403)
        response = await handler(request)
        if self.token is not None and request.query.get("token") == self.token:
            response.set_cookie(
                COOKIE, self.token, httponly=True, samesite="Strict", secure=self.secure_cookie, path="/"
            )
        return response
