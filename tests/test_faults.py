"""What a killed process and oversized media leave behind: temporary files, memory, error messages.

Writers hold a lock on their temporary file, so the next run removes a dead writer's leftovers and never a
live one's; every reader refuses a picture past the frame ceiling from its header, in one line, exit 2.
"""

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction

import av
import pytest
from conftest import HUGE, huge_jpeg, photo, save_png
from PIL import Image
from test_video import make_clip, panned_frames

from realtime.atomic import atomic_output, remove_leftovers
from realtime.cli import main
from realtime.video.reader import VideoReader


def huge_mjpeg(path, frames: int = 3):
    """An MJPEG video of `huge_jpeg` frames, muxed as they are (nothing is encoded at that size)."""
    picture = huge_jpeg()
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mjpeg", rate=10)
        stream.width = stream.height = HUGE
        stream.pix_fmt = "yuvj420p"
        for index in range(frames):
            packet = av.Packet(picture)
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, index, index, Fraction(1, 10)
            out.mux(packet)
    return path


def run(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


def kill_when(command: list[str], tmp_path, ready, what: str) -> None:
    """Run `command` in a child process and SIGKILL it once `ready()` is true: a writer killed outright,
    leaving whatever it had written. Fails if the run ends first or `ready` never comes."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "REALTIME_CACHE": str(tmp_path / "cache")}
    process = subprocess.Popen([sys.executable, "-m", "realtime", *command], stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 120
        while not ready():
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, f"no {what} appeared"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        process.kill()


# ---- temporary files ------------------------------------------------------------------------------


def test_a_live_writers_temporary_file_is_never_removed_and_a_dead_ones_is(tmp_path):
    target = tmp_path / "out.png"
    with atomic_output(target) as live:
        live.write_bytes(b"being written")
        assert remove_leftovers(tmp_path, ["out.png"]) == 0  # its writer holds the lock
        with atomic_output(target) as second:  # a second writer of the same target leaves the first alone
            second.write_bytes(b"second")
        assert live.exists()
    assert not live.exists() and target.read_bytes() == b"being written"
    dead = tmp_path / ".out.abc123.part.png"  # a killed writer's: nobody holds it
    dead.write_bytes(b"half")
    other = tmp_path / ".notes.abc123.part.png"  # another target's: not ours to remove
    other.write_bytes(b"theirs")
    with atomic_output(target) as tmp:
        tmp.write_bytes(b"new")
    assert not dead.exists() and other.exists() and target.read_bytes() == b"new"


def test_video_killed_mid_write_then_rerun_leaves_one_whole_file(tmp_path, weights_file):
    clip = make_clip(tmp_path / "clip.mp4", panned_frames(400, 96, 128), fps=25)
    out = tmp_path / "out" / "styled.mp4"
    out.parent.mkdir()
    command = ["video", str(clip), "-o", str(out), "--style", "style0"]
    command += ["--weights", str(weights_file), "--device", "cpu", "--stabilize"]

    def written() -> bool:
        return any(p.stat().st_size > 0 for p in out.parent.glob(".styled.*.part.mp4"))

    kill_when(command, tmp_path, written, "temporary file")
    assert leftovers(out.parent) and not out.exists()  # what a kill leaves: a temporary file, no output
    assert main(["video", str(clip), "-o", str(out), "--style", "style0", "--weights", str(weights_file)]) == 0
    assert leftovers(out.parent) == []
    with VideoReader(out) as reader:
        assert sum(1 for _ in reader) == 400


def test_batch_killed_mid_job_then_rerun_finishes_every_output_and_leaves_no_temporary_file(tmp_path, weights_file):
    images, paintings, out = tmp_path / "images", tmp_path / "paintings", tmp_path / "out"
    images.mkdir(), paintings.mkdir()
    for index in range(40):
        save_png(images / f"{index:02d}.png", photo(96, 128, seed=index))
    save_png(paintings / "blotches.png", photo(32, 32, seed=99))
    command = ["batch", str(images), "-o", str(out), "--styles", str(paintings)]
    command += ["--weights", str(weights_file), "--device", "cpu", "--format", "png", "--batch", "1"]
    kill_when(command, tmp_path, lambda: len(list(out.glob("*.png"))) >= 3, "output")  # the job under way
    assert len(list(out.glob("*.png"))) < 40
    argv = ["batch", str(images), "-o", str(out), "--styles", str(paintings), "--weights", str(weights_file)]
    assert main([*argv, "--device", "cpu", "--format", "png"]) == 0
    assert sorted(p.name for p in out.glob("*.png")) == [f"{index:02d}.png" for index in range(40)]
    assert leftovers(out) == []
    assert all(Image.open(path).size == (128, 96) for path in out.glob("*.png"))
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert sorted({row["output"] for row in rows if row["status"] == "ok"}) == [f"{i:02d}.png" for i in range(40)]


# ---- oversized media ------------------------------------------------------------------------------


def test_a_huge_video_is_refused_in_one_line_before_decoding(capsys, tmp_path, weights_file):
    video = huge_mjpeg(tmp_path / "huge.avi")
    code, err = run(capsys, "video", video, "-o", tmp_path / "out.mp4", "--style", "style0", "--weights", weights_file)
    assert code == 2 and err.count("\n") == 1
    assert "16000×16000 (256 MP); the most this app takes is 100 MP" in err
    assert leftovers(tmp_path) == [] and not (tmp_path / "out.mp4").exists()


def test_a_huge_live_source_is_refused_in_one_line(capsys, tmp_path, weights_file):
    video = huge_mjpeg(tmp_path / "huge.avi")
    argv = ("live", "--source", video, "--no-window", "--max-frames", 2, "--weights", weights_file, "--device", "cpu")
    code, err = run(capsys, *argv)
    assert code == 2 and "16000×16000 (256 MP); the most this app takes is 100 MP" in err
    assert err.strip().count("\n") == 0


@pytest.mark.parametrize("side", [HUGE, 10_200])  # past Pillow's own cap, and between ours and Pillow's
def test_a_huge_still_is_refused_in_one_line(capsys, tmp_path, weights_file, side):
    still = tmp_path / "huge.jpg"
    still.write_bytes(huge_jpeg(side))
    code, err = run(capsys, "image", still, "-o", tmp_path / "out.png", "--style", "style0", "--weights", weights_file)
    assert code == 2 and err.count("\n") == 1
    assert "the most this app takes" in err and "100 MP" in err
    assert not (tmp_path / "out.png").exists()


def test_stills_below_the_ceiling_decode_at_the_working_size(tmp_path, weights_file):
    """A large PNG (no reduced decoding in the format) is shrunk before its mode conversions, and the
    output is the working size, not the input's."""
    big = tmp_path / "big.png"
    Image.fromarray(photo(60, 80)).resize((4000, 3000), Image.NEAREST).save(big)
    out = tmp_path / "out.png"
    assert main(["image", str(big), "-o", str(out), "--style", "style0", "--weights", str(weights_file)]) == 0
    assert Image.open(out).size == (1024, 768)
