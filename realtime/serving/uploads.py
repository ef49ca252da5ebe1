"""Checks on an uploaded painting before anything decodes it: size in bytes, image type, size in pixels.

Pillow reads the header alone first, so a small file that claims a huge picture (a decompression bomb) is
refused before its pixels are unpacked; our pixel caps sit well under Pillow's own (`Image.MAX_IMAGE_PIXELS`,
89 MP, which only warns below twice that). JPEGs decode straight to a reduced size, the other formats whole,
so theirs is the lower cap. Uploads live in memory: the name a client gives is only shown, never used as a path.
"""

from __future__ import annotations

import io
import unicodedata
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from realtime.errors import RealtimeError
from realtime.imaging.images import decode_image
from realtime.serving.bodies import Refused
from realtime.serving.settings import MAX_JPEG_PIXELS, MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS

FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "BMP": "BMP", "GIF": "GIF"}
MAX_NAME = 40


class UploadRejected(Refused):
    """An upload refused, with the HTTP status that says why (400, 413 or 415)."""


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = MAX_UPLOAD_BYTES
    max_pixels: int = MAX_UPLOAD_PIXELS
    max_jpeg_pixels: int = MAX_JPEG_PIXELS

    def pixels_for(self, kind: str) -> int:
        return self.max_jpeg_pixels if kind == "JPEG" else self.max_pixels


def check_size(length: int | None, limits: UploadLimits) -> None:
    """Refuse a body longer than the limit (from Content-Length, before reading it)."""
    if length is not None and length > limits.max_bytes:
        raise UploadRejected(f"the upload is {length:,} bytes; the most is {_bytes(limits.max_bytes)}", 413)


def too_large(limits: UploadLimits) -> UploadRejected:
    """For a body that turned out longer than the limit while it was read (no Content-Length to check first)."""
    return UploadRejected(f"the upload is larger than the most, {_bytes(limits.max_bytes)}", 413)


def decode_upload(data: bytes, limits: UploadLimits, max_side: int = 0) -> np.ndarray:
    """Image bytes → H×W×3 uint8 RGB, or `UploadRejected`. `max_side` lets the decode shrink early (a JPEG as it decodes)."""
    check_size(len(data), limits)
    if not data:
        raise UploadRejected("the upload is empty; send the image file as the request body")
    kinds = ", ".join(FORMATS.values())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                kind, (width, height) = img.format, img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(
            f"the upload claims too many pixels; the most is {limits.max_jpeg_pixels:,}", 413
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadRejected(f"the upload is not an image ({kinds})", 415) from None
    if kind not in FORMATS:
        raise UploadRejected(f"{kind} images are not taken; send {kinds}", 415)
    most = limits.pixels_for(kind)
    if width * height > most:
        raise UploadRejected(
            f"the upload is {width}×{height} = {width * height:,} pixels; the most is {most:,} for {FORMATS[kind]}",
            413,
        )
    try:
        return decode_image(data, "the upload", max_side)
    except RealtimeError as exc:
        raise UploadRejected(str(exc), 415) from None


def display_name(given: str | None, fallback: str) -> str:
    """What the gallery shows for an upload: the file name's stem, printable characters only, kept short."""
    base = (given or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    clean = "".join(ch for ch in stem if unicodedata.category(ch)[0] not in "CZ" or ch == " ").strip()
    return clean[:MAX_NAME] or fallback


def _bytes(size: int) -> str:
    return f"{size:,}" + (f" ({size / 2**20:g} MB)" if size >= 2**20 else "")
