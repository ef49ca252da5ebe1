"""The server's defaults and limits, free of heavy imports so `realtime serve --help` answers at once."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_CLIENTS = 4
MIN_WORKING_SIZE = 64
MORPH_SECONDS = 1.0
# Uploads: a phone photo is 3–12 MP and a few MB; anything far beyond is a mistake or an attack.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000
MAX_UPLOADS = 32  # uploaded styles kept in memory; the oldest goes first
MAX_OFFER_BYTES = 256 * 1024  # an SDP offer is a few kB


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

    @property
    def scheme(self) -> str:
        return "https" if self.certfile else "http"
