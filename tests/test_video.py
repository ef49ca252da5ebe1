"""`realtime video` and its parts: PyAV I/O, the pipeline, style schedules and temporal stabilisation.

Clips are generated on the spot with PyAV (independently of the code under test), a few dozen
pixels wide, with an AAC track, so every run checks real decoding, encoding and muxing.
"""

from fractions import Fraction
from itertools import pairwise

import av
import cv2
import numpy as np
import pytest
import torch
from conftest import make_weights, photo

from realtime.cli import main
from realtime.errors import RealtimeError
from realtime.imaging.frames import frames_to_tensor, tensor_to_frames
from realtime.imaging.palette import Palette
from realtime.model.style_spec import StyleSpec
from realtime.runtimes.stylizer import Stylizer
from realtime.video.reader import VideoReader
from realtime.video.schedule import StyleSchedule
from realtime.video.settings import TimedStyle, VideoSettings
from realtime.video.stabilize import TemporalStabilizer
from realtime.video.stylize import stylize_video
from realtime.video.writer import VideoWriter

AUDIO_RATE = 8000


def panned_frames(count: int, h: int = 48, w: int = 64, step: int = 2) -> list[np.ndarray]:
    """A textured picture sliding left by `step` pixels a frame: motion that is known exactly."""
    wide = cv2.resize(photo(h, w + step * count, seed=3), None, fx=1, fy=1)
    return [np.ascontiguousarray(wide[:, i * step : i * step + w]) for i in range(count)]


def make_clip(
    path,
    frames: list[np.ndarray] | None = None,
    fps: int = 10,
    audio: bool = True,
    rotation: int = 0,
    times: list[float] | None = None,
    hold: float = 0.0,
    audio_codec: str = "aac",
    layout: str = "mono",
    keyframe_every: int = 0,
):
    """Encode `frames` (default: a 12-frame pan) with libx264, optionally with a sine track (mono AAC
    unless told otherwise); `hold` seconds keeps the last frame on screen that long; `keyframe_every` N frames
    puts a keyframe there and nowhere else (0: where x264 likes)."""
    frames = frames if frames is not None else panned_frames(12)
    h, w = frames[0].shape[:2]
    stamps = [round((times[i] if times else i / fps) * 1000) for i in range(len(frames))]
    with av.open(str(path), "w") as out:

        def mux(packets: list[av.Packet]) -> None:
            for packet in packets:
                if hold and packet.pts == stamps[-1]:
                    packet.duration = round(hold * 1000)  # encoders leave packet durations to the muxer
            out.mux(packets)

        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        if keyframe_every:
            video.options = {"g": str(keyframe_every), "sc_threshold": "0"}
        video.time_base = Fraction(1, 1000)
        video.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = out.add_stream(audio_codec, rate=AUDIO_RATE)
            sound.layout = layout
        for image, stamp in zip(frames, stamps):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = stamp
            frame.time_base = Fraction(1, 1000)
            mux(video.encode(frame))
        mux(video.encode(None))
        if sound is not None:
            seconds = len(frames) / fps
            t = np.arange(int(AUDIO_RATE * seconds)) / AUDIO_RATE
            pcm = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            chunk = av.AudioFrame.from_ndarray(pcm, format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = AUDIO_RATE, 0
            out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))
    return path


def probe(path) -> dict:
    """What a player would see: frame count and times, frame rate, duration, audio packets."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream)]
        info = {
            "frames": len(times),
            "times": times,
            "fps": float(stream.average_rate),
            "duration": float(stream.duration * stream.time_base) if stream.duration else container.duration / 1e6,
            "size": (stream.height, stream.width),
        }
    with av.open(str(path)) as container:
        audio = container.streams.audio
        info["audio_packets"] = (
            [(p.pts, bytes(p)) for p in container.demux(audio[0]) if p.dts is not None] if audio else []
        )
    return info


def no_leftovers(folder) -> bool:
    return not [p for p in folder.iterdir() if ".part" in p.name]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if not line.startswith("realtime: warning")]
    assert len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("realtime: error: ")
    return lines[0]


@pytest.fixture
def clip(tmp_path):
    return make_clip(tmp_path / "clip.mp4")


@pytest.fixture
def stylizer(weights):
    s = Stylizer(weights, "cpu", cpu_runtime="onnxruntime")  # fp32: batches give the same pixels as single frames
    s.set_style(["style0"])
    return s


# ---------------------------------------------------------------- VideoWriter / VideoReader


def test_writer_round_trip_keeps_frames_rate_and_duration(tmp_path):
    frames = panned_frames(9)
    path = tmp_path / "w.mp4"
    with VideoWriter(path, 12) as writer:
        for frame in frames:
            writer.write(frame)
    assert writer.frames_written == 9
    info = probe(path)
    assert info["frames"] == 9 and info["fps"] == 12 and info["duration"] == pytest.approx(9 / 12, abs=1e-3)
    assert info["times"] == pytest.approx([i / 12 for i in range(9)], abs=1e-3)
    decoded = [f.image for f in VideoReader(path)]
    error = decoded[4].astype(float) - frames[4]
    assert np.abs(error).mean() < 8  # lossy (the noise goes) ...
    assert np.abs(error.mean(axis=(0, 1))).max() < 2  # ... but no colour shift from a mismatched YUV matrix
    assert no_leftovers(tmp_path)


def test_writer_keeps_explicit_times_and_pads_odd_sizes_without_scaling(tmp_path):
    times = [0.0, 0.1, 0.15, 0.4, 0.45]
    frame = photo(37, 51)
    with VideoWriter(tmp_path / "v.mkv", 10) as writer:
        for t in times:
            writer.write(frame, t)
    decoded = list(VideoReader(tmp_path / "v.mkv"))
    assert [f.time for f in decoded] == pytest.approx(times, abs=1e-3)
    assert decoded[0].image.shape == (38, 52, 3)
    assert np.abs(decoded[0].image[:37, :51].astype(float) - frame).mean() < 8
    assert np.abs(decoded[0].image[37, :51].astype(float) - frame[36]).mean() < 8  # the pad repeats the edge


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, RuntimeError])
def test_writer_leaves_nothing_when_the_block_fails(tmp_path, interrupt):
    path = tmp_path / "x.mp4"
    with pytest.raises(interrupt), VideoWriter(path, 10) as writer:
        writer.write(photo())
        raise interrupt()
    assert not path.exists() and no_leftovers(tmp_path)


def test_writer_refuses_an_empty_video_and_bad_settings(tmp_path):
    with pytest.raises(RealtimeError, match="no frames"), VideoWriter(tmp_path / "e.mp4", 10):
        pass
    with pytest.raises(RealtimeError, match="unknown video encoder"):
        VideoWriter(tmp_path / "c.mp4", 10, codec="nope264")
    with pytest.raises(RealtimeError, match="format"):
        VideoWriter(tmp_path / "c.notavideo", 10)
    with pytest.raises(RealtimeError, match="does not exist"):
        VideoWriter(tmp_path / "missing" / "c.mp4", 10)
    assert no_leftovers(tmp_path) and not list(tmp_path.glob("*.mp4"))


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("m.mp4", "mpeg4"),
        ("t.ts", None),
        ("p.mpg", None),
        ("j.mkv", "mjpeg"),
        ("r.mov", "prores_ks"),
        ("a.avi", None),
        ("y.y4m", None),
    ],
)
def test_writer_suits_time_base_and_pixel_format_to_the_encoder_and_format(tmp_path, name, codec):
    """MPEG-4 part 2 and MPEG-1/2 refuse a 1/90000 time base, AVI and Y4M store one rate for all frames,
    MJPEG wants full-range YUV and ProRes 10-bit 4:2:2: each gets a clip at the right rate, in order."""
    frames = panned_frames(6)
    with VideoWriter(tmp_path / name, 25, codec) as writer:
        for frame in frames:
            writer.write(frame)
    info = probe(tmp_path / name)
    assert info["frames"] == 6 and info["fps"] == 25
    assert np.diff(info["times"]) == pytest.approx([0.04] * 5, abs=1e-3)
    decoded = [f.image.astype(float) for f in VideoReader(tmp_path / name)]
    assert decoded[3].mean() == pytest.approx(frames[3].mean(), abs=3)  # levels kept: the range matches
    assert decoded[3].std() == pytest.approx(frames[3].std(), rel=0.05)


def test_an_encoder_refusal_says_why_in_one_line_and_prints_nothing(tmp_path, capfd):
    refusal = r"picture size of 64x48 is not valid .* Valid sizes"
    with (
        pytest.raises(RealtimeError, match=refusal) as info,
        VideoWriter(tmp_path / "h.mov", 10, codec="h263") as writer,
    ):
        writer.write(photo())
    assert "\n" not in str(info.value) and str(tmp_path / "h.mov") in str(info.value)
    assert capfd.readouterr().err == "" and no_leftovers(tmp_path)


def test_audio_the_format_refuses_at_the_end_gives_one_line_and_no_file(tmp_path):
    source = make_clip(tmp_path / "pcm.mkv", panned_frames(3), audio_codec="pcm_s16le", layout="stereo")
    with (
        av.open(str(source)) as audio,
        pytest.raises(RealtimeError, match="unsupported channel layout"),
        VideoWriter(tmp_path / "s.ismv", 10, audio_from=audio) as writer,
    ):
        writer.write(photo())
    assert not (tmp_path / "s.ismv").exists() and no_leftovers(tmp_path)


def test_writer_refuses_a_format_without_video(tmp_path):
    with pytest.raises(RealtimeError, match=r"a \.wav file cannot hold video; use an \.mp4 or \.mkv"):
        VideoWriter(tmp_path / "o.wav", 10, codec=None)
    assert no_leftovers(tmp_path)


def test_writer_copies_audio_packets_untouched(tmp_path, clip):
    with av.open(str(clip)) as audio, VideoWriter(tmp_path / "a.mkv", 10, audio_from=audio) as writer:
        for frame in VideoReader(clip):
            writer.write(frame.image, frame.time)
    source, copy = probe(clip), probe(tmp_path / "a.mkv")
    assert [data for _, data in copy["audio_packets"]] == [data for _, data in source["audio_packets"]]


def test_reader_reports_the_clip_and_turns_rotated_video_upright(tmp_path):
    image = np.zeros((48, 64, 3), np.uint8)
    image[:12, :12] = 255  # a white mark top-left
    path = make_clip(tmp_path / "r.mp4", [image] * 3, rotation=90, audio=False)
    reader = VideoReader(path)
    assert (reader.width, reader.height, reader.rotation) == (48, 64, 90)
    assert (reader.frame_count, reader.fps, reader.audio_codec) == (3, 10.0, None)
    upright = next(iter(reader)).image
    assert upright.shape == (64, 48, 3)
    # 90° counter-clockwise carries the top-left corner to the bottom-left.
    assert upright[-8:, :8].mean() > 200 and upright[:8, :8].mean() < 50


def test_reader_rejects_bad_inputs_with_one_clear_line(tmp_path):
    (tmp_path / "junk.mp4").write_bytes(b"\x00\x01not a video" * 50)
    with av.open(str(tmp_path / "song.m4a"), "w") as out:
        sound = out.add_stream("aac", rate=AUDIO_RATE)
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 4000), np.float32), format="fltp", layout="mono")
        chunk.sample_rate, chunk.pts = AUDIO_RATE, 0
        out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))
    for name, encoder in (("photo.mp4", ".jpg"), ("picture.mkv", ".png")):  # stills renamed: FFmpeg opens them
        (tmp_path / name).write_bytes(cv2.imencode(encoder, photo())[1].tobytes())
    cases = {
        "missing.mp4": "no such file",
        "junk.mp4": "not a video file",
        "song.m4a": "audio only",
        ".": "folder",
        "photo.mp4": "is a still image .*, not a video",
        "picture.mkv": "is a still image .*, not a video",
    }
    for name, message in cases.items():
        with pytest.raises(RealtimeError, match=message) as info:
            VideoReader(tmp_path / name)
        assert "\n" not in str(info.value)


# ---------------------------------------------------------------- the pipeline


def test_video_command_keeps_frames_duration_rate_and_audio(capsys, tmp_path, clip, weights_file):
    out = tmp_path / "out.mp4"
    code, stdout, err = run(
        capsys, "video", clip, "-o", out, "--style", "style0", "--weights", weights_file, "--stabilize", "--json"
    )
    assert code == 0, err
    source, result = probe(clip), probe(out)
    assert result["frames"] == source["frames"] == 12
    assert result["fps"] == source["fps"] and result["size"] == source["size"]
    assert result["duration"] == pytest.approx(source["duration"], abs=1e-3)
    assert result["times"] == pytest.approx(source["times"], abs=1e-3)
    assert len(result["audio_packets"]) == len(source["audio_packets"]) > 0
    assert [d for _, d in result["audio_packets"]] == [d for _, d in source["audio_packets"]]
    summary = __import__("json").loads(stdout)
    assert summary["frames"] == 12 and summary["audio"] == "aac" and summary["fps"] > 0
    assert summary["stabilize"] == 0.6 and "warning" not in err
    assert set(summary["stage_seconds"]) == {"decode", "generator", "stabilize", "encode"}
    first = next(iter(VideoReader(out))).image.astype(float)
    assert np.abs(first - panned_frames(1)[0]).mean() > 5  # it was stylised, not copied
    assert no_leftovers(tmp_path)


def test_names_that_look_like_urls_are_local_files(capsys, tmp_path, clip, weights_file, monkeypatch):
    """FFmpeg reads `2024-05-01T10:` as a protocol; input, audio copy and temporary output are opened as files."""
    monkeypatch.chdir(tmp_path)
    clip.rename("2024-05-01T10:30:00.mp4")
    (tmp_path / "take:2").mkdir()
    code, _, err = run(
        capsys,
        "video",
        "2024-05-01T10:30:00.mp4",
        "-o",
        "take:2/out.mp4",
        "--style",
        "style0",
        "--weights",
        weights_file,
    )
    assert code == 0, err
    assert probe(tmp_path / "take:2" / "out.mp4")["frames"] == 12


def test_pcm_audio_is_refused_for_mp4_before_any_work(capsys, tmp_path, weights_file):
    source = make_clip(tmp_path / "pcm.mkv", panned_frames(3), audio_codec="pcm_s16le", layout="stereo")
    code, _, err = run(
        capsys, "video", source, "-o", tmp_path / "a.mp4", "--style", "style0", "--weights", weights_file
    )
    assert code == 2 and "pcm_s16le audio cannot be copied into a .mp4 file" in one_error_line(err)
    assert not (tmp_path / "a.mp4").exists() and no_leftovers(tmp_path)


def test_a_truncated_input_gives_its_frames_and_a_warning(capsys, tmp_path, weights_file):
    whole = make_clip(tmp_path / "whole.mkv", panned_frames(30), audio=False)
    with av.open(str(whole)) as container:
        middle = [packet.pos for packet in container.demux(video=0) if packet.dts is not None][15]
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[:middle])  # cut where frame 15 starts; the header still says 3 s
    code, _, err = run(capsys, "video", cut, "-o", tmp_path / "out.mkv", "--style", "style0", "--weights", weights_file)
    assert code == 0, err
    frames = probe(tmp_path / "out.mkv")["frames"]
    assert 0 < frames < 25
    warnings = [line for line in err.splitlines() if line.startswith("realtime: warning:")]
    assert len(warnings) == 1 and f"decoded to {frames} frames" in warnings[0] and "of the 3.00 s" in warnings[0]


def test_a_whole_variable_frame_rate_input_gets_no_warning(capsys, tmp_path, weights_file):
    """Its declared rate (30) times its duration is far more frames than it holds; nothing is missing."""
    times = [0.0, 0.033, 0.067, 0.15, 0.3, 0.4, 0.5, 0.6, 0.7, 0.733]
    source = make_clip(tmp_path / "vfr.mkv", panned_frames(len(times)), fps=30, audio=False, times=times)
    code, _, err = run(
        capsys, "video", source, "-o", tmp_path / "out.mkv", "--style", "style0", "--weights", weights_file
    )
    assert code == 0 and "warning" not in err, err
    assert probe(tmp_path / "out.mkv")["times"] == pytest.approx(times, abs=2e-3)


def test_compile_option_builds_the_fast_generator_once_and_keeps_the_pictures(capsys, tmp_path, clip, weights_file):
    """`--compile` (torch.compile for the clip's size, before its frames flow) changes speed, not pictures."""
    outputs = {}
    for flags in ((), ("--compile",)):
        out = tmp_path / f"out{len(flags)}.mp4"
        code, _, err = run(capsys, "video", clip, "-o", out, "--style", "style0", "--weights", weights_file, *flags)
        assert code == 0, err
        assert err.count("preparing the fast generator") == len(flags)  # once per clip, not per frame
        outputs[flags] = [frame.image.astype(float) for frame in VideoReader(out)]
    plain, compiled = outputs[()], outputs[("--compile",)]
    assert len(plain) == len(compiled) == 12
    # bf16 (on CPUs with native bf16) through a random test generator amplifies rounding: ~5 grey levels.
    assert max(np.abs(a - b).mean() for a, b in zip(plain, compiled)) < 6  # neighbouring frames differ by ~19


def test_variable_frame_rate_timestamps_survive(tmp_path, stylizer):
    times = [0.0, 0.1, 0.2, 0.5, 0.55, 0.6, 1.0]
    clip = make_clip(tmp_path / "vfr.mp4", panned_frames(len(times)), times=times, audio=False)
    schedule = StyleSchedule([TimedStyle(StyleSpec("style0"))], stylizer.styles.blend)
    stylize_video(clip, tmp_path / "out.mkv", stylizer, schedule, progress=False)
    assert probe(tmp_path / "out.mkv")["times"] == pytest.approx(times, abs=2e-3)


def test_a_held_last_frame_keeps_its_duration(tmp_path, stylizer):
    clip = make_clip(tmp_path / "held.mp4", panned_frames(4), hold=2.0, audio=False)
    assert probe(clip)["duration"] == pytest.approx(2.3, abs=1e-3)
    schedule = StyleSchedule([TimedStyle(StyleSpec("style0"))], stylizer.styles.blend)
    stylize_video(clip, tmp_path / "out.mp4", stylizer, schedule, progress=False)
    assert probe(tmp_path / "out.mp4")["duration"] == pytest.approx(2.3, abs=1e-3)


def test_rotated_input_gives_an_upright_output(tmp_path, stylizer):
    clip = make_clip(tmp_path / "phone.mp4", panned_frames(3), rotation=-90, audio=False)
    schedule = StyleSchedule([TimedStyle(StyleSpec("style0"))], stylizer.styles.blend)
    result = stylize_video(clip, tmp_path / "out.mp4", stylizer, schedule, progress=False)
    assert (result.width, result.height) == (48, 64)
    with av.open(str(tmp_path / "out.mp4")) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height, frame.rotation) == (48, 64, 0)


def test_video_bad_inputs_exit_2_with_one_line_and_no_output(capsys, tmp_path, clip, weights_file):
    (tmp_path / "junk.mp4").write_bytes(b"garbage" * 100)
    (tmp_path / "photo.mp4").write_bytes(cv2.imencode(".jpg", photo())[1].tobytes())
    before = clip.read_bytes()
    cases = [
        (tmp_path / "missing.mp4", tmp_path / "o1.mp4", "no such file"),
        (tmp_path / "junk.mp4", tmp_path / "o2.mp4", "not a video file"),
        (tmp_path / "photo.mp4", tmp_path / "o5.mp4", "is a still image"),
        (clip, clip, "would replace the input"),
        (clip, tmp_path / "nowhere" / "o3.mp4", "does not exist"),
        (clip, tmp_path / "o4.xyz", "video format"),
        (clip, tmp_path, "folder"),
    ]
    for source, out, message in cases:
        code, _, err = run(capsys, "video", source, "-o", out, "--style", "style0", "--weights", weights_file)
        assert code == 2 and message in one_error_line(err), err
        if out not in (clip, tmp_path):
            assert not out.exists()
    assert clip.read_bytes() == before and no_leftovers(tmp_path)


def test_interruption_leaves_no_output_and_says_so(capsys, tmp_path, clip, weights_file, monkeypatch):
    calls = []
    original = Stylizer.stylize_frames

    def interrupt_third_call(self, frames, look=None):
        calls.append(len(frames))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, frames, look)

    monkeypatch.setattr(Stylizer, "stylize_frames", interrupt_third_call)
    out = tmp_path / "out.mp4"
    code, _, err = run(capsys, "video", clip, "-o", out, "--style", "style0", "--weights", weights_file)
    assert code == 130 and "no partial output" in err
    assert not out.exists() and no_leftovers(tmp_path)


def test_a_failing_encoder_stops_the_run_and_removes_the_file(tmp_path, clip, stylizer, monkeypatch):
    def fail(self, frame, time_s=None, duration_s=None):
        raise RealtimeError("disk full")

    monkeypatch.setattr(VideoWriter, "write", fail)
    schedule = StyleSchedule([TimedStyle(StyleSpec("style0"))], stylizer.styles.blend)
    with pytest.raises(RealtimeError, match="disk full"):
        stylize_video(clip, tmp_path / "out.mp4", stylizer, schedule, progress=False)
    assert not (tmp_path / "out.mp4").exists() and no_leftovers(tmp_path)


def test_batches_match_single_frames(tmp_path, clip, stylizer, monkeypatch):
    written: list[list[np.ndarray]] = []  # one list per run, in run order
    original = VideoWriter.write

    def record(self, frame, time_s=None, duration_s=None):
        written[-1].append(frame.copy())
        original(self, frame, time_s, duration_s)

    monkeypatch.setattr(VideoWriter, "write", record)
    schedule = StyleSchedule([TimedStyle(StyleSpec("style0"))], stylizer.styles.blend)
    for batch in (1, 5):
        written.append([])
        result = stylize_video(
            clip, tmp_path / f"b{batch}.mkv", stylizer, schedule, VideoSettings(size=32, batch=batch), progress=False
        )
        assert (result.frames, result.width, result.height) == (12, 32, 24)
    single, batched = (np.stack(frames).astype(int) for frames in written)
    assert single.shape == batched.shape == (12, 24, 32, 3)
    assert np.abs(single - batched).max() <= 1  # float summation order only
    assert np.abs(single[0] - single[5]).mean() > 1  # and the frames really differ from each other


def test_frames_to_tensor_batches_round_trip():
    frames = [photo(5, 7, seed=i) for i in range(3)]
    tensor = frames_to_tensor(frames)
    assert tensor.shape == (3, 3, 5, 7)
    assert all(np.array_equal(a, b) for a, b in zip(tensor_to_frames(tensor), frames))
    with pytest.raises(ValueError):
        frames_to_tensor([photo(5, 7), photo(6, 7)])


# ---------------------------------------------------------------- style schedules


def test_timed_style_parsing():
    assert TimedStyle.parse("candy@4.5") == TimedStyle(StyleSpec("candy"), 4.5)
    assert TimedStyle.parse("candy:0.3@2s") == TimedStyle(StyleSpec("candy", 0.3), 2.0)
    assert TimedStyle.parse("me@home.jpg") == TimedStyle(StyleSpec("me@home.jpg"), 0.0)
    assert TimedStyle.parse("wave") == TimedStyle(StyleSpec("wave"), 0.0)
    with pytest.raises(RealtimeError):
        TimedStyle.parse("candy@-1")


def test_schedule_switches_with_a_continuous_cross_fade():
    a, b, c = (torch.full((2, 2), float(v)) for v in (0, 10, 20))
    targets = {"a": a, "b": b, "c": c}
    entries = [TimedStyle(StyleSpec("b"), 2.0), TimedStyle(StyleSpec("a"), 0.0), TimedStyle(StyleSpec("c"), 2.25)]
    schedule = StyleSchedule(entries, lambda specs: targets[specs[0].source], fade=0.5)

    def value(t: float) -> float:
        return schedule.target_at(t)[0, 0].item()

    assert value(0) == value(1.99) == 0
    assert value(2.0) == 0 and value(2.2) == pytest.approx(4)  # 40 % of the way to b
    assert value(2.25) == pytest.approx(5)  # c takes over from the blend reached, no jump
    assert value(2.5) == pytest.approx(12.5) and value(2.75) == value(9) == 20


def test_schedule_fades_a_pictures_palette_out_with_its_target():
    sketch_palette = Palette.of(photo())
    targets = {"picture.png": torch.zeros(2, 2), "candy": torch.ones(2, 2)}
    entries = [TimedStyle(StyleSpec("picture.png"), 0.0), TimedStyle(StyleSpec("candy"), 1.0)]
    palettes = {"picture.png": sketch_palette, "candy": None}
    schedule = StyleSchedule(
        entries, lambda specs: targets[specs[0].source], fade=0.5, palette=lambda specs: palettes[specs[0].source]
    )
    assert schedule.palette_at(0.5) is sketch_palette
    assert schedule.palette_at(1.25).amount == pytest.approx(0.5)  # halfway through the fade, as the target
    assert schedule.target_at(1.25)[0, 0].item() == pytest.approx(0.5)
    assert schedule.palette_at(1.5) is None
    assert StyleSchedule(entries, lambda specs: targets[specs[0].source]).palette_at(0.0) is None


def test_video_frames_get_the_target_their_time_calls_for(tmp_path, clip, stylizer, monkeypatch):
    seen = []
    original = Stylizer.stylize_frames

    def record(self, frames, look=None):
        seen.extend(look.target)
        return original(self, frames, look)

    monkeypatch.setattr(Stylizer, "stylize_frames", record)
    entries = [TimedStyle(StyleSpec("style0"), 0.0), TimedStyle(StyleSpec("style1"), 0.5)]
    schedule = StyleSchedule(entries, stylizer.styles.blend, fade=0.2)
    stylize_video(clip, tmp_path / "s.mp4", stylizer, schedule, VideoSettings(batch=4), progress=False)
    t0, t1 = stylizer.styles.target("style0"), stylizer.styles.target("style1")
    assert len(seen) == 12  # frames at 0.0, 0.1, … 1.1 s
    assert all(torch.equal(t, t0) for t in seen[:6])
    assert torch.allclose(seen[6], torch.lerp(t0, t1, 0.5))  # 0.6 s: halfway through the fade
    assert all(torch.equal(t, t1) for t in seen[7:])


# ---------------------------------------------------------------- temporal stabilisation


def warping_error(outputs: list[np.ndarray], step: int) -> float:
    """Mean |out(t) − out(t−1) moved by the known pan| over pixels visible in both frames."""
    errors = [np.abs(cur[:, :-step].astype(float) - prev[:, step:]).mean() for prev, cur in pairwise(outputs)]
    return float(np.mean(errors))


def test_stabilisation_lowers_warping_error_on_a_pan():
    frames = panned_frames(10, 64, 96, step=2)
    model = Stylizer(make_weights(ngf=8), "cpu")
    model.set_style(["style0"])
    rng = np.random.default_rng(0)
    # Per-frame noise in the input stands in for the instability that makes stylisation flicker.
    noisy = [np.clip(f + rng.normal(0, 6, f.shape), 0, 255).astype(np.uint8) for f in frames]
    plain = [model(f) for f in noisy]
    stabilizer = TemporalStabilizer(0.7)
    steady = [stabilizer(f, s) for f, s in zip(noisy, plain)]
    assert warping_error(steady, 2) < 0.75 * warping_error(plain, 2)
    assert np.array_equal(steady[0], plain[0])


def test_stabilisation_passes_frames_too_small_for_the_flow_through():
    frames = panned_frames(3, h=7, w=12)  # what --size 12 makes of a 16:9 clip
    stabilizer = TemporalStabilizer(0.6)
    outputs = [stabilizer(f, 255 - f) for f in frames]
    assert all(np.array_equal(out, 255 - f) for out, f in zip(outputs, frames))


def test_stabilisation_does_not_ghost_across_a_cut():
    before, after = photo(64, 96, seed=1), 255 - photo(64, 96, seed=2)[::-1]
    stabilizer = TemporalStabilizer(0.9)
    stabilizer(before, before)
    out = stabilizer(after, after)
    assert np.abs(out.astype(float) - after).mean() < 3  # the old picture does not bleed in


@pytest.mark.parametrize(("name", "copied"), [("t.ts", True), ("w.webm", False), ("y.y4m", False)])
def test_audio_goes_where_ffmpeg_takes_it_and_is_refused_with_its_reason_elsewhere(tmp_path, clip, name, copied):
    """PyAV's codec list for .ts leaves out AAC, which FFmpeg muxes fine; WebM and Y4M refuse it in the header."""
    with av.open(str(clip)) as audio:
        if copied:
            with VideoWriter(tmp_path / name, 10, codec=None, audio_from=audio) as writer:
                for frame in panned_frames(3):
                    writer.write(frame)
            with av.open(str(tmp_path / name)) as out:
                assert [s.codec_context.name for s in out.streams.audio] == ["aac"]
                assert any(p.dts is not None for p in out.demux(out.streams.audio[0]))
        else:
            with (
                pytest.raises(RealtimeError, match="does not support 'aac'"),
                VideoWriter(tmp_path / name, 10, codec=None, audio_from=audio) as writer,
            ):
                writer.write(panned_frames(1)[0])
            assert not (tmp_path / name).exists()
    assert no_leftovers(tmp_path)
