"""Request bodies read with a bound: the limit holds while the bytes arrive, chunked bodies included.

aiohttp's own `client_max_size` caps every body at the largest any route takes; a route with a smaller
limit (an SDP offer) stops reading at its own, so a client cannot make the server buffer more than that.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp import web

from realtime.errors import RealtimeError

_CHUNK = 64 * 1024


class Refused(RealtimeError):
    """A request refused with the HTTP status that says why (400 unless given)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def read_capped(request: web.Request, limit: int, too_large: Callable[[], RealtimeError]) -> bytes:
    """The body, or `too_large()` raised as soon as it is known to exceed `limit` bytes (from its length or
    while reading)."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large()
    body = bytearray()
    try:
        async for chunk in request.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise too_large()
    except web.HTTPRequestEntityTooLarge:
        raise too_large() from None
    return bytes(body)


def parse_json(body: bytes, expected: str) -> object:
    """JSON text → a value; anything else (bad UTF-8, bad syntax, nesting too deep to parse) is a 400 that
    says what was `expected`."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Refused(f"expected JSON {expected}") from None
