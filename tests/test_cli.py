import json
import os
import signal
import subprocess
import sys
import urllib.error

import numpy as np
import pytest
import torch
import torchvision
from conftest import make_weights, photo, save_png
from PIL import Image

import realtime.model.weights
import realtime.runtimes.stylizer
import realtime.stills
from realtime.cli import main
from realtime.cli.options import BuildNotes
from realtime.imaging.images import read_image
from realtime.model.weights import UntrainedWeightsWarning, save_weights
from realtime.video.writer import VideoWriter


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err):
    lines = [line for line in err.splitlines() if not line.startswith("realtime: warning")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_image_has_the_inputs_size_and_depends_on_the_style(capsys, tmp_path, weights_file, photo_file, style_images):
    outputs = []
    for i, style in enumerate(style_images):
        out = tmp_path / f"out{i}.png"
        code, _, err = run(
            capsys, "image", photo_file, "-o", out, "--style", style, "--weights", weights_file, "--device", "cpu"
        )
        assert code == 0, err
        assert err.splitlines()[-1].startswith(f"realtime: wrote {out} (61×45) by msgnet in ")
        outputs.append(read_image(out).astype(float))
    assert outputs[0].shape == read_image(photo_file).shape == (45, 61, 3)
    assert np.abs(outputs[0] - outputs[1]).mean() > 5


def test_image_on_a_cpu_runs_a_cpu_runtime(capsys, tmp_path, weights_file, photo_file, style_images, monkeypatch):
    loaded = []
    load = realtime.runtimes.stylizer.Stylizer.load

    def recording_load(*args, **kwargs):
        loaded.append(load(*args, **kwargs))
        return loaded[-1]

    monkeypatch.setattr(realtime.runtimes.stylizer.Stylizer, "load", recording_load)
    code, _, err = run(
        capsys,
        "image",
        photo_file,
        "-o",
        tmp_path / "o.png",
        "--style",
        style_images[0],
        "--weights",
        weights_file,
        "--device",
        "cpu",
    )
    assert code == 0, err
    assert len(loaded) == 1 and loaded[0].runtime.startswith(("OpenVINO", "onnxruntime"))


def test_without_shipped_weights_a_placeholder_runs_on_a_style_image(capsys, tmp_path, style_images, monkeypatch):
    monkeypatch.setattr(realtime.model.weights, "shipped_weights_path", lambda model: None)
    src = save_png(tmp_path / "small.png", photo(20, 28))
    with pytest.warns(UntrainedWeightsWarning):
        code, _, err = run(
            capsys, "image", src, "-o", tmp_path / "o.jpg", "--style", style_images[0], "--device", "cpu"
        )
    assert code == 0, err
    assert read_image(tmp_path / "o.jpg").shape == (20, 28, 3)


def test_builtin_names_blending_strength_and_json(capsys, tmp_path, weights_file, photo_file):
    out = tmp_path / "blend.png"
    code, stdout, err = run(
        capsys,
        "image",
        photo_file,
        "-o",
        out,
        "--weights",
        weights_file,
        "--style",
        "style0:0.7",
        "--style",
        "style1:0.3",
        "--strength",
        "0.5",
        "--preserve-color",
        "--json",
    )
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["styles"] == [{"style": "style0", "weight": 0.7}, {"style": "style1", "weight": 0.3}]
    assert summary["images"][0]["width"] == 61 and summary["images"][0]["height"] == 45
    assert out.is_file()


def test_stroke_option_paints_a_large_image_with_larger_strokes(capsys, tmp_path, weights_file):
    big = save_png(tmp_path / "big.png", photo(480, 640))
    pictures = {}
    for stroke in ("0", "2"):
        out = tmp_path / f"stroke{stroke}.png"
        code, _, err = run(
            capsys, "image", big, "-o", out, "--weights", weights_file, "--style", "style0", "--stroke", stroke
        )
        assert code == 0, err
        pictures[stroke] = np.asarray(Image.open(out), dtype=float)
    assert pictures["2"].shape == (480, 640, 3)
    assert np.abs(pictures["2"] - pictures["0"]).mean() > 2


def test_folder_input_stylises_every_image(capsys, tmp_path, weights_file, style_images):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.png", "b.jpg"):
        Image.fromarray(photo(24, 32)).save(src / name)
    (src / "notes.txt").write_text("not an image")
    code, _, err = run(
        capsys, "image", src, "-o", tmp_path / "out", "--style", style_images[0], "--weights", weights_file
    )
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.jpg"]
    assert err.splitlines()[-1].startswith(f"realtime: wrote 2 images to {tmp_path / 'out'} by msgnet in ")


def test_several_inputs_to_an_image_file_name_are_refused(capsys, tmp_path, weights_file, photo_file):
    second = tmp_path / "second.png"
    Image.fromarray(photo(24, 32)).save(second)
    out = tmp_path / "single.jpg"
    code, _, err = run(capsys, "image", photo_file, second, "-o", out, "--style", "style0", "--weights", weights_file)
    assert code == 2 and "several inputs need a folder for -o" in one_error_line(err)
    assert not out.exists()


def test_auto_says_when_the_generator_paints_a_painting_for_want_of_a_vgg(
    capsys, tmp_path, photo_file, style_images, monkeypatch
):
    monkeypatch.setattr(realtime.stills, "torchvision_vgg16_cached", lambda: False)
    out = tmp_path / "o.png"
    code, _, err = run(capsys, "image", photo_file, "-o", out, "--style", style_images[0], "--device", "cpu")
    assert code == 0, err
    assert "WCT would follow it more closely but needs a VGG16 (--vgg PATH" in err.splitlines()[-2]
    assert "by msgnet" in err.splitlines()[-1] and out.is_file()


def test_notes_from_loading_are_printed_once(capsys):
    notes = BuildNotes()
    for message in ("CPU runtime: OpenVINO f32", "compiling for 320×240", "CPU runtime: OpenVINO f32"):
        notes(message)
    assert capsys.readouterr().err.splitlines() == [
        "realtime: CPU runtime: OpenVINO f32",
        "realtime: compiling for 320×240",
    ]


def test_a_bad_file_in_a_batch_is_reported_and_the_rest_done(capsys, tmp_path, weights_file, style_images):
    src = tmp_path / "in"
    src.mkdir()
    save_png(src / "good.png", photo(16, 16))
    (src / "bad.png").write_bytes(b"garbage")
    code, _, err = run(
        capsys, "image", src, "-o", tmp_path / "out", "--style", style_images[0], "--weights", weights_file
    )
    assert code == 2
    assert "bad.png" in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good.png"]


def test_stdin_to_stdout(tmp_path, weights_file, style_images):
    buffer = tmp_path / "in.png"
    save_png(buffer, photo(12, 20))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "realtime",
            "image",
            "-",
            "-o",
            "-",
            "--style",
            str(style_images[0]),
            "--weights",
            str(weights_file),
        ],
        input=buffer.read_bytes(),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    out = tmp_path / "out.png"
    out.write_bytes(proc.stdout)
    assert read_image(out).shape == (12, 20, 3)


@pytest.mark.parametrize("size", [(1, 1), (3, 7), (33, 17)])
def test_tiny_and_odd_images_keep_their_size(capsys, tmp_path, weights_file, size):
    src = save_png(tmp_path / "odd.png", photo(*size))
    code, _, err = run(capsys, "image", src, "-o", tmp_path / "o.png", "--style", "style1", "--weights", weights_file)
    assert code == 0, err
    assert read_image(tmp_path / "o.png").shape == (*size, 3)


def test_huge_image_is_downscaled_to_size(capsys, tmp_path, weights_file):
    src = tmp_path / "big.jpg"
    Image.fromarray(photo(1200, 1600)).save(src)
    code, _, err = run(
        capsys, "image", src, "-o", tmp_path / "o.png", "--style", "style0", "--weights", weights_file, "--size", "200"
    )
    assert code == 0, err
    assert read_image(tmp_path / "o.png").shape == (150, 200, 3)
    assert "larger than --size 200" in err


@pytest.mark.parametrize(
    "make_input,message",
    [
        (lambda d: d / "missing.png", "no such file"),
        (lambda d: save_text(d / "text.png"), "not an image"),
        (lambda d: save_corrupt_jpeg(d / "c.jpg"), "cannot decode"),
    ],
)
def test_bad_inputs_give_one_line_and_exit_2(capsys, tmp_path, weights_file, make_input, message):
    src = make_input(tmp_path)
    out = tmp_path / "o.png"
    code, _, err = run(capsys, "image", src, "-o", out, "--style", "style0", "--weights", weights_file)
    assert code == 2
    assert message in one_error_line(err)
    assert not out.exists()


def save_text(path):
    path.write_text("hello")
    return path


def save_corrupt_jpeg(path):
    Image.fromarray(photo(64, 64)).save(path)
    path.write_bytes(path.read_bytes()[:300])
    return path


def test_unknown_style_lists_the_builtins(capsys, tmp_path, weights_file, photo_file):
    code, _, err = run(
        capsys, "image", photo_file, "-o", tmp_path / "o.png", "--style", "candy", "--weights", weights_file
    )
    assert code == 2
    assert "built-in styles: style0, style1" in one_error_line(err)


def test_output_equal_to_input_is_refused(capsys, weights_file, photo_file):
    before = photo_file.read_bytes()
    code, _, err = run(capsys, "image", photo_file, "-o", photo_file, "--style", "style0", "--weights", weights_file)
    assert code == 2 and "would replace the input" in one_error_line(err)
    assert photo_file.read_bytes() == before


def test_output_equal_to_the_style_image_is_refused(capsys, tmp_path, weights_file, photo_file, style_images):
    painting = style_images[0]
    before = painting.read_bytes()
    code, _, err = run(capsys, "image", photo_file, "-o", painting, "--style", painting, "--weights", weights_file)
    assert code == 2 and "would replace the style image" in one_error_line(err)
    assert painting.read_bytes() == before


def test_an_output_folder_that_cannot_be_made_is_one_line(capsys, tmp_path, weights_file, photo_file):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run(
        capsys,
        "image",
        photo_file,
        "sample:coffee",
        "-o",
        blocker / "out",
        "--style",
        "style0",
        "--weights",
        weights_file,
    )
    assert code == 2 and "cannot create the output folder" in one_error_line(err)


def test_duplicate_names_leave_no_output_folder_behind(capsys, tmp_path, weights_file, photo_file):
    out = tmp_path / "outs"
    code, _, err = run(
        capsys, "image", photo_file, photo_file, "-o", out, "--style", "style0", "--weights", weights_file
    )
    assert code == 2 and "same file name" in one_error_line(err)
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown without CUDA")
def test_cuda_without_cuda(capsys, tmp_path, weights_file, photo_file):
    code, _, err = run(
        capsys,
        "image",
        photo_file,
        "-o",
        tmp_path / "o.png",
        "--style",
        "style0",
        "--weights",
        weights_file,
        "--device",
        "cuda",
    )
    assert code == 2 and "use --device cpu" in one_error_line(err)


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--strength", "2.5"], "between 0 and 2"),
        (["--stroke", "5"], "between 0 and 4"),
        (["--style", "x.png:-1"], "positive number"),
        (["--size", "-5"], "0 or more"),
        (["--device", "tpu"], "unknown device"),
    ],
)
def test_bad_options(capsys, tmp_path, weights_file, photo_file, extra, message):
    argv = ["image", photo_file, "-o", tmp_path / "o.png", "--weights", weights_file, "--style", "style0", *extra]
    try:
        code, _, err = run(capsys, *argv)
    except SystemExit as exit_:
        code, err = exit_.code, capsys.readouterr().err
    assert code == 2 and message in one_error_line(err)


def test_broken_weights_file(capsys, tmp_path, photo_file):
    bad = tmp_path / "w.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    code, _, err = run(capsys, "image", photo_file, "-o", tmp_path / "o.png", "--style", "x", "--weights", bad)
    assert code == 2 and "w.safetensors" in one_error_line(err)


@pytest.mark.parametrize(
    ("argv", "chosen"),
    [((), "fast"), (("--model", "full"), "full"), (("--model", "light"), "light"), (("--model", "fast"), "fast")],
)
def test_model_flag_picks_the_shipped_file(capsys, tmp_path, monkeypatch, argv, chosen):
    files = {}
    for name, ngf in (("full", 8), ("light", 4), ("fast", 6)):
        files[name] = tmp_path / f"{name}.safetensors"
        save_weights(make_weights(ngf=ngf), files[name])
    monkeypatch.setattr(realtime.model.weights, "shipped_weights_path", files.get)
    code, out, err = run(capsys, "styles", "--device", "cpu", "--json", *argv)
    assert code == 0, err
    assert json.loads(out)["weights"] == str(files[chosen])


def test_styles_lists_the_bank(capsys, weights_file):
    code, out, _ = run(capsys, "styles", "--weights", weights_file)
    assert code == 0 and out.split() == ["style0", "style1"]
    code, out, _ = run(capsys, "styles", "--weights", weights_file, "--json")
    assert json.loads(out)["styles"] == ["style0", "style1"]


def test_console_script_exit_code_and_single_line(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "realtime",
            "image",
            str(tmp_path / "nope.jpg"),
            "-o",
            str(tmp_path / "o.png"),
            "--style",
            "a.jpg",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == f"realtime: error: no such file: {tmp_path / 'nope.jpg'}"
    assert "Traceback" not in proc.stderr


def test_sigterm_cleans_up_like_ctrl_c_and_exits_143(capsys, tmp_path, weights_file, monkeypatch):
    clip = tmp_path / "clip.mp4"
    with VideoWriter(clip, 10) as writer:
        for seed in range(6):
            writer.write(photo(48, 64, seed=seed))
    original = VideoWriter.write

    def terminate_at_the_third_frame(self, *args, **kwargs):
        if self.frames_written == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(VideoWriter, "write", terminate_at_the_third_frame)
    before = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "out.mp4"
    code, _, err = run(capsys, "video", clip, "-o", out, "--style", "style0", "--weights", weights_file)
    assert code == 143 and "stopped by SIGTERM" in err and "Traceback" not in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".part" in p.name]
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_reader_that_goes_away_is_not_a_traceback(tmp_path, weights_file):
    proc = subprocess.run(
        # `true` exits without reading, long before the ~500 kB PNG is written: the write fails with EPIPE
        f"{sys.executable} -m realtime image sample:coffee -o - --size 0 --style style0 --weights {weights_file} | true",
        shell=True,
        capture_output=True,
        timeout=120,
    )
    assert b"Traceback" not in proc.stderr and b"Error" not in proc.stderr, proc.stderr


def test_the_command_imports_pytorch_only_inside_main():
    """So a Ctrl-C while PyTorch loads lands in main's handler (one line), not in an import (a traceback)."""
    code = "import sys, realtime.cli; print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout.strip()
        == "False"
    )


def test_building_the_parser_imports_no_heavy_module():
    """So `realtime --help` and every command's `--help` answer at once."""
    heavy = ("torch", "torchvision", "cv2", "av", "onnx", "onnxruntime")
    code = (
        "import sys, realtime.cli; realtime.cli.build_parser();"
        f"print(' '.join(sorted(name for name in {heavy!r} if name in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_ctrl_c_while_starting_is_one_line(capsys, monkeypatch):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(realtime.cli, "build_parser", interrupted)
    assert main(["styles"]) == 130
    assert capsys.readouterr().err == "realtime: interrupted while starting\n"


def test_the_api_names_load_on_first_use():
    import realtime

    assert all(getattr(realtime, name) is not None for name in realtime.__all__)
    assert realtime.Stylizer.__module__ == "realtime.runtimes.stylizer"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        realtime.nope  # noqa: B018


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["image", "{photo}", "-o", "{out}", "--method", "wct", "--style", "{style}"], "VGG16"),
        (["image", "{photo}", "-o", "{out}", "--refine", "--style", "{style}", "--weights", "{weights}"], "VGG16"),
        (["gatys", "{photo}", "-o", "{out}", "--style", "{style}", "--steps", "1"], "VGG19 or VGG16"),
    ],
)
def test_offline_every_vgg_user_says_the_same_thing(
    capsys, tmp_path, weights_file, photo_file, style_images, monkeypatch, argv, wanted
):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.models, "vgg16", offline)
    monkeypatch.setattr(torchvision.models, "vgg19", offline)
    out = tmp_path / "o.png"
    values = {"photo": photo_file, "out": out, "style": style_images[0], "weights": weights_file}
    code, _, err = run(capsys, *(arg.format(**values) for arg in argv))
    line = one_error_line(err)
    assert code == 2 and not out.exists()
    assert f"no {wanted} at hand" in line and "--vgg PATH" in line and "torch.save(torchvision.models.vgg16" in line
