"""Small generators and images made on the spot: tests need no shipped weights and no network."""

from __future__ import annotations

import contextlib
import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

import realtime.live.model_choice
import realtime.model.weights
from realtime.live.catalog import StyleCatalog
from realtime.live.session import LiveSession
from realtime.live.settings import LiveOptions
from realtime.model.msgnet import MSGNet
from realtime.model.targets import StyleBank
from realtime.model.weights import Weights, save_weights
from realtime.perceptual.vgg import VGGFeatures
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.capture import VideoCaptureSource
from realtime.video.reader import VideoReader

# ITU-R BT.601 full-range YCbCr on 0–255 RGB: the yardstick for "the photo's colours were kept".
_TO_YCBCR = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_CHROMA_OFFSET = torch.tensor([0.0, 128.0, 128.0]).view(1, 3, 1, 1)


def rgb_to_ycbcr(rgb: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", _TO_YCBCR.to(rgb), rgb) + _CHROMA_OFFSET.to(rgb)


def ycbcr_to_rgb(ycbcr: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_TO_YCBCR).to(ycbcr), ycbcr - _CHROMA_OFFSET.to(ycbcr))


def make_weights(ngf: int = 8, n_blocks: int = 1, styles: int = 2, seed: int = 0) -> Weights:
    """A tiny random generator whose outputs still vary visibly with content and style."""
    torch.manual_seed(seed)
    model = MSGNet(ngf=ngf, n_blocks=n_blocks).eval()
    model.output_conv.weight.data.mul_(64.0)
    bank = StyleBank()
    if styles:
        gen = torch.Generator().manual_seed(seed + 1)
        images = [torch.rand(1, 3, 32, 32, generator=gen) * 255 * (i + 1) / styles for i in range(styles)]
        with torch.no_grad():
            bank = StyleBank({f"style{i}": model.encode_style(img)[0] for i, img in enumerate(images)})
    return Weights(model, bank, {"test": True}, source="tests")


def tiny_vgg(widths: tuple[int, ...] = (4, 6, 8, 8), pool: str = "max") -> VGGFeatures:
    """VGG16's layer layout (relu1_1 … relu4_3) a few channels wide: the real code path at a fraction of the cost."""
    a, b, c, d = widths
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        features = torchvision.models.vgg.make_layers([a, a, "M", b, b, "M", c, c, c, "M", d, d, d])
    return VGGFeatures(features, pool)


def photo(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth gradient with a few shapes, so stylisation has structure to work on."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 / max(w - 1, 1), y * 255 / max(h - 1, 1), np.full((h, w), 128.0)], axis=2)
    img[h // 4 : h // 2, w // 4 : w // 2] = rng.integers(0, 256, 3)
    return np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)


def colourfulness(frame: np.ndarray) -> float:
    """Mean distance of an H×W×3 picture's pixels from their own grey: 0 for a grey picture."""
    pixels = frame.astype(float)
    return float(np.abs(pixels - pixels.mean(axis=2, keepdims=True)).mean())


HUGE = 16000  # a side whose square (256 MP) is far past the app's frame ceiling


def huge_jpeg(side: int = HUGE) -> bytes:
    """A 16×16 JPEG whose header claims `side`×`side`: every reader must refuse it before decoding pixels."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    at = data.index(b"\xff\xc0")  # start of frame: length, precision, then height and width
    data[at + 5 : at + 9] = struct.pack(">HH", side, side)
    return bytes(data)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture: what a decompression bomb looks like to a decoder."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def save_png(path: Path, frame: np.ndarray) -> Path:
    Image.fromarray(frame).save(path)
    return path


@pytest.fixture(scope="session")
def _generators_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generators")


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, _generators_cache: Path
) -> None:
    """Never ~/.cache. Refined style targets are cached per test, so no test sees another's; exported and
    compiled generators depend on nothing but the weights, so the session shares them (exporting the full
    model again in every test that loads it took minutes)."""
    cache = tmp_path_factory.mktemp("cache")  # beside tmp_path: tests that list tmp_path see only their own files
    for kind in ("graphs", "openvino"):
        (_generators_cache / kind).mkdir(exist_ok=True)
        (cache / kind).symlink_to(_generators_cache / kind, target_is_directory=True)
    monkeypatch.setenv("REALTIME_CACHE", str(cache))


@pytest.fixture(autouse=True)
def _cpu_without_amx(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults that follow the CPU (the model and working size `auto` picks) are the same on every test machine:
    those of a CPU without AMX, with no time to spare for a larger working size, and fast enough to paint every
    frame. Tests of those choices patch them back."""
    monkeypatch.setattr(realtime.model.weights, "cpu_has_amx", lambda: False)
    monkeypatch.setattr(realtime.live.model_choice, "FRAME_BUDGET_MS", 0.0)
    monkeypatch.setattr(realtime.live.model_choice, "KEYFRAME_MAX_MS", 0.0)


@pytest.fixture
def weights() -> Weights:
    return make_weights()


@pytest.fixture
def weights_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.safetensors"
    save_weights(make_weights(), path)
    return path


@pytest.fixture
def style_images(tmp_path: Path) -> tuple[Path, Path]:
    """Two clearly different style pictures: fine stripes in warm colours, blotches in cool ones."""
    y, x = np.mgrid[0:64, 0:64]
    stripes = np.stack([(np.sin(x / 1.5) > 0) * 255, (np.sin(y / 1.5) > 0) * 120, np.full_like(x, 30)], 2)
    rng = np.random.default_rng(5)
    blotches = np.kron(rng.integers(0, 256, (8, 8, 1)), np.ones((8, 8, 1))) * np.array([0.2, 0.6, 1.0])
    return (
        save_png(tmp_path / "stripes.png", stripes.astype(np.uint8)),
        save_png(tmp_path / "blotches.png", blotches.astype(np.uint8)),
    )


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    return save_png(tmp_path / "photo.png", photo(45, 61))


# Live sessions (tests/test_live_*.py) -----------------------------------------------------------------

CLIP_FPS = 10
CLIP_FRAMES = 12
CLIP_SIZE = (160, 120)


def clip_frame(i: int) -> np.ndarray:
    """Frame `i` of the `clip` fixture (RGB): a gradient whose blue steps each frame, with a white box moving right."""
    w, h = CLIP_SIZE
    y, x = np.mgrid[0:h, 0:w]
    frame = np.stack([x * 255 // w, y * 255 // h, np.full_like(x, (i * 10) % 256)], axis=2).astype(np.uint8)
    cv2.rectangle(frame, (10 + 8 * i, 30), (40 + 8 * i, 70), (255, 255, 255), -1)
    return frame


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A CLIP_FRAMES-frame, CLIP_FPS video file of `clip_frame`s. (test_serve, test_video and test_virtual_camera
    have a `clip` of their own, which wins there.)"""
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), CLIP_FPS, CLIP_SIZE)
    for i in range(CLIP_FRAMES):
        writer.write(cv2.cvtColor(clip_frame(i), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def styles_folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A --styles folder holding `files` (name → bytes; broken ones too)."""
    folder = tmp_path / "paintings"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def frames_in(path: Path) -> list[np.ndarray]:
    with VideoReader(path) as reader:
        return [f.image for f in reader]


@pytest.fixture
def open_session(tmp_path: Path):
    """Opens live sessions on the CPU that save into tmp_path; every one it opened is closed at teardown (closing
    is safe to repeat, so a test may also `run()` one to its end). `open_session(source, folder=, start=,
    inputs=, snapshot=, **LiveOptions)`."""
    opened = contextlib.ExitStack()

    def open_(source, *, folder=None, start=(), inputs=(), snapshot=None, **options) -> LiveSession:
        stylizer = Stylizer(make_weights(), "cpu", style_size=64)
        catalog = StyleCatalog(stylizer.weights.bank.names(), folder, start)
        # Unsteadied: these tests compare each shown frame with its own photo (steadying: test_live_picture.py).
        defaults = {"working_size": 160, "realtime": False, "output_dir": tmp_path, "stabilize": 0.0}
        opts = LiveOptions(**{**defaults, **options})
        extra = {"snapshot": snapshot} if snapshot else {}
        session = LiveSession(stylizer, source, catalog, opts, inputs=inputs, **extra)
        opened.callback(session.close)
        return session

    with opened:  # closes them all, the last opened first, even if one fails to close
        yield open_


@pytest.fixture
def session(clip: Path, open_session) -> LiveSession:
    """A live session playing `clip` without dropping frames."""
    return open_session(VideoCaptureSource(str(clip), drop=False))
