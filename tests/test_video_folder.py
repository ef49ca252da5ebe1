"""`realtime video DIR -o OUTDIR`: every video of a folder tree, a manifest, reruns that redo only what is missing."""

import json

import av
from test_video import make_clip, panned_frames, run

from realtime.batch.settings import MANIFEST_NAME
from realtime.video.reader import VideoReader


def _folder(tmp_path):
    """Two clips (one in a subfolder, without audio), a corrupt one, a note and a hidden clip."""
    root = tmp_path / "clips"
    (root / "sub").mkdir(parents=True)
    make_clip(root / "a.mp4")
    make_clip(root / "sub" / "b.mkv", panned_frames(8), audio=False)
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    (root / "notes.txt").write_text("not a video")
    make_clip(root / ".hidden.mp4")
    return root


def _rows(out):
    return [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]


def test_a_folder_of_videos_keeps_its_tree_and_lists_every_video(capsys, tmp_path, weights_file):
    root, out = _folder(tmp_path), tmp_path / "styled"
    argv = ("video", root, "-o", out, "--style", "style0", "--weights", weights_file)
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert "2 written, 0 already done, 1 failed" in err and "Traceback" not in err
    with VideoReader(out / "a.mp4") as reader:
        assert sum(1 for _ in reader) == 12 and reader.audio_codec == "aac"
    with VideoReader(out / "sub" / "b.mkv") as reader:
        assert sum(1 for _ in reader) == 8 and reader.audio_codec is None
    rows = {row["input"]: row for row in _rows(out)}
    assert set(rows) == {"a.mp4", "sub/b.mkv", "broken.mp4"}
    assert rows["broken.mp4"]["status"] == "error" and "broken.mp4" in rows["broken.mp4"]["error"]
    assert rows["a.mp4"]["status"] == "ok" and rows["a.mp4"]["style"] == "style0:1@0"
    assert not (out / "broken.mp4").exists() and not (out / ".hidden.mp4").exists()
    assert not [p for p in out.rglob("*") if ".part" in p.name]


def test_a_rerun_redoes_only_what_is_missing_and_other_styles_redo_everything(capsys, tmp_path, weights_file):
    root, out = _folder(tmp_path), tmp_path / "styled"
    argv = ("video", root, "-o", out, "--weights", weights_file)
    assert run(capsys, *argv, "--style", "style0")[0] == 0
    (out / "sub" / "b.mkv").unlink()  # lost since
    first = (out / "a.mp4").stat().st_mtime_ns
    code, _, err = run(capsys, *argv, "--style", "style0")
    assert code == 0 and "1 written, 1 already done, 1 failed" in err
    assert (out / "a.mp4").stat().st_mtime_ns == first and (out / "sub" / "b.mkv").is_file()
    code, _, err = run(capsys, *argv, "--style", "style1")
    assert code == 0 and "2 written, 0 already done, 1 failed" in err
    assert {row["style"] for row in _rows(out)} == {"style1:1@0"}


def test_an_output_folder_inside_the_input_is_not_read_as_input(capsys, tmp_path, weights_file):
    root = _folder(tmp_path)
    argv = ("video", root, "-o", root / "styled", "--style", "style0", "--weights", weights_file)
    assert run(capsys, *argv)[0] == 0
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0 and "0 written, 2 already done, 1 failed" in err and "; 3 videos in" in err
    assert {k: v for k, v in json.loads(out).items() if k in ("videos", "written", "skipped", "failed")} == {
        "videos": 3,
        "written": 0,
        "skipped": 2,
        "failed": 1,
    }


def test_folder_mistakes_are_one_line_and_exit_2(capsys, tmp_path, weights_file):
    empty, clips = tmp_path / "empty", _folder(tmp_path)
    empty.mkdir()
    (tmp_path / "taken.mp4").write_bytes(b"a file")
    cases = [
        (empty, tmp_path / "out", "no videos"),
        (clips, tmp_path / "taken.mp4", "the output must be one too"),
        (clips, clips, "the output folder is the input folder"),
    ]
    for source, out, message in cases:
        code, _, err = run(capsys, "video", source, "-o", out, "--style", "style0", "--weights", weights_file)
        assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()
    assert av.open(str(clips / "a.mp4")).streams.video  # inputs untouched
