"""Stills in and out: whatever a user hands us becomes a uint8 RGB frame; outputs are written atomically.

Pillow decodes (it reports truncated JPEGs, which OpenCV silently grey-fills, and applies EXIF
rotation); modes are normalised here so the rest of the app only ever sees H×W×3 uint8 RGB.
"""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from realtime.atomic import atomic_output, check_output_folder
from realtime.errors import RealtimeError
from realtime.imaging.limits import MAX_FRAME_PIXELS, check_frame_size

# Pillow warns from 89 MP; this app takes pictures up to its own cap (`imaging/limits.py`) and refuses the
# rest in one line, so the warning is only noise. Set once here: `catch_warnings` is not thread-safe, and
# pictures decode on worker threads.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

STDIO = "-"
SAMPLE_PREFIX = "sample:"
# scikit-image bundles these public-domain photos in its wheel, so they load without a network.
SAMPLES = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "retina")
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
# Long side stills are downscaled to by default: most of a photo's detail, at a bounded cost in time and memory.
DEFAULT_IMAGE_SIZE = 1024
# JPEG and WebP quality of written images unless asked otherwise: high, since outputs are often compared closely.
DEFAULT_QUALITY = 95


def read_image(source: str | Path, max_side: int = 0) -> np.ndarray:
    """Decode a path, `-` (stdin) or `sample:NAME` into an H×W×3 uint8 RGB frame.

    `max_side` lets JPEG decoding skip resolution that would be thrown away (huge photos); the
    result stays larger than `max_side` whenever the original is, so callers can tell and resize exactly.
    """
    text = str(source)
    if text == STDIO:
        return _decode(io.BytesIO(sys.stdin.buffer.read()), "standard input", max_side)
    if text.startswith(SAMPLE_PREFIX):
        return sample_image(text[len(SAMPLE_PREFIX) :])
    path = Path(text)
    if not path.exists():
        raise RealtimeError(f"no such file: {path}")
    if path.is_dir():
        raise RealtimeError(f"expected an image file, got a folder: {path}")
    try:
        with path.open("rb") as stream:
            return _decode(stream, str(path), max_side)
    except PermissionError:
        raise RealtimeError(f"cannot read {path}: permission denied") from None


def decode_image(data: bytes, name: str, max_side: int = 0) -> np.ndarray:
    """Decode image bytes already in memory (an upload) like `read_image` decodes a file; `name` is for messages."""
    return _decode(io.BytesIO(data), name, max_side)


def image_files(folder: str | Path, what: str, recursive: bool = False) -> list[Path]:
    """The image files inside `folder`, sorted by name; a missing or empty folder is an error.

    `recursive` walks subfolders too (a dataset's class folders), skipping hidden files and folders: they
    hold other tools' bookkeeping (`.DS_Store`, `._x.jpg`) and our own temporary files, never images.
    """
    path = Path(folder)
    if not path.is_dir():
        raise RealtimeError(f"{what} folder not found: {folder}")
    if recursive:
        found = (p for p in path.rglob("*") if not any(part.startswith(".") for part in p.relative_to(path).parts))
    else:
        found = path.iterdir()
    files = sorted(p for p in found if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise RealtimeError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in the {what} folder {folder}")
    return files


def is_image_source(source: str) -> bool:
    """A style given as an image (a file or a bundled sample), not as a built-in style's name."""
    return source.startswith(SAMPLE_PREFIX) or Path(source).is_file()


def sample_image(name: str) -> np.ndarray:
    """One of scikit-image's bundled sample photos, as an RGB frame."""
    if name not in SAMPLES:
        raise RealtimeError(f"unknown sample '{name}'; samples: {', '.join(SAMPLES)}")
    try:
        from skimage import data
    except ImportError:
        raise RealtimeError("sample images need scikit-image: pip install scikit-image") from None
    pixels = np.asarray(getattr(data, name)())
    return _to_rgb8(Image.fromarray(pixels))


def still_image_format(path: str | Path) -> str | None:
    """The format of a file that holds one picture (JPEG, PNG, …) whatever its name, else None: FFmpeg and
    OpenCV open a lone picture renamed .mp4 as a one-frame video, which a user almost never means."""
    try:
        with Image.open(path) as picture:
            return None if getattr(picture, "is_animated", False) else picture.format
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def _decode(stream: BinaryIO, name: str, max_side: int) -> np.ndarray:
    try:
        with Image.open(stream) as img:
            check_frame_size(img.height, img.width, name)
            if max_side > 0:
                img.draft("RGB", (max_side + 1, max_side + 1))
            img.load()
            return _to_rgb8(ImageOps.exif_transpose(_reduce(img, max_side)))
    except Image.DecompressionBombError:  # Pillow's own cap sits above ours: past it is past ours too
        raise RealtimeError(f"{name} has over {MAX_FRAME_PIXELS / 1e6:.0f} MP, the most this app takes") from None
    except UnidentifiedImageError:
        raise RealtimeError(f"{name} is not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise RealtimeError(f"cannot decode {name}: {exc}") from None


def _reduce(img: Image.Image, max_side: int) -> Image.Image:
    """Shrink by the largest whole factor that keeps the long side above `max_side` (so callers still see that
    the picture was larger): the formats with no reduced decoding (PNG, WebP, …) then pay their mode
    conversions near the size that will be used."""
    factor = max(img.size) // (max_side + 1) if max_side > 0 else 1
    if factor < 2 or img.mode in ("P", "1"):  # a palette cannot be averaged; these are converted first anyway
        return img
    try:
        return img.reduce(factor)
    except ValueError:  # modes Pillow cannot reduce (16-bit greys) are converted at full size
        return img


def _to_rgb8(img: Image.Image) -> np.ndarray:
    """Any Pillow mode → RGB uint8: 16-bit scaled (not clipped), float 0–1 scaled, transparency composited on white.

    "I;16*" is 16-bit by definition, so a dark 16-bit picture stays dark. "I" (32-bit) says nothing about
    the range: values above 255 are taken as 16-bit. Float pictures in 0–1 (the common convention for
    float TIFFs) are scaled; others are taken as 0–255.
    """
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(img, dtype=np.float64)
        if img.mode.startswith("I;16") or (img.mode == "I" and values.max(initial=0) > 255):
            values = values / 257.0
        elif img.mode == "F" and values.max(initial=0) <= 1.0:
            values = values * 255.0
        gray = np.clip(values, 0, 255).round().astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def check_output_path(path: str | Path) -> None:
    """Fail before any work when an output could not be written (unknown format, missing folder)."""
    if str(path) == STDIO:
        return
    target = Path(path)
    if target.suffix.lower() not in IMAGE_SUFFIXES:
        raise RealtimeError(
            f"cannot tell the image format of {target} from its extension; use one of "
            + ", ".join(sorted(IMAGE_SUFFIXES))
        )
    check_output_folder(target)
    if target.is_dir():
        raise RealtimeError(f"output is a folder, expected a file name: {target}")


def write_image(frame: np.ndarray, path: str | Path, quality: int = DEFAULT_QUALITY) -> None:
    """Save an RGB frame; `-` writes PNG bytes to stdout. The file appears only once complete.

    `quality` (1–100) applies to JPEG and WebP; other formats are lossless.
    """
    img = Image.fromarray(frame)
    if str(path) == STDIO:
        if sys.stdout is None:
            raise RealtimeError("standard output is closed; give -o a file name")
        buffer = io.BytesIO()
        img.save(buffer, format="PNG")
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.buffer.flush()
        return
    check_output_path(path)
    target = Path(path)
    fmt = Image.registered_extensions()[target.suffix.lower()]
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    with atomic_output(target) as tmp:
        try:
            img.save(tmp, format=fmt, **options)
        except OSError as exc:
            raise RealtimeError(f"cannot write {target}: {exc}") from None
