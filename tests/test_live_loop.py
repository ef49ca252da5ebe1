"""The live loop on a generated video file: max frames, looping and playing once, the generator's warm-up, quitting,
recording (by key, on Ctrl-C), snapshots, and frames moved to and from the device (CPU and CUDA).

Sessions run offline (`realtime=False`): the source is lossless and times come from the clip's own
timeline, so every assertion is deterministic; the real-time path is covered through the CLI (test_live_cli.py).
The clip, the session builder (`open_session`) and the `session` fixture are in conftest.py.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from conftest import CLIP_FPS, CLIP_FRAMES, CLIP_SIZE, clip_frame, frames_in, make_weights

from realtime.imaging.frames import FrameTransfer
from realtime.live.catalog import StyleCatalog
from realtime.live.hotkeys import Action, action_for_key
from realtime.live.session import LiveSession
from realtime.live.settings import LiveOptions
from realtime.live.status import hud_info
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.capture import VideoCaptureSource
from realtime.video.reader import VideoReader

# The loop ----------------------------------------------------------------------------------------


def test_headless_loop_stops_at_max_frames_and_records_them(clip, tmp_path, open_session):
    out = tmp_path / "rec.mp4"
    s = open_session(VideoCaptureSource(str(clip), drop=False), max_frames=7, record=out)
    summary = s.run()
    assert summary.frames == 7 and "max-frames" in summary.stop_reason
    frames = frames_in(out)
    assert len(frames) == 7 and frames[0].shape == (120, 160, 3)
    with VideoReader(out) as reader:
        assert [round(f.time, 3) for f in reader] == [round(i / CLIP_FPS, 3) for i in range(7)]


def test_video_file_loops_and_stops_at_its_end_with_once(clip, open_session):
    looping = open_session(VideoCaptureSource(str(clip), drop=False), max_frames=CLIP_FRAMES + 2)
    assert looping.run().frames == CLIP_FRAMES + 2
    once = open_session(VideoCaptureSource(str(clip), drop=False, loop=False))
    summary = once.run()
    assert summary.frames == CLIP_FRAMES and summary.stop_reason.startswith("end of")


@pytest.mark.parametrize("name", ["one-frame.mp4", "still.png"])
def test_files_that_do_not_seek_back_still_loop(name, tmp_path, open_session):
    path = tmp_path / name
    if name.endswith(".png"):
        cv2.imwrite(str(path), clip_frame(0))
    else:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), CLIP_FPS, CLIP_SIZE)
        writer.write(clip_frame(0))
        writer.release()
    summary = open_session(VideoCaptureSource(str(path), drop=False), max_frames=3).run()
    assert summary.frames == 3 and "max-frames" in summary.stop_reason


def test_the_generator_warms_up_before_the_source_plays(clip, open_session):
    """The first call (an ONNX export, a CUDA compile) comes before playback and is not a frame's time."""
    s = open_session(VideoCaptureSource(str(clip), drop=False), max_frames=3)
    real, source_started = s.stylizer.stylize_frames, []

    def noting_call(frames, target=None):
        source_started.append(s.source.started)
        return real(frames, target)

    s.stylizer.stylize_frames = noting_call
    summary = s.run()
    assert summary.frames == 3 and source_started == [False, True, True, True]
    assert len(s.stats.generator_times) == 3  # the warm-up is not in the generator's mean


def test_quit_key_ends_the_run(clip, open_session):
    def press_q(s):
        return [action_for_key(ord("q"))] if s.stats.frames == 3 else []

    summary = open_session(VideoCaptureSource(str(clip), drop=False), inputs=[press_q]).run()
    assert summary.frames == 3 and summary.stop_reason == "quit"


# Recording and snapshots -------------------------------------------------------------------------


def test_record_key_starts_and_stops_a_recording(clip, tmp_path, open_session):
    def keys(s):
        return {1: [Action.RECORD], 5: [Action.RECORD], 6: [Action.QUIT]}.get(s.stats.frames, [])

    summary = open_session(VideoCaptureSource(str(clip), drop=False), inputs=[keys]).run()
    [recording] = summary.recordings
    assert recording.path.parent == tmp_path and recording.path.name.startswith("recording-")
    assert recording.frames == 4 and len(frames_in(recording.path)) == 4


def test_ctrl_c_finalises_the_recording(clip, tmp_path, open_session):
    def interrupt(s):
        if s.stats.frames == 4:
            raise KeyboardInterrupt
        return []

    out = tmp_path / "rec.mkv"
    summary = open_session(VideoCaptureSource(str(clip), drop=False), inputs=[interrupt], record=out).run()
    assert summary.stop_reason == "interrupted" and len(frames_in(out)) == 4
    assert list(tmp_path.glob(".*part*")) == []


def test_snapshot_saves_the_stylised_frame(session, tmp_path):
    session.handle(Action.COMPARE)
    session.step()
    session.handle(Action.SNAPSHOT)
    [png] = tmp_path.glob("snapshot-style0-*.png")
    saved = cv2.cvtColor(cv2.imread(str(png)), cv2.COLOR_BGR2RGB)
    assert np.array_equal(saved, session.renderer.snapshot()[1])  # the stylisation, not the split view
    assert "saved snapshot" in session.snapshots.status.read()[0]


def test_a_snapshot_hook_gets_the_photo_and_reports_progress(clip, tmp_path, open_session):
    seen = []

    def hook(request, status):
        seen.append(request)
        status.update("rendering full quality", 0.25)

    s = open_session(VideoCaptureSource(str(clip), drop=False), snapshot=hook)
    s.step()
    s.handle(Action.SNAPSHOT)
    [request] = seen
    assert np.array_equal(request.photo, s.frame.image) and request.style_name == "style0"
    assert request.folder == tmp_path
    assert hud_info(s).progress == ("rendering full quality", 0.25)


# Device transfers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "device",
    ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"))],
)
def test_frame_transfer_round_trips(device):
    transfer = FrameTransfer(device)
    frames = [clip_frame(i) for i in range(3)]
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
