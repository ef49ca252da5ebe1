"""`realtime live` and `realtime demo` on the command line: headless recording, refusing to record over the source,
a failing recording, SIGTERM, bad sources, and no display (the --no-window hint, and `demo` rendering a video).
"""

from __future__ import annotations

import os
import signal

import cv2
import pytest
from conftest import frames_in, photo

from realtime.cli import main
from realtime.errors import RealtimeError
from realtime.live.session import LiveSession
from realtime.live.window import check_display, display_problem
from realtime.video.reader import VideoReader
from realtime.video.writer import VideoWriter


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
    assert len(frames_in(out)) == 5
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


# No display --------------------------------------------------------------------------------------


def test_no_display_is_reported_with_the_no_window_hint(monkeypatch):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    assert display_problem() == "DISPLAY is not set"
    with pytest.raises(RealtimeError, match=r"--no-window"):
        check_display()
    monkeypatch.setenv("DISPLAY", ":987")
    assert "cannot reach" in display_problem()


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
    frames = frames_in(out)
    assert len(frames) == 15 and frames[0].shape == (480, 640, 3)  # the footage at its own size
