"""The server's defaults and limits, free of heavy imports so `realtime serve --help` answers at once."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from realtime.errors import RealtimeError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_CLIENTS = 4
MIN_WORKING_SIZE = 64
# Uploads: a phone photo is 3–12 MP and a few MB; anything far beyond is a mistake or an attack.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# JPEG decodes straight to a reduced size (an eighth of each side at most), so a phone's 40 MP photo costs
# a few MB; PNG, WebP, BMP and GIF decode whole first, ~16 bytes a pixel at worst (WebP), so their cap is lower.
MAX_JPEG_PIXELS = 40_000_000
MAX_UPLOAD_PIXELS = 16_000_000
MAX_UPLOADS = 32  # uploaded styles kept in memory; the oldest goes first
MAX_OFFER_BYTES = 256 * 1024  # an SDP offer is a few kB
# Uploads read and decoded at once; one more is told to retry (HTTP 503), so their memory has a ceiling.
MAX_DECODES = 2
# Seconds a viewer gets from its answer to a connected call (ICE and DTLS take well under one on a LAN),
# and then may go without sending a camera frame, before its place is freed.
CONNECT_SECONDS = 10.0
QUIET_SECONDS = 10.0


def check_origin(text: str) -> str:
    """An `--allow-origin` value as browsers send it (`scheme://host[:port]`), or a one-line error."""
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
        raise RealtimeError(f"--allow-origin takes an origin such as https://example.org:8443, got {text!r}")
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (127.x, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeOptions:
    """Where and how the server listens. A token is required whenever `host` is not a loopback address."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    styles: Path | None = None
    max_clients: int = DEFAULT_MAX_CLIENTS
    token: str | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    working_size: int | None = None  # None: the device's default (live's `default_working_size`)
    allow_origins: tuple[str, ...] = ()  # pages served elsewhere that may call this server (`https://host:port`)
    connect_seconds: float = CONNECT_SECONDS
    quiet_seconds: float = QUIET_SECONDS

    @property
    def scheme(self) -> str:
        return "https" if self.certfile else "http"
