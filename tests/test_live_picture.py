"""What the live window shows on a CPU: the working-size picture enlarged along the photo's edges, steadied
against flicker along the motion, and built-in footage that is not blown up from small photos."""

from __future__ import annotations

from itertools import pairwise

import cv2
import numpy as np
import pytest
from conftest import make_weights

from realtime.cli import main
from realtime.imaging.upsample import guided_upsample
from realtime.live.catalog import StyleCatalog
from realtime.live.renderer import LiveRenderer
from realtime.live.session import LiveSession
from realtime.live.settings import LiveOptions
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.capture import VideoCaptureSource
from realtime.sources.sample import SampleSource
from realtime.video.writer import VideoWriter


def _edge_photo(h: int, w: int) -> np.ndarray:
    """Dark left half, light right half: one sharp vertical edge."""
    photo = np.full((h, w, 3), 40, np.uint8)
    photo[:, w // 2 :] = 210
    return photo


def _edge_width(frame: np.ndarray) -> int:
    """Columns of the middle row that are neither dark nor light: how blurred the edge is."""
    row = frame[frame.shape[0] // 2, :, 1].astype(int)
    return int(((row > 70) & (row < 180)).sum())


def test_guided_upsampling_keeps_the_photos_edge_sharp():
    photo = _edge_photo(120, 160)
    small = cv2.resize(photo, (40, 30), interpolation=cv2.INTER_AREA)
    stylized = 255 - small  # any picture made from the small frame
    guided = guided_upsample(stylized, small, photo)
    plain = cv2.resize(stylized, (160, 120), interpolation=cv2.INTER_CUBIC)
    assert guided.shape == photo.shape and guided.dtype == np.uint8
    assert _edge_width(guided) < _edge_width(plain)
    assert abs(float(guided[:, :60].mean()) - float(stylized[:, :15].mean())) < 10  # the stylised colours stay
    with pytest.raises(ValueError, match="differ in size"):
        guided_upsample(stylized, photo, photo)


def test_the_renderer_enlarges_with_the_upsampler_asked_for():
    stylizer = Stylizer(make_weights(), "cpu")
    look = stylizer.look(["style0"])
    photo = np.ascontiguousarray(np.tile(_edge_photo(120, 160), (1, 1, 1)))
    shown = {mode: LiveRenderer(stylizer, upsample=mode).render(photo, 40, look) for mode in ("bicubic", "guided")}
    assert all(frame.shape == photo.shape for frame in shown.values())
    assert np.abs(shown["bicubic"].astype(int) - shown["guided"].astype(int)).mean() > 1
    with pytest.raises(ValueError, match="unknown upsampler"):
        LiveRenderer(stylizer, upsample="nearest")


def _noisy_still_clip(path, frames: int = 8) -> None:
    """A still scene with sensor noise: whatever changes from frame to frame is flicker."""
    rng = np.random.default_rng(0)
    scene = cv2.resize(SampleSource().frame_at(0.5), (96, 72), interpolation=cv2.INTER_AREA)
    with VideoWriter(path, 10, codec="ffv1") as writer:
        for _ in range(frames):
            writer.write(np.clip(scene + rng.normal(0, 6, scene.shape), 0, 255).astype(np.uint8))


def _shown_frames(clip, stabilize: float) -> list[np.ndarray]:
    stylizer = Stylizer(make_weights(), "cpu")
    shown = []

    def keep(session: LiveSession) -> list:
        if session.output is not None and session.stats.frames > len(shown):
            shown.append(session.output.copy())
        return []

    options = LiveOptions(working_size=96, realtime=False, max_frames=8, stabilize=stabilize)
    catalog = StyleCatalog(stylizer.weights.bank.names())
    LiveSession(stylizer, VideoCaptureSource(str(clip), drop=False), catalog, options, inputs=[keep]).run()
    return shown


def test_stabilisation_steadies_the_live_picture(tmp_path):
    clip = tmp_path / "still.mkv"
    _noisy_still_clip(clip)

    def flicker(frames: list[np.ndarray]) -> float:
        return float(np.mean([np.abs(a.astype(int) - b.astype(int)).mean() for a, b in pairwise(frames)]))

    plain, steady = _shown_frames(clip, 0.0), _shown_frames(clip, 0.6)
    assert len(plain) == len(steady) >= 6
    assert flicker(steady) < 0.7 * flicker(plain)


def test_the_built_in_footage_is_not_blown_up_from_small_photos():
    source = SampleSource(drop=False)
    frame = source.frame_at(1.0)
    assert frame.shape == (480, 640, 3)  # a webcam's 4:3, which the 400–1000 px sample photos fill


def test_live_takes_the_picture_options(tmp_path, capsys, weights_file):
    clip = tmp_path / "still.mkv"
    _noisy_still_clip(clip)
    record = tmp_path / "rec.mp4"
    args = ["live", "--source", str(clip), "--no-window", "--once", "--record", str(record)]
    args += ["--weights", str(weights_file)]
    assert main([*args, "--stabilize", "--upsample", "guided", "--device", "cpu"]) == 0
    assert record.is_file()
    for bad, says in (("--upsample=nearest", "invalid choice: 'nearest'"), ("--stabilize=1.5", "below 1")):
        with pytest.raises(SystemExit) as stop:
            main([*args, bad])
        assert stop.value.code == 2 and says in capsys.readouterr().err
