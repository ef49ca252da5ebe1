"""`realtime live --virtual-camera`, through pyvirtualcam's own API with its backend replaced by one that keeps
the frames: these machines have no v4l2loopback device (and no OBS), so no real virtual camera was driven."""

from __future__ import annotations

import sys
from typing import ClassVar

import cv2
import numpy as np
import pytest
from conftest import make_weights

from realtime.cli import main
from realtime.errors import RealtimeError
from realtime.live.catalog import StyleCatalog
from realtime.live.session import LiveSession
from realtime.live.settings import LiveOptions
from realtime.live.virtual_camera import VirtualCamera
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.capture import VideoCaptureSource

pyvirtualcam = pytest.importorskip("pyvirtualcam", reason="--virtual-camera needs the vcam extra")

SIZE = (160, 120)


class KeepingBackend:
    """A pyvirtualcam backend (its documented interface) that keeps what it is sent."""

    opened: ClassVar[list[KeepingBackend]] = []

    def __init__(self, *, width: int, height: int, fps: float, fourcc: int, device: str | None, **kw: object) -> None:
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self.name = device or "/dev/video7"
        self.frames: list[np.ndarray] = []
        self.closed = False
        KeepingBackend.opened.append(self)

    def send(self, frame: np.ndarray) -> None:
        self.frames.append(frame.reshape(self.height, self.width, 3).copy())

    def close(self) -> None:
        self.closed = True

    def device(self) -> str:
        return self.name

    def native_fourcc(self) -> int | None:
        return None


class NoDeviceBackend(KeepingBackend):
    def __init__(self, **kw: object) -> None:
        raise RuntimeError("No v4l2 loopback device found at /dev/video[0-99]. Did you run 'modprobe v4l2loopback'?")


@pytest.fixture
def keeping(monkeypatch):
    KeepingBackend.opened = []
    monkeypatch.setattr(pyvirtualcam.camera, "BACKENDS", {"keeping": KeepingBackend})
    return KeepingBackend.opened


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, SIZE)
    for i in range(8):
        frame = np.full((SIZE[1], SIZE[0], 3), 40 + 20 * i, np.uint8)
        cv2.rectangle(frame, (10 + 8 * i, 30), (60 + 8 * i, 90), (255, 255, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def test_the_session_sends_every_stylised_frame_without_hud_to_the_virtual_camera(keeping, clip, tmp_path):
    source = VideoCaptureSource(str(clip), drop=False)
    camera = VirtualCamera(source.width, source.height, source.fps)
    stylizer = Stylizer(make_weights(), "cpu", style_size=64)
    options = LiveOptions(working_size=160, realtime=False, output_dir=tmp_path, max_frames=5)
    catalog = StyleCatalog(stylizer.weights.bank.names())
    session = LiveSession(stylizer, source, catalog, options, sinks=[camera])
    summary = session.run()
    (backend,) = keeping
    assert summary.frames == 5 and len(backend.frames) == 5 and camera.frames == 5
    assert (backend.width, backend.height, backend.fps) == (160, 120, 10)
    assert backend.fourcc == pyvirtualcam.util.encode_fourcc(pyvirtualcam.PixelFormat.RGB.value)
    assert np.array_equal(backend.frames[-1], session.output)  # the frame a recording gets, not the HUD's
    raw = cv2.cvtColor(cv2.VideoCapture(str(clip)).read()[1], cv2.COLOR_BGR2RGB)
    assert np.abs(backend.frames[0].astype(float) - raw).mean() > 10  # stylised, not the camera
    assert backend.closed  # the session closed the camera with the source


def test_frames_of_another_size_are_resized_to_the_camera(keeping):
    camera = VirtualCamera(64, 48, 30)
    camera.send(np.zeros((96, 128, 3), np.uint8))
    camera.close()
    camera.close()
    assert keeping[0].frames[0].shape == (48, 64, 3) and keeping[0].closed


def test_cli_live_virtual_camera_gets_the_frames(keeping, clip, weights_file, capsys):
    args = ["live", "--source", str(clip), "--no-window", "--max-frames", "3", "--weights", str(weights_file)]
    assert main([*args, "--size", "128", "--virtual-camera", "/dev/video9"]) == 0
    (backend,) = keeping
    assert backend.name == "/dev/video9" and len(backend.frames) == 3 and backend.closed
    assert "sending the stylised picture to the virtual camera /dev/video9" in capsys.readouterr().err


def test_without_a_virtual_camera_device_it_is_one_line_before_the_model_loads(monkeypatch, clip, capsys):
    monkeypatch.setattr(pyvirtualcam.camera, "BACKENDS", {"v4l2loopback": NoDeviceBackend})
    monkeypatch.setattr(Stylizer, "load", lambda *a, **k: pytest.fail("the model loaded"))
    assert main(["live", "--source", str(clip), "--no-window", "--virtual-camera"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("realtime: error: --virtual-camera: no virtual camera to send to ('v4l2loopback' backend: ")
    assert "sudo modprobe v4l2loopback" in err and "OBS" in err


def test_without_pyvirtualcam_it_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)
    with pytest.raises(RealtimeError, match=r"needs pyvirtualcam: pip install 'realtime\[vcam\]'"):
        VirtualCamera(64, 48, 30)
