"""Distillation: the teacher's pictures painted once and resumably, a student trained on them that learns
to paint like its teacher, and the command that runs both."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_weights, photo, save_png, tiny_vgg

from realtime.cli import main
from realtime.distillation.loop import Distiller, StudentData
from realtime.distillation.pictures import SHARD_SAMPLES, PictureSet, PictureStyle, plan_samples
from realtime.distillation.run import picture_styles
from realtime.distillation.settings import DistillConfig
from realtime.distillation.warm_start import warm_start
from realtime.errors import RealtimeError
from realtime.imaging.frames import center_crop, frame_to_tensor
from realtime.imaging.images import sample_image
from realtime.model.msgnet import MSGNet
from realtime.model.shapes import MODELS
from realtime.model.weights import load_weights, shipped_weights
from realtime.runtimes.stylizer import Stylizer

SHAPE = {"ngf": 8, "n_blocks": 1, "width": 8, "out_kernel": 3, "unshuffle": 2}


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    """Content photos, the teacher's built-ins' pictures (named as its bank) and two paintings."""
    found = {name: tmp_path / name for name in ("content", "styles", "paintings")}
    for folder in found.values():
        folder.mkdir()
    for i in range(6):
        save_png(found["content"] / f"photo{i}.png", photo(40, 52, seed=i))
    rng = np.random.default_rng(0)
    for i in range(2):
        save_png(found["styles"] / f"style{i}.png", rng.integers(0, 256, (24, 24, 3), dtype=np.uint8))
        save_png(found["paintings"] / f"painting{i}.png", rng.integers(0, 256, (20, 28, 3), dtype=np.uint8))
    return found


def paint(folder: Path, weights_file: Path, folders: dict[str, Path], seed: int = 0) -> PictureSet:
    teacher = Stylizer(load_weights(weights_file), "cpu")
    styles = picture_styles(teacher.weights.bank.names(), folders["styles"], folders["paintings"], holdout=0)
    pictures = PictureSet(folder)
    photos = sorted(folders["content"].iterdir())
    pictures.paint(teacher, photos, styles, 32, (2, 1), seed=seed)
    return pictures


def test_every_photo_gets_its_pictures_and_every_style_its_share():
    plan = plan_samples(photos=10, builtins=3, paintings=4, per_photo=(2, 1), seed=0)
    assert len(plan) == 30
    per_photo = np.bincount([photo for photo, _ in plan])
    assert (per_photo == 3).all()
    builtins = np.bincount([style for _, style in plan if style < 3])
    assert builtins.max() - builtins.min() <= 1
    assert plan == plan_samples(10, 3, 4, (2, 1), seed=0) and plan != plan_samples(10, 3, 4, (2, 1), seed=1)


def test_the_teachers_pictures_are_its_own_and_a_second_run_paints_only_what_is_missing(
    tmp_path, weights_file, folders
):
    pictures = paint(tmp_path / "set", weights_file, folders)
    samples = pictures.load()
    assert samples["photos"].shape == samples["pictures"].shape == (18, 32, 32, 3)
    assert samples["photos"].dtype == torch.uint8
    styles, style_frames = pictures.styles()
    assert [s.builtin for s in styles] == [True, True, False, False] and style_frames[2].shape == (20, 28, 3)
    # One sample, painted again by the teacher: the same picture.
    teacher = Stylizer(load_weights(weights_file), "cpu")
    index = 5
    style = styles[int(samples["style_ids"][index])]
    source = style.name if style.builtin else str(folders["paintings"] / f"{style.name}.png")
    look = teacher.look([source], stroke=0.0, palette=False)
    again = teacher.stylize_frames(samples["photos"][index : index + 1].numpy(), look)
    assert np.abs(again.astype(int) - samples["pictures"][index].numpy()).mean() < 1.0
    # A lost shard is painted again; the one still there is not touched.
    shard = pictures.shard_path(0)
    shard.unlink()
    kept = {p: p.stat().st_mtime_ns for p in (tmp_path / "set").glob("pictures-*")}
    assert PictureSet(tmp_path / "set").paint(
        teacher, sorted(folders["content"].iterdir()), _styles(folders, teacher), 32, (2, 1)
    ) == min(18, SHARD_SAMPLES)
    assert shard.is_file() and all(p.stat().st_mtime_ns == t for p, t in kept.items())


def _styles(folders: dict[str, Path], teacher: Stylizer) -> list[PictureStyle]:
    return picture_styles(teacher.weights.bank.names(), folders["styles"], folders["paintings"], holdout=0)


def test_a_folder_painted_for_other_settings_is_refused(tmp_path, weights_file, folders):
    paint(tmp_path / "set", weights_file, folders)
    with pytest.raises(RealtimeError, match="other photos, styles or settings"):
        paint(tmp_path / "set", weights_file, folders, seed=1)


def test_built_in_styles_need_their_pictures(tmp_path, folders):
    with pytest.raises(RealtimeError, match="lacks the pictures of built-in styles missing"):
        picture_styles(["style0", "missing"], folders["styles"], None, 0)
    held = picture_styles(["style0"], folders["styles"], folders["paintings"], holdout=1)
    assert [s.name for s in held] == ["style0", "painting1"]


def config(tmp_path: Path, **changes) -> DistillConfig:
    values = {
        "pictures": str(tmp_path / "set"),
        "out": str(tmp_path / "student.safetensors"),
        "checkpoint": str(tmp_path / "student.ckpt.pt"),
        "shape": SHAPE,
        "steps": 40,
        "batch": 4,
        "crop": 32,
        "texture_crop": 32,
        "lr": 5e-3,
        "val_every": 20,
        "checkpoint_every": 20,
        **changes,
    }
    return DistillConfig(**values)


def test_the_student_learns_to_paint_like_its_teacher(tmp_path, weights_file, folders):
    paint(tmp_path / "set", weights_file, folders)
    data = StudentData(PictureSet(tmp_path / "set"), style_side=32)
    student = Distiller(
        config(tmp_path, texture_weight=0.1, texture_every=2), data, load_weights(weights_file), tiny_vgg()
    )
    before = student.validate()
    assert student.run(progress=False) == "finished"
    after = student.history[-1]["val"]
    # A student this small plateaus at ~0.7 of its start on these random pictures, from run to run.
    assert after["pixel"] < 0.8 * before["pixel"]
    assert {"pixel", "edge", "palette", "feature", "texture"} <= set(student.history[-1])
    student.write()
    weights = load_weights(tmp_path / "student.safetensors")
    assert weights.model.shape == SHAPE and weights.bank.names() == ["style0", "style1"]
    assert weights.training["method"] == "distillation" and weights.training["steps"] == 40
    stylizer = Stylizer(weights, "cpu")
    stylizer.set_style(["style1"])
    assert stylizer(photo(40, 52)).shape == (40, 52, 3)


def test_a_resumed_run_continues_where_it_stopped(tmp_path, weights_file, folders):
    paint(tmp_path / "set", weights_file, folders)
    data = StudentData(PictureSet(tmp_path / "set"), style_side=32)
    teacher = load_weights(weights_file)
    whole = Distiller(config(tmp_path, steps=6, checkpoint=str(tmp_path / "whole.pt")), data, teacher, None)
    whole.run(progress=False)
    first = Distiller(config(tmp_path, steps=6), data, teacher, None)
    assert first.run(progress=False, chunk_steps=3) == "chunk done"
    second = Distiller(config(tmp_path, steps=6), data, teacher, None)
    second.resume(tmp_path / "student.ckpt.pt")
    assert second.step == 3
    second.run(progress=False)
    for a, b in zip(whole.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-5)


def test_a_checkpoint_of_another_shape_is_refused(tmp_path, weights_file, folders):
    paint(tmp_path / "set", weights_file, folders)
    data = StudentData(PictureSet(tmp_path / "set"), style_side=32)
    teacher = load_weights(weights_file)
    Distiller(config(tmp_path, steps=1), data, teacher, None).run(progress=False)
    other = Distiller(config(tmp_path, shape={**SHAPE, "ngf": 4}), data, teacher, None)
    with pytest.raises(RealtimeError, match="not a checkpoint of a student of shape"):
        other.resume(tmp_path / "student.ckpt.pt")


def test_a_student_refuses_what_it_cannot_train_on(tmp_path, weights_file, folders):
    paint(tmp_path / "set", weights_file, folders)
    data = StudentData(PictureSet(tmp_path / "set"), style_side=32)
    teacher = load_weights(weights_file)
    with pytest.raises(RealtimeError, match="--crop 48 is larger than the pictures' side, 32"):
        Distiller(config(tmp_path, crop=48), data, teacher, None)
    with pytest.raises(RealtimeError, match="built-in styles are not those of the teacher"):
        Distiller(config(tmp_path), data, make_weights(styles=3), None)
    student = Distiller(config(tmp_path), data, teacher, None)
    with pytest.raises(RealtimeError, match="has a trunk of 64 channels, the student 32"):
        student.start_from(make_weights(ngf=16))


def test_realtime_distill_paints_trains_and_writes_the_student(tmp_path, weights_file, folders, capsys):
    args = [
        "distill", "--pictures", str(tmp_path / "set"), "--out", str(tmp_path / "fast.safetensors"),
        "--teacher", str(weights_file), "--content", str(folders["content"]), "--styles", str(folders["styles"]),
        "--paintings", str(folders["paintings"]), "--holdout", "1", "--size", "32", "--crop", "32",
        "--steps", "3", "--batch", "2", "--shape", "8,1,8,3,2", "--quiet",
    ]  # fmt: skip
    assert main(args) == 0
    assert "finished" in capsys.readouterr().err
    weights = load_weights(tmp_path / "fast.safetensors")
    assert weights.model.shape == SHAPE and weights.training["steps"] == 3
    plan = json.loads((tmp_path / "set" / "plan.json").read_text())
    assert [name for name, _ in plan["styles"]] == ["style0", "style1", "painting1"]
    args[args.index("--steps") + 1] = "5"
    assert main([*args, "--resume", str(tmp_path / "fast.ckpt.pt")]) == 0
    assert load_weights(tmp_path / "fast.safetensors").training["steps"] == 5


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--shape", "8,1"], "--shape takes 5 numbers"),
        (["--shape", "8,1,6,3,2"], "width a multiple of 4"),
        (["--per-photo", "1,2,3"], "--per-photo takes two numbers"),
        (["--texture-crop", "16"], "--texture-crop and --style-side"),
    ],
)
def test_realtime_distill_refuses_bad_settings_in_one_line(tmp_path, extra, message, capsys):
    args = ["distill", "--pictures", str(tmp_path), "--out", str(tmp_path / "s.safetensors"), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as stopped:
        main([*args, "--texture-every", "0"])
    assert stopped.value.code == 2 and "--texture-every" in capsys.readouterr().err


def test_realtime_distill_without_pictures_says_so(tmp_path, weights_file, capsys):
    args = ["distill", "--pictures", str(tmp_path), "--out", str(tmp_path / "s.safetensors")]
    assert main([*args, "--teacher", str(weights_file)]) == 2
    assert "not a folder of teacher pictures" in capsys.readouterr().err


def test_a_warm_started_student_paints_as_the_light_model_before_any_distillation():
    """The light model's trunk copied into the fast shape and its two ends fitted on three photos: on a fourth, the
    student's picture in a style is far closer to the light model's than the light model's two styles are."""
    light = shipped_weights("light")
    targets = torch.stack([light.bank[name] for name in light.bank.names()])
    photos = torch.from_numpy(np.stack([center_crop(sample_image(n), 96) for n in ("coffee", "chelsea", "rocket")]))
    torch.manual_seed(0)
    student = MSGNet(**MODELS["fast"])
    copied = warm_start(student, light.model, photos, targets, steps=120, batch=2, crop=64, progress=False)
    assert copied == ["encoder bottleneck", "inspiration", "2 residual blocks", "upsampling stage"]
    held_out = frame_to_tensor(center_crop(sample_image("astronaut"), 96))
    with torch.no_grad():
        theirs, mine = light.model(held_out, targets[:1]), student.eval()(held_out, targets[:1])
        other_style = light.model(held_out, targets[5:6])
    assert (theirs - mine).abs().mean() < 0.6 * (theirs - other_style).abs().mean()
