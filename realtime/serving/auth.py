"""Who may talk to the server: the token, the Host check and the Origin check that keep other web sites out.

A server reachable from other machines needs its token on every request. Browsers carry it in a cookie
set when the page is opened with `?token=...` (SameSite=Strict, so another site's page cannot send it);
other clients send `Authorization: Bearer TOKEN`. A server on 127.0.0.1 without a token still checks the
Host header, so a web page that re-points its own domain name at 127.0.0.1 (DNS rebinding) is refused.

A web page the user visits elsewhere can still send requests to a server on their machine. Browsers name
the page's origin in `Origin` on every such request that changes something, so a POST from any origin but
the server's own (or one allowed with `--allow-origin`) is refused; clients that are not browsers send no
`Origin`. An allowed origin also gets the CORS answers its page needs to call the server.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

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


def _netloc(origin: str) -> str | None:
    """`https://Host:8000` → `host:8000`; None for what is not an origin (`null`, garbage)."""
    try:
        return urlsplit(origin).netloc.lower() or None
    except ValueError:
        return None


class Guard:
    """Checks each request: the origin of a browser's request that changes something, then the token when
    there is one, else that the request was meant for this machine."""

    def __init__(self, token: str | None, secure_cookie: bool = False, allow_origins: Iterable[str] = ()) -> None:
        self.token = token
        self.secure_cookie = secure_cookie
        self.allow_origins = frozenset(origin.rstrip("/").lower() for origin in allow_origins)

    def presented(self, request: web.Request) -> str | None:
        """The token a request carries: `?token=`, then the Authorization header, then the cookie."""
        if "token" in request.query:
            return request.query["token"]
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value:
            return value.strip()
        return request.cookies.get(COOKIE)

    def foreign_origin(self, request: web.Request) -> str | None:
        """The `Origin` of a state-changing request from another site's page, or None when it may go on."""
        origin = request.headers.get("Origin")
        if request.method in ("GET", "HEAD") or origin is None:
            return None
        if origin.lower() in self.allow_origins or _netloc(origin) == (request.host or "").lower():
            return None
        return origin

    def refusal(self, request: web.Request) -> str | None:
        """Why `request` is refused, or None when it may go on."""
        origin = self.foreign_origin(request)
        if origin is not None:
            return f"requests from another site's page ({origin}) are refused; --allow-origin allows one"
        if self.token is None:
            if not is_loopback(_host_name(request.host or "")):
                return f"this server answers to localhost only, not to {request.host!r}"
            return None
        given = self.presented(request)
        if given is None:
            return "this server needs its token: open the address it printed (…/?token=…)"
        # Header bytes that are not UTF-8 arrive as surrogates: compared as the bytes they were, never raised on.
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self.token.encode()):
            return "wrong token"
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        allowed = request.headers.get("Origin", "").lower() in self.allow_origins
        if request.method == "OPTIONS" and allowed:
            return self._cors(web.Response(status=204), request)  # a preflight carries no token
        why = self.refusal(request)
        if why is not None:
            status = 403 if self.foreign_origin(request) or self.token is None else 401
            if request.path.startswith("/api/") or request.path == "/offer":
                return web.json_response({"error": why}, status=status)
            return web.Response(text=f"realtime: {why}\n", status=status)
        response = await handler(request)
        if self.token is not None and request.query.get("token") == self.token:
            response.set_cookie(
                COOKIE, self.token, httponly=True, samesite="Strict", secure=self.secure_cookie, path="/"
            )
        return self._cors(response, request) if allowed else response

    @staticmethod
    def _cors(response: web.StreamResponse, request: web.Request) -> web.StreamResponse:
        response.headers["Access-Control-Allow-Origin"] = request.headers["Origin"]
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Vary"] = "Origin"
        return response
