"""The live loop on a generated video file: hotkeys, recording, faults, and the capture that drops frames.

Sessions run offline (`realtime=False`): the source is lossless and times come from the clip's own
timeline, so every assertion is deterministic; the real-time path is covered through the CLI.
"""

from __future__ import annotations

import os
import signal
import time

import cv2
import numpy as np
import pytest
import torch
from conftest import make_weights, photo

from realtime.cli import main
from realtime.errors import RealtimeError
from realtime.imaging.frames import FrameTransfer
from realtime.live.hud import HudInfo, draw_hud
from realtime.live.keys import HOTKEYS, Action, Pick, action_for_key
from realtime.live.session import LiveSession
from realtime.live.settings import LiveOptions
from realtime.live.status import hud_info
from realtime.live.styles import StyleCatalog
from realtime.live.window import check_display, display_problem
from realtime.model.styles import StyleSpec
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.capture import Frame, LatestFrame, SourceEnded, VideoCaptureSource
from realtime.sources.sample import SampleSource
from realtime.video.reader import VideoReader
from realtime.video.writer import VideoWriter

CLIP_FPS = 10
CLIP_FRAMES = 12
CLIP_SIZE = (160, 120)


def _clip_frame(i: int) -> np.ndarray:
    w, h = CLIP_SIZE
    y, x = np.mgrid[0:h, 0:w]
    frame = np.stack([x * 255 // w, y * 255 // h, np.full_like(x, (i * 10) % 256)], axis=2).astype(np.uint8)
    cv2.rectangle(frame, (10 + 8 * i, 30), (40 + 8 * i, 70), (255, 255, 255), -1)
    return frame


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), CLIP_FPS, CLIP_SIZE)
    for i in range(CLIP_FRAMES):
        writer.write(cv2.cvtColor(_clip_frame(i), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def _paintings(tmp_path, files: dict[str, bytes]):
    """A --styles folder holding `files` (name → bytes; broken ones too)."""
    folder = tmp_path / "paintings"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def _session(source, tmp_path, *, folder=None, start=(), inputs=(), snapshot=None, **options):
    stylizer = Stylizer(make_weights(), "cpu", style_size=64)
    catalog = StyleCatalog(stylizer.weights.bank.names(), folder, start)
    # Unsteadied: these tests compare each shown frame with its own photo (steadying: test_live_picture.py).
    opts = LiveOptions(**{"working_size": 160, "realtime": False, "output_dir": tmp_path, "stabilize": 0.0, **options})
    extra = {"snapshot": snapshot} if snapshot else {}
    return LiveSession(stylizer, source, catalog, opts, inputs=inputs, **extra)


@pytest.fixture
def session(clip, tmp_path):
    s = _session(VideoCaptureSource(str(clip), drop=False), tmp_path)
    yield s
    s.close()


def _frames_in(path):
    with VideoReader(path) as reader:
        return [f.image for f in reader]


# Keys ---------------------------------------------------------------------------------------------


def test_keys_map_to_actions_on_every_gui_backend():
    for right in (0x1000014, 0xFF53, 0x270000, ord("n"), ord("N")):
        assert action_for_key(right) is Action.NEXT
    for left in (0x1000012, 0xFF51, 0x250000, ord("p")):
        assert action_for_key(left) is Action.PREVIOUS
    assert action_for_key(ord("1")) == Pick(0) and action_for_key(ord("0")) == Pick(9)
    assert action_for_key(27) is Action.QUIT and action_for_key(ord("q")) is Action.QUIT
    assert action_for_key(ord(" ")) is Action.PAUSE
    assert action_for_key(ord("]")) is Action.SIZE_UP and action_for_key(ord("[")) is Action.SIZE_DOWN
    assert action_for_key(ord(".")) is Action.STROKE_UP and action_for_key(ord(",")) is Action.STROKE_DOWN
    assert action_for_key(ord("x")) is None
    assert len(HOTKEYS) == 14 and all(k.isascii() and t.isascii() for k, t in HOTKEYS)


# Styles -------------------------------------------------------------------------------------------


def test_next_previous_and_pick_switch_targets(session):
    bank = session.stylizer.styles.bank
    session.step()
    first = session.output.copy()
    session.handle(Action.NEXT)
    session.step()
    assert session.switcher.index == 1 and torch.equal(session.stylizer.target, bank["style1"])
    assert np.abs(session.output.astype(float) - first).mean() > 1
    session.handle(Action.NEXT)  # wraps around
    assert session.switcher.index == 0 and torch.equal(session.stylizer.target, bank["style0"])
    session.handle(Action.PREVIOUS)
    assert session.switcher.index == 1
    session.handle(Pick(0))
    assert session.switcher.index == 0
    session.handle(Pick(6))
    assert session.switcher.index == 0
    assert any("no style 7" in text for text in session.messages.recent)


def test_morph_interpolates_to_the_next_target_over_its_duration(clip, tmp_path):
    s = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, morph_seconds=0.4)  # 4 frames of the clip
    try:
        start, end = s.stylizer.styles.bank["style0"], s.stylizer.styles.bank["style1"]
        s.step()
        s.handle(Action.MORPH)
        assert s.switcher.index == 1
        s.step()  # the morph starts on this frame
        assert torch.allclose(s.stylizer.target, start)
        s.step()
        s.step()
        assert torch.allclose(s.stylizer.target, (start + end) / 2, atol=1e-6)
        assert hud_info(s).style.endswith("(morphing)")
        s.step()
        s.step()
        assert torch.equal(s.stylizer.target, end) and not s.switcher.morphing
    finally:
        s.close()


def test_a_style_pictures_palette_follows_the_picture_and_fades_out_in_a_morph(clip, tmp_path, style_images):
    source = VideoCaptureSource(str(clip), drop=False)
    s = _session(source, tmp_path, start=[StyleSpec(str(style_images[0]))], morph_seconds=0.4)
    try:
        s.step()
        picture = s.stylizer.palette
        assert picture is not None and picture.amount == 1.0
        s.handle(Action.MORPH)  # on to a built-in style, whose colours are the generator's own
        s.step()
        s.step()
        s.step()
        halfway = s.stylizer.palette
        assert halfway is not None and halfway.amount == pytest.approx(0.5)
        assert np.allclose(halfway.mean, picture.mean)
        s.step()
        s.step()
        assert s.stylizer.palette is None and not s.switcher.morphing
    finally:
        s.close()


def test_the_styles_folder_is_rescanned_when_switching(clip, tmp_path, style_images):
    folder = _paintings(tmp_path, {"a.png": style_images[0].read_bytes()})
    s = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, folder=folder, start=[])
    try:
        assert [e.name for e in s.switcher.catalog.entries] == ["style0", "style1", "a"]
        (folder / "b.png").write_bytes(style_images[1].read_bytes())
        (folder / ".b.part.png").write_bytes(b"half-written")
        s.handle(Pick(1))
        assert [e.name for e in s.switcher.catalog.entries] == ["style0", "style1", "a", "b"]
        assert any("1 new style" in text for text in s.messages.recent)
        s.handle(Pick(3))
        s.step()
        expected = s.stylizer.styles.target(str(folder / "b.png"))
        assert s.switcher.index == 3 and torch.equal(s.stylizer.target, expected)
        assert s.switcher.preview is not None and max(s.switcher.preview.shape[:2]) <= 112
    finally:
        s.close()


def test_a_broken_style_image_is_reported_and_the_style_kept(clip, tmp_path, style_images):
    folder = _paintings(tmp_path, {"broken.png": b"not a png"})
    s = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, folder=folder)
    try:
        s.step()
        before = s.stylizer.target
        s.handle(Pick(2))
        assert s.switcher.index == 0 and s.stylizer.target is before
        assert any("broken.png" in text for text in s.messages.recent)
    finally:
        s.close()


def test_next_and_previous_skip_styles_that_fail(clip, tmp_path, style_images):
    folder = _paintings(
        tmp_path, {"a.png": style_images[0].read_bytes(), "b.png": b"not a png", "c.png": style_images[1].read_bytes()}
    )
    s = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, folder=folder)
    try:
        s.handle(Pick(2))
        indices = []
        for action in (Action.NEXT, Action.NEXT, Action.PREVIOUS, Action.PREVIOUS):
            s.handle(action)
            indices.append(s.switcher.index)
        assert indices == [4, 0, 4, 2] and s.switcher.applied.name == "a"
        assert sum("b.png" in text for text in s.messages.recent) == 1
    finally:
        s.close()


def test_a_style_that_failed_is_retried_once_its_file_changes(clip, tmp_path, style_images):
    folder = _paintings(tmp_path, {"b.png": b"half-cop"})
    s = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, folder=folder)
    try:
        s.handle(Pick(2))
        assert s.switcher.index == 0
        (folder / "b.png").write_bytes(style_images[1].read_bytes())  # the copy completes
        s.handle(Pick(2))
        assert s.switcher.index == 2
        assert torch.equal(s.stylizer.target, s.stylizer.styles.target(str(folder / "b.png")))
    finally:
        s.close()


def test_a_removed_styles_folder_keeps_the_known_styles(clip, tmp_path, style_images):
    folder = _paintings(tmp_path, {"a.png": style_images[0].read_bytes()})
    s = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, folder=folder)
    try:
        s.step()
        folder.rename(tmp_path / "moved")
        s.handle(Action.NEXT)
        assert s.switcher.index == 1 and [e.name for e in s.switcher.catalog.entries] == ["style0", "style1", "a"]
        assert any("cannot read styles folder" in text for text in s.messages.recent)
        assert s.step()
    finally:
        s.close()


def test_start_style_can_be_a_blend_outside_the_list(clip, tmp_path, style_images):
    from realtime.model.styles import StyleSpec

    specs = [StyleSpec(str(style_images[0]), 0.5), StyleSpec("style1", 0.5)]
    s = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, start=specs)
    try:
        assert s.switcher.catalog[0].name == "stripes 50% + style1 50%" and s.switcher.index == 0
        assert torch.allclose(s.stylizer.target, s.stylizer.styles.blend(specs))
    finally:
        s.close()


# Picture controls ---------------------------------------------------------------------------------


def test_strength_keys_step_and_clamp(session):
    for _ in range(3):
        session.handle(Action.STRENGTH_DOWN)
    assert session.state.strength == pytest.approx(0.7) and session.stylizer.strength == pytest.approx(0.7)
    for _ in range(20):
        session.handle(Action.STRENGTH_DOWN)
    assert session.stylizer.strength == 0.0
    session.step()
    assert np.array_equal(session.output, session.frame.image)  # strength 0 shows the photo
    session.handle(Action.STRENGTH_UP)
    assert session.stylizer.strength == pytest.approx(0.1)


def test_stroke_keys_step_and_say_what_the_working_size_paints(session):
    session.sizes.chosen = 128
    session.step()
    session.handle(Action.STROKE_UP)
    assert session.state.stroke == pytest.approx(1.25) and session.stylizer.stroke == pytest.approx(1.25)
    # a 128 px working frame is painted at its own size: strokes 4 times those of a 512 px picture
    assert any(text == "strokes 1.25 (painted 4.0 at working size 128)" for text in session.messages.recent)
    for _ in range(20):
        session.handle(Action.STROKE_UP)
    assert session.stylizer.stroke == 4.0
    assert any(text == "strokes 4" for text in session.messages.recent)
    for _ in range(20):
        session.handle(Action.STROKE_DOWN)
    assert session.stylizer.stroke == 0.0


def test_resolution_keys_change_the_working_size_not_the_display(session):
    session.sizes.chosen = 128
    session.step()
    assert session.renderer.working_resolution == (128, 96) and session.output.shape == (120, 160, 3)
    session.handle(Action.SIZE_UP)
    session.step()
    assert session.renderer.working_resolution == (160, 120) and session.output.shape == (120, 160, 3)
    session.handle(Action.SIZE_UP)
    assert session.sizes.current == 160
    assert any("already at the display size" in text for text in session.messages.recent)
    session.handle(Action.SIZE_DOWN)
    session.handle(Action.SIZE_DOWN)
    assert session.sizes.current == 128
    assert any("smallest" in text for text in session.messages.recent)


def test_mirror_flips_the_picture(session):
    session.stylizer.strength = 0.0
    session.step()
    photo = session.frame.image
    session.handle(Action.MIRROR)
    session.state.paused = True  # re-render the same frame
    session.step()
    assert np.array_equal(session.output, photo[:, ::-1])


def test_compare_shows_the_photo_left_and_the_stylisation_right(session):
    session.state.paused = False
    session.step()
    photo, stylized = session.frame.image, session.output.copy()
    session.handle(Action.COMPARE)
    session.state.paused = True
    session.step()
    out, half = session.output, CLIP_SIZE[0] // 2
    assert np.array_equal(out[:, : half - 1], photo[:, : half - 1])
    assert np.array_equal(out[:, half + 1 :], stylized[:, half + 1 :])
    assert (out[:, half - 1 : half + 1] == 255).all()
    assert not np.array_equal(photo[:, half + 1 :], stylized[:, half + 1 :])


def test_pause_holds_the_frame_and_space_resumes(session):
    session.step()
    held = session.frame.index
    session.handle(Action.PAUSE)
    for _ in range(3):
        session.step()
    assert session.frame.index == held and session.stats.frames == 1
    session.handle(Action.STRENGTH_DOWN)  # settings still apply to the held frame
    session.step()
    session.handle(Action.PAUSE)
    session.step()
    assert session.frame.index == held + 1 and session.stats.frames == 2


def test_hud_cycles_through_help_and_off(session):
    modes = []
    for _ in range(3):
        session.handle(Action.HUD)
        modes.append(session.state.hud)
    assert modes == ["help", "off", "on"]


def test_out_of_memory_drops_the_working_size_and_goes_on(session, monkeypatch):
    real = session.stylizer.stylize_frames

    def limited(frames, target=None):
        if frames.shape[2] > 128:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(frames, target)

    monkeypatch.setattr(session.stylizer, "stylize_frames", limited)
    session.step()
    assert session.sizes.chosen == 128 and session.renderer.working_resolution == (128, 96)
    assert session.output.shape == (120, 160, 3)
    assert any("out of GPU memory" in text for text in session.messages.recent)


# The loop, recording and snapshots ----------------------------------------------------------------


def test_headless_loop_stops_at_max_frames_and_records_them(clip, tmp_path):
    out = tmp_path / "rec.mp4"
    s = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, max_frames=7, record=out)
    summary = s.run()
    assert summary.frames == 7 and "max-frames" in summary.stop_reason
    frames = _frames_in(out)
    assert len(frames) == 7 and frames[0].shape == (120, 160, 3)
    with VideoReader(out) as reader:
        assert [round(f.time, 3) for f in reader] == [round(i / CLIP_FPS, 3) for i in range(7)]


def test_video_file_loops_and_stops_at_its_end_with_once(clip, tmp_path):
    looping = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, max_frames=CLIP_FRAMES + 2)
    assert looping.run().frames == CLIP_FRAMES + 2
    once = _session(VideoCaptureSource(str(clip), drop=False, loop=False), tmp_path)
    summary = once.run()
    assert summary.frames == CLIP_FRAMES and summary.stop_reason.startswith("end of")


@pytest.mark.parametrize("name", ["one-frame.mp4", "still.png"])
def test_files_that_do_not_seek_back_still_loop(name, tmp_path):
    path = tmp_path / name
    if name.endswith(".png"):
        cv2.imwrite(str(path), _clip_frame(0))
    else:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), CLIP_FPS, CLIP_SIZE)
        writer.write(_clip_frame(0))
        writer.release()
    summary = _session(VideoCaptureSource(str(path), drop=False), tmp_path, max_frames=3).run()
    assert summary.frames == 3 and "max-frames" in summary.stop_reason


def test_the_generator_warms_up_before_the_source_plays(clip, tmp_path):
    """The first call (an ONNX export, a CUDA compile) comes before playback and is not a frame's time."""
    s = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, max_frames=3)
    real, source_started = s.stylizer.stylize_frames, []

    def noting_call(frames, target=None):
        source_started.append(s.source.started)
        return real(frames, target)

    s.stylizer.stylize_frames = noting_call
    summary = s.run()
    assert summary.frames == 3 and source_started == [False, True, True, True]
    assert len(s.stats.generator_times) == 3  # the warm-up is not in the generator's mean


def test_quit_key_ends_the_run(clip, tmp_path):
    def press_q(s):
        return [action_for_key(ord("q"))] if s.stats.frames == 3 else []

    summary = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, inputs=[press_q]).run()
    assert summary.frames == 3 and summary.stop_reason == "quit"


def test_record_key_starts_and_stops_a_recording(clip, tmp_path):
    def keys(s):
        return {1: [Action.RECORD], 5: [Action.RECORD], 6: [Action.QUIT]}.get(s.stats.frames, [])

    summary = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, inputs=[keys]).run()
    [recording] = summary.recordings
    assert recording.path.parent == tmp_path and recording.path.name.startswith("recording-")
    assert recording.frames == 4 and len(_frames_in(recording.path)) == 4


def test_ctrl_c_finalises_the_recording(clip, tmp_path):
    def interrupt(s):
        if s.stats.frames == 4:
            raise KeyboardInterrupt
        return []

    out = tmp_path / "rec.mkv"
    summary = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, inputs=[interrupt], record=out).run()
    assert summary.stop_reason == "interrupted" and len(_frames_in(out)) == 4
    assert list(tmp_path.glob(".*part*")) == []


def test_snapshot_saves_the_stylised_frame(session, tmp_path):
    session.handle(Action.COMPARE)
    session.step()
    session.handle(Action.SNAPSHOT)
    [png] = tmp_path.glob("snapshot-style0-*.png")
    saved = cv2.cvtColor(cv2.imread(str(png)), cv2.COLOR_BGR2RGB)
    assert np.array_equal(saved, session.renderer.snapshot()[1])  # the stylisation, not the split view
    assert "saved snapshot" in session.snapshots.status.read()[0]


def test_a_snapshot_hook_gets_the_photo_and_reports_progress(clip, tmp_path):
    seen = []

    def hook(request, status):
        seen.append(request)
        status.update("rendering full quality", 0.25)

    s = _session(VideoCaptureSource(str(clip), drop=False), tmp_path, snapshot=hook)
    try:
        s.step()
        s.handle(Action.SNAPSHOT)
        [request] = seen
        assert np.array_equal(request.photo, s.frame.image) and request.style_name == "style0"
        assert request.folder == tmp_path
        assert hud_info(s).progress == ("rendering full quality", 0.25)
    finally:
        s.close()


# Sources ------------------------------------------------------------------------------------------


def _frame(i):
    return Frame(np.full((2, 2, 3), i, np.uint8), i, i / 30, 0.0)


def test_mailbox_keeps_only_the_newest_frame():
    box = LatestFrame()
    for i in range(3):
        box.put(_frame(i))
    assert box.take(0).index == 2 and box.dropped == 2
    assert box.take(0) is None
    box.put(_frame(3))
    box.end("gone")
    assert box.take(0).index == 3  # an unread frame is still delivered
    with pytest.raises(SourceEnded, match=r"gone"):
        box.take(0)


class FakeCamera:
    """Stands in for cv2.VideoCapture on a camera: `frames` pictures, then the device is gone."""

    def __init__(self, frames, opens=True):
        self.left, self.opens = frames, opens

    def isOpened(self):
        return self.opens

    def read(self):
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.full((48, 64, 3), 10 * self.left, np.uint8)

    def set(self, *args):
        return True

    def get(self, prop):
        return 30.0

    def release(self):
        self.left = 0


def _cameras(*counts):
    """An `open_capture` whose successive opens give cameras with these frame counts, then none."""
    made = iter(counts)

    def open_capture(*args):
        count = next(made, None)
        return FakeCamera(count) if count is not None else FakeCamera(0, opens=False)

    return open_capture


def test_capture_thread_drops_frames_a_slow_reader_missed():
    source = VideoCaptureSource(0, open_capture=_cameras(10), reconnect_s=0)
    source.start()
    deadline = time.monotonic() + 10
    while source.dropped < 9 and time.monotonic() < deadline:  # the camera's 10 frames, none read yet
        time.sleep(0.01)
    frame = source.read(0)
    assert frame.index == 9 and source.dropped == 9
    with pytest.raises(SourceEnded, match=r"camera 0 was lost"):
        source.read(10)
    source.close()


def test_camera_that_comes_back_within_the_window_keeps_playing():
    source = VideoCaptureSource(0, open_capture=_cameras(3, 3), reconnect_s=0.6, drop=False)
    indices = []
    with pytest.raises(SourceEnded, match=r"did not come back within 0.6 s"):
        while True:
            indices.append(source.read(5).index)
    assert indices == list(range(6)) and source.status == "lost"
    source.close()


def test_lost_camera_ends_the_run_and_finalises_the_recording(tmp_path):
    source = VideoCaptureSource(0, open_capture=_cameras(5), reconnect_s=0, drop=False)
    out = tmp_path / "rec.mp4"
    summary = _session(source, tmp_path, record=out).run()
    assert "camera 0 was lost" in summary.stop_reason and summary.frames == 5
    assert len(_frames_in(out)) == 5


def test_sample_source_is_moving_footage():
    source = SampleSource(size=(96, 54), drop=False)
    try:
        frames = [source.read(5) for _ in range(3)]
        assert [f.index for f in frames] == [0, 1, 2] and frames[2].time_s == pytest.approx(2 / 30)
        assert frames[0].image.shape == (54, 96, 3) and frames[0].image.dtype == np.uint8
        assert np.array_equal(source.frame_at(1.0), source.frame_at(1.0))
        assert np.abs(source.frame_at(0.0).astype(float) - source.frame_at(2.0)).mean() > 3
    finally:
        source.close()


# The HUD and the window -------------------------------------------------------------------------


def _hud(**changes):
    info = HudInfo(
        style="1/2 style0",
        strength=1.0,
        stroke=1.6,
        working_resolution=(320, 240),
        fps=12.0,
        generator_ms=30.0,
        latency_ms=50.0,
        device="cpu",
        hotkeys=HOTKEYS,
    )
    for key, value in changes.items():
        setattr(info, key, value)
    return info


def test_hud_modes_draw_what_they_promise():
    def drawn(info):
        frame = np.full((360, 640, 3), 90, np.uint8)
        draw_hud(frame, info)
        return frame

    blank = np.full((360, 640, 3), 90, np.uint8)
    assert np.array_equal(drawn(_hud(mode="off")), blank)
    on, helped = drawn(_hud()), drawn(_hud(mode="help"))
    assert (on != blank).any() and (helped != on).sum() > 1000
    recording = drawn(_hud(mode="off", recording_s=12.0))
    assert ((recording[..., 0] > 200) & (recording[..., 1] < 80)).any()  # the red REC mark
    preview = np.zeros((40, 30, 3), np.uint8)
    assert (drawn(_hud(preview=preview)) == 0).all(axis=2).sum() >= 40 * 30


def test_no_display_is_reported_with_the_no_window_hint(monkeypatch):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    assert display_problem() == "DISPLAY is not set"
    with pytest.raises(RealtimeError, match=r"--no-window"):
        check_display()
    monkeypatch.setenv("DISPLAY", ":987")
    assert "cannot reach" in display_problem()


# Device transfers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "device",
    ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"))],
)
def test_frame_transfer_round_trips(device):
    transfer = FrameTransfer(device)
    frames = [_clip_frame(i) for i in range(3)]
    for frame in frames:
        tensor = transfer.upload(frame)
        assert tensor.shape == (1, 3, 120, 160) and tensor.device.type == device
        assert np.array_equal(transfer.download(tensor), frame)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_session_on_cuda_matches_cpu(clip, tmp_path):
    outputs = {}
    for device in ("cpu", "cuda"):
        stylizer = Stylizer(make_weights(), device, style_size=64)
        catalog = StyleCatalog(stylizer.weights.bank.names())
        options = LiveOptions(working_size=128, realtime=False, output_dir=tmp_path, compare=True, mirror=True)
        s = LiveSession(stylizer, VideoCaptureSource(str(clip), drop=False), catalog, options)
        try:
            for _ in range(3):
                s.step()
            outputs[device] = s.output.copy()
            assert s.renderer.generator_ms > 0
        finally:
            s.close()
    assert np.abs(outputs["cpu"].astype(int) - outputs["cuda"]).max() <= 3


# The command line --------------------------------------------------------------------------------


def test_cli_live_headless_records_n_frames(clip, tmp_path, weights_file, capsys):
    out = tmp_path / "live.mp4"
    code = main(
        [
            "live",
            "--source",
            str(clip),
            "--no-window",
            "--max-frames",
            "5",
            "--record",
            str(out),
            "--weights",
            str(weights_file),
            "--size",
            "128",
            "--style",
            "style1",
        ]
    )
    assert code == 0
    assert len(_frames_in(out)) == 5
    err = capsys.readouterr().err
    assert "5 frames" in err and f"saved recording {out}" in err


def test_cli_live_refuses_to_record_over_its_source(clip, weights_file, capsys):
    before = clip.read_bytes()
    code = main(
        [
            "live",
            "--source",
            str(clip),
            "--no-window",
            "--max-frames",
            "5",
            "--size",
            "64",
            "--record",
            str(clip),
            "--weights",
            str(weights_file),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "would replace the --source file" in err and len(err.strip().splitlines()) == 1
    assert clip.read_bytes() == before


def test_cli_live_exits_2_when_the_recording_fails(clip, tmp_path, weights_file, capsys, monkeypatch):
    def disk_full(self, frame, time_s=None):
        raise RealtimeError(f"cannot write {self.path}: No space left on device")

    monkeypatch.setattr(VideoWriter, "write", disk_full)
    code = main(
        [
            "live",
            "--source",
            str(clip),
            "--no-window",
            "--max-frames",
            "3",
            "--size",
            "64",
            "--record",
            str(tmp_path / "full.mp4"),
            "--weights",
            str(weights_file),
        ]
    )
    assert code == 2 and "error: cannot write" in capsys.readouterr().err


def test_cli_live_sigterm_finalises_the_recording_and_exits_143(clip, tmp_path, weights_file, capsys, monkeypatch):
    original = LiveSession.step
    steps = []

    def terminated_at_the_third_step(self):
        steps.append(1)
        if len(steps) == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self)

    monkeypatch.setattr(LiveSession, "step", terminated_at_the_third_step)
    record = tmp_path / "rec.mp4"
    code = main(
        [
            "live",
            "--source",
            str(clip),
            "--no-window",
            "--max-frames",
            "50",
            "--size",
            "64",
            "--record",
            str(record),
            "--weights",
            str(weights_file),
        ]
    )
    assert code == 143 and "saved recording" in capsys.readouterr().err
    assert 1 <= sum(1 for _ in VideoReader(record)) < 50


@pytest.mark.parametrize(
    "source, expected",
    [
        ("7", "no camera at index 7 (tried"),
        ("99999999999999999999", "no camera at index 99999999999999999999"),
        ("missing.mp4", "no such video file: missing.mp4"),
        ("{notvideo}", "as a video"),
        ("{still}", "is a still image (JPEG) named as a video"),
        ("", "--source is empty"),
    ],
)
def test_cli_bad_source_is_one_line_and_exit_2(source, expected, tmp_path, weights_file, capfd):
    """capfd: FFmpeg's and OpenCV's own lines (written to fd 2 by C code) must not come before ours."""
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("hello")
    still = tmp_path / "photo.mp4"
    still.write_bytes(cv2.imencode(".jpg", photo())[1].tobytes())
    source = source.format(notvideo=not_video, still=still)
    code = main(["live", "--source", source, "--no-window", "--weights", str(weights_file)])
    err = capfd.readouterr().err
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1
    if source == "7":
        assert "--source PATH" in err


def test_cli_live_without_display_suggests_no_window(clip, weights_file, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    code = main(["live", "--source", str(clip), "--weights", str(weights_file)])
    err = capsys.readouterr().err
    assert code == 2 and "--no-window" in err and len(err.strip().splitlines()) == 1


def test_cli_demo_without_display_renders_a_video(tmp_path, weights_file, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    out = tmp_path / "demo.mp4"
    code = main(["demo", "-o", str(out), "--seconds", "0.5", "--size", "64", "--weights", str(weights_file)])
    captured = capsys.readouterr()
    assert code == 0 and captured.out.strip() == str(out)
    assert "fps" in captured.err
    frames = _frames_in(out)
    assert len(frames) == 15 and frames[0].shape == (480, 640, 3)  # the footage at its own size
