"""Long videos in chunks: cut at keyframes, stylised apart (threads here, or actors on a local Ray), joined
without re-encoding; the same video as one pass, and a killed run resumes where it stopped."""

import json

import av
import cv2
import numpy as np
import pytest
from conftest import photo
from test_faults import kill_when
from test_video import make_clip, panned_frames, probe, run

from realtime.video.chunks import plan_chunks
from realtime.video.reader import VideoReader
from realtime.video.seams import seam_and_interior, seam_frames, warping_errors

FPS = 10


@pytest.fixture
def long_clip(tmp_path):
    """10 s of a slow pan over a smooth scene, with a sine track and a keyframe every second. Smooth, as filmed
    scenes are: pixel noise would be mostly codec noise, which differs between separate encodes."""
    count = 10 * FPS
    wide = cv2.GaussianBlur(photo(72, 96 + count, seed=3), (0, 0), 2.0)
    frames = [np.ascontiguousarray(wide[:, i : i + 96]) for i in range(count)]
    return make_clip(tmp_path / "long.mp4", frames, fps=FPS, keyframe_every=FPS)


def style_args(weights_file):
    return ["--style", "style0@0", "--style", "style1@4.5", "--weights", weights_file, "--device", "cpu"]


def frames_of(path):
    with VideoReader(path) as reader:
        return list(reader)


def differences(a, b) -> list[float]:
    """Mean |difference| of each pair of frames, in levels."""
    return [np.abs(x.image.astype(float) - y.image).mean() for x, y in zip(a, b)]


def test_chunks_start_at_keyframes_and_cover_every_frame_once(long_clip):
    plan = plan_chunks(long_clip, 2.5, warm_up=12)
    assert [chunk.start for chunk in plan.chunks[1:]] == pytest.approx([3.0, 6.0, 9.0])  # keyframes each second
    assert plan.frames == sum(chunk.frames for chunk in plan.chunks) == 10 * FPS
    assert plan.chunks[1].warm_from == pytest.approx(3.0 - 12 / FPS)
    with pytest.raises(Exception, match="chunk length must be positive"):
        plan_chunks(long_clip, 0.0, warm_up=0)


def chunked_against_one_pass(capsys, tmp_path, clip, weights_file, suffix, extra, chunked_options):
    """Run `clip` in one pass and in chunks; the two outputs' frames, after checking the two files agree in
    frame count, frame times (to the tick) and audio packets."""
    one, chunked = tmp_path / f"one{suffix}", tmp_path / f"chunked{suffix}"
    options = [*style_args(weights_file), "--stabilize", *extra]
    assert run(capsys, "video", clip, "-o", one, *options)[0] == 0
    code, out, err = run(capsys, "video", clip, "-o", chunked, *options, *chunked_options, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["frames"] == 10 * FPS and summary["reused"] == 0
    reference, joined = probe(one), probe(chunked)
    assert joined["frames"] == reference["frames"] == 10 * FPS
    assert joined["times"] == reference["times"]
    assert joined["audio_packets"] == reference["audio_packets"] and joined["audio_packets"]
    assert not list(tmp_path.glob(".chunked*"))  # the chunk folder goes once the output is whole
    return summary, frames_of(one), frames_of(chunked)


def seam_and_interior_of(clip, frames, chunk_seconds):
    plan = plan_chunks(clip, chunk_seconds, warm_up=12)
    errors = warping_errors([frame.image for frame in frames_of(clip)], [frame.image for frame in frames])
    return seam_and_interior(errors, seam_frames(plan, [frame.time for frame in frames]))


def test_chunks_on_a_local_ray_with_two_workers_make_the_one_pass_video_without_seams(
    capsys, tmp_path, long_clip, weights_file
):
    # Lossless frames (PNG in .mov), so what is compared is the chunking itself, not the codec.
    ray = ["--ray", "--workers", "2", "--chunk-seconds", "2"]
    summary, one, chunked = chunked_against_one_pass(
        capsys, tmp_path, long_clip, weights_file, ".mov", ["--codec", "png"], ray
    )
    assert summary["chunks"] == 5 and "2 workers" in summary["layout"]
    difference = differences(one, chunked)
    assert np.mean(difference) < 1.0, difference  # a worker's one CPU thread sums in another order than two
    seam, interior = seam_and_interior_of(long_clip, chunked, 2.0)
    assert seam <= 1.1 * interior, (seam, interior)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_chunks_on_this_machine_join_into_the_one_pass_video(capsys, tmp_path, long_clip, weights_file, suffix):
    summary, one, chunked = chunked_against_one_pass(
        capsys, tmp_path, long_clip, weights_file, suffix, [], ["--chunk-seconds", "2", "--jobs", "2"]
    )
    assert summary["chunks"] == 5 and "2 chunks at once" in summary["layout"]
    difference = differences(one, chunked)
    # Later chunks are separate encodes: H.264's noise differs by ~2 levels here; a frame out of step, ~6.
    assert np.mean(difference) < 3 and max(difference) < 4, difference


def test_a_killed_chunked_run_resumes_without_redoing_finished_chunks(capsys, tmp_path, long_clip, weights_file):
    out = tmp_path / "out.mp4"
    chunks = tmp_path / ".out.mp4.chunks"
    command = ["video", str(long_clip), "-o", str(out), *map(str, style_args(weights_file))]
    command += ["--chunk-seconds", "1", "--jobs", "1", "--stabilize"]

    def two_finished() -> bool:
        return len(list(chunks.glob("0*.mp4"))) >= 2

    kill_when(command, tmp_path, two_finished, "finished chunk")
    finished = {path.name: path.stat().st_mtime_ns for path in chunks.glob("0*.mp4")}
    assert not out.exists() and 2 <= len(finished) < 10
    code, stdout, err = run(capsys, *command, "--json")
    assert code == 0, err
    assert json.loads(stdout)["reused"] == len(finished)
    assert not chunks.exists() and not list(tmp_path.glob(".out.*.part*"))

    fresh = tmp_path / "fresh.mp4"
    assert run(capsys, *[fresh if part == str(out) else part for part in command])[0] == 0
    resumed, reference = probe(out), probe(fresh)
    assert resumed["frames"] == 10 * FPS and resumed["times"] == reference["times"]
    assert resumed["audio_packets"] == reference["audio_packets"]
    difference = differences(frames_of(out), frames_of(fresh))
    assert np.mean(difference) < 3, difference  # the killed run's chunks came from one CPU thread: codec noise apart


def test_a_changed_job_does_not_reuse_the_old_chunks(capsys, tmp_path, long_clip, weights_file):
    out = tmp_path / "out.mp4"
    base = ["video", long_clip, "-o", out, "--chunk-seconds", "3", "--weights", weights_file, "--json"]
    leftover = tmp_path / ".out.mp4.chunks"
    assert run(capsys, *base, "--style", "style0")[0] == 0
    leftover.mkdir()
    (leftover / "job.json").write_text(json.dumps({"job": "another"}))
    (leftover / "00000.mp4").write_bytes(b"from another job")
    out.unlink()
    code, stdout, _ = run(capsys, *base, "--style", "style1")
    assert code == 0 and json.loads(stdout)["reused"] == 0
    assert probe(out)["frames"] == 10 * FPS


def test_chunked_bad_inputs_get_one_line_before_any_work(capsys, tmp_path, long_clip, weights_file):
    for extra, expected in [
        (["-o", tmp_path / "out.avi", "--jobs", "2"], "stores no frame times"),
        (["-o", tmp_path / "out.mp4", "--workers", "2"], "add --ray"),
        (["-o", tmp_path / "out.mp4", "--ray", "--jobs", "2"], "--jobs is for this machine"),
    ]:
        code, _, err = run(capsys, "video", long_clip, *extra, "--style", "style0", "--weights", weights_file)
        assert code == 2, err
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and expected in lines[0], err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_a_pcm_track_mp4_cannot_take_is_refused_before_the_chunks_are_made(capsys, tmp_path, weights_file):
    source = tmp_path / "pcm.mkv"
    make_clip(source, panned_frames(30, 48, 64), audio_codec="pcm_s16le", keyframe_every=10)
    code, _, err = run(capsys, "video", source, "-o", tmp_path / "out.mp4", "--chunk-seconds", "1",
                       "--style", "style0", "--weights", weights_file)  # fmt: skip
    assert code == 2 and "cannot be copied into a .mp4 file" in err
    assert not (tmp_path / ".out.mp4.chunks").exists()
    with av.open(str(source)) as container:  # the input is untouched
        assert container.streams.audio[0].codec_context.name == "pcm_s16le"


def test_a_rotated_phone_video_comes_out_upright_from_chunks(capsys, tmp_path, weights_file):
    source = make_clip(tmp_path / "phone.mp4", panned_frames(30, 48, 64), rotation=90, keyframe_every=10)
    one, chunked = tmp_path / "one.mp4", tmp_path / "chunked.mp4"
    options = ["--style", "style0", "--weights", weights_file]
    assert run(capsys, "video", source, "-o", one, *options)[0] == 0
    assert run(capsys, "video", source, "-o", chunked, *options, "--chunk-seconds", "1", "--jobs", "2")[0] == 0
    a, b = frames_of(one), frames_of(chunked)
    assert len(a) == len(b) == 30 and a[0].image.shape == b[0].image.shape == (64, 48, 3)  # turned upright
    assert np.mean(differences(a, b)) < 3


def test_a_folder_of_videos_goes_through_chunks_too(capsys, tmp_path, weights_file):
    videos, out = tmp_path / "videos", tmp_path / "styled"
    videos.mkdir()
    for name in ("a.mp4", "b.mkv"):
        make_clip(videos / name, panned_frames(30, 48, 64), keyframe_every=10)
    (videos / "broken.mp4").write_bytes(b"not a video")
    code, stdout, err = run(capsys, "video", videos, "-o", out, "--style", "style0", "--weights", weights_file,
                            "--chunk-seconds", "1", "--jobs", "2", "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(stdout)
    assert (summary["written"], summary["failed"]) == (2, 1)
    assert [probe(out / name)["frames"] for name in ("a.mp4", "b.mkv")] == [30, 30]
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert {row["input"]: row["status"] for row in rows} == {"a.mp4": "ok", "b.mkv": "ok", "broken.mp4": "error"}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_variable_frame_rate_video_joins_with_the_one_pass_times(capsys, tmp_path, weights_file):
    # A phone's 30 fps with a frame dropped just after the keyframe at 2 s: the next chunk's encoder starts its
    # decode times from wider spacing than the last chunk ended on.
    times = [i / 30 for i in range(120) if i != 61]
    source = make_clip(
        tmp_path / "phone.mp4", panned_frames(len(times), 48, 64), fps=30, times=times, keyframe_every=30
    )
    one, chunked = tmp_path / "one.mp4", tmp_path / "chunked.mp4"
    options = ["--style", "style0", "--weights", weights_file]
    assert run(capsys, "video", source, "-o", one, *options)[0] == 0
    code, _, err = run(capsys, "video", source, "-o", chunked, *options, "--chunk-seconds", "1", "--jobs", "1")
    assert code == 0, err
    reference, joined = probe(one), probe(chunked)
    assert joined["frames"] == reference["frames"] == 119 and joined["times"] == reference["times"]
    assert joined["audio_packets"] == reference["audio_packets"]
