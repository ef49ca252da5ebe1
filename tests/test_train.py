"""`realtime train`: losses fall, checkpoints resume exactly, exports load, bad input is one line."""

from __future__ import annotations

import argparse
import json
import signal
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_weights, photo, save_png, tiny_vgg
from torch import nn

from realtime.checkpoint import load_checkpoint
from realtime.cli import build_parser, main
from realtime.errors import RealtimeError
from realtime.imaging.frames import center_crop, fit_long_side, frame_to_tensor, pad_for_generator
from realtime.imaging.images import read_image
from realtime.imaging.photoset import ContentSet, evenly_spaced
from realtime.model.shapes import MODELS
from realtime.model.weights import load_weights, save_weights
from realtime.perceptual.losses import STYLE_LAYERS, style_grams, style_loss
from realtime.perceptual.quality import content_change, style_distance
from realtime.training.config import PRECISIONS, TrainConfig, resolve_config
from realtime.training.data import load_data
from realtime.training.datasets import square_style
from realtime.training.export import training_summary
from realtime.training.run import load_init, load_teacher
from realtime.training.trainer import Training

TINY = {"ngf": 8, "n_blocks": 1, "size": 32, "style_sizes": (32, 48), "style_size": 32, "batch": 2, "val_count": 1}
VGG16_LAYOUT = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512]


@pytest.fixture(scope="session")
def vgg16_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random state dict in torchvision's `vgg16().features[:23]` layout, stored as float16."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    channels = 3
    for width in VGG16_LAYOUT:
        if width == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
            channels = width
    path = tmp_path_factory.mktemp("vgg") / "vgg16_random.pth"
    torch.save({k: v.half() for k, v in nn.Sequential(*layers).state_dict().items()}, path)
    return path


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    """Five content photos, three style images of different sizes and shapes, four extra paintings."""
    content, styles, extras = tmp_path / "content", tmp_path / "styles", tmp_path / "extras"
    for folder in (content, styles, extras):
        folder.mkdir()
    for i in range(5):
        save_png(content / f"photo{i}.png", photo(40 + 4 * i, 56, seed=i))
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:48, 0:64]
    stripes = np.stack([(np.sin(x / 1.5) > 0) * 255, (np.sin(y / 1.5) > 0) * 120, np.full_like(x, 30)], 2)
    save_png(styles / "stripes.png", stripes.astype(np.uint8))
    save_png(styles / "blotches.png", np.kron(rng.integers(0, 256, (6, 4, 3)), np.ones((8, 8, 1))).astype(np.uint8))
    save_png(styles / "noise.png", rng.integers(0, 256, (40, 40, 3)).astype(np.uint8))
    for i in range(4):
        save_png(extras / f"painting{i}.png", rng.integers(0, 256, (30, 36, 3)).astype(np.uint8))
    return {"content": content, "styles": styles, "extras": extras, "root": tmp_path}


def make_training(folders: dict[str, Path], state: dict | None = None, **options) -> Training:
    values = {"content": str(folders["content"]), "styles": str(folders["styles"]), **TINY, **options}
    values.setdefault("checkpoint", str(folders["root"] / "run.pt"))
    config = resolve_config(values, state=state)
    init = load_init(config) if config.init and state is None else None  # as run_training does
    data = load_data(config, torch.device("cpu"))
    return Training(config, data, tiny_vgg(), "cpu", state=state, init=init, teacher=load_teacher(config))


def test_loss_decreases_on_a_fixed_batch(folders):
    training = make_training(folders, lr=1e-2)
    batch = training.sample_batch()
    weights = training.loss_weights
    losses = [float((training.train_step(*batch) * weights).sum()) for _ in range(25)]
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.7 * losses[0]


def test_batches_hold_one_style_per_sample(folders):
    training = make_training(folders, batch=6, extra_styles=str(folders["extras"]), extra_fraction=0.5)
    content, styles, size = training.sample_batch()
    assert content.shape == (6, 3, 32, 32) and content.dtype == torch.uint8
    assert size in (32, 48)
    assert styles.shape == (6,) and int(styles.max()) < len(training.data.styles)
    grams = training.grams[size]["relu2_2"][styles]
    assert grams.shape == (6, 6, 6)


def test_styles_per_batch_shares_each_style_image_among_samples(folders):
    training = make_training(folders, batch=4, styles_per_batch=2)
    content, styles, size = training.sample_batch()
    assert styles[0] == styles[1] and styles[2] == styles[3]
    encoded = []
    encode = training._encode
    training._encode = lambda images: encoded.append(len(images)) or encode(images)
    assert torch.isfinite(training.train_step(content, styles, size)).all()
    assert encoded == [2]


def test_resumed_run_equals_an_uninterrupted_run(folders):
    whole = make_training(folders, steps=6, val_every=2, checkpoint=str(folders["root"] / "whole.pt"))
    whole.run(progress=False)

    first = make_training(folders, steps=6, val_every=2, checkpoint=str(folders["root"] / "part.pt"))
    result = first.run(chunk_steps=3, progress=False)
    assert result.status == "chunk done" and result.step == 3
    state = load_checkpoint(result.checkpoint)
    assert state["step"] == 3
    resumed = make_training(folders, state=state, checkpoint=str(folders["root"] / "part.pt"))
    assert resumed.step == 3
    final = resumed.run(progress=False)

    assert final.status == "finished" and final.step == 6 and final.images_seen == 12
    for name, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    assert torch.equal(whole.rng.get_state(), resumed.rng.get_state())
    whole_val = [row["val"] for row in whole.history if "val" in row]
    resumed_val = [row["val"] for row in resumed.history if "val" in row]
    assert whole_val == resumed_val and len(whole_val) == 3


def test_export_every_writes_loadable_snapshots_beside_out(folders):
    out = folders["root"] / "m.safetensors"
    result = make_training(folders, steps=4, export_every=2, out=str(out)).run(progress=False)
    assert result.out == out
    assert sorted(p.name for p in folders["root"].glob("m.*safetensors")) == ["m.safetensors", "m.step2.safetensors"]
    early, final = load_weights(folders["root"] / "m.step2.safetensors"), load_weights(out)
    assert early.training["steps"] == 2 and final.training["steps"] == 4
    assert early.bank.names() == final.bank.names() == ["blotches", "noise", "stripes"]
    assert any(not torch.equal(v, final.model.state_dict()[k]) for k, v in early.model.state_dict().items())


def test_export_every_needs_out(folders):
    with pytest.raises(RealtimeError, match="--export-every needs --out"):
        make_training(folders, export_every=2)


def test_compact_checkpoint_is_smaller_and_resumes(folders):
    full = make_training(folders, steps=2, checkpoint=str(folders["root"] / "full.pt"))
    full.run(progress=False)
    compact = make_training(folders, steps=2, checkpoint=str(folders["root"] / "compact.pt"), compact_checkpoint=True)
    compact.run(progress=False)
    assert (folders["root"] / "compact.pt").stat().st_size < (folders["root"] / "full.pt").stat().st_size
    state = load_checkpoint(folders["root"] / "compact.pt")
    moments = next(iter(state["optimizer"]["state"].values()))
    assert moments["exp_avg"].dtype == torch.bfloat16
    resumed = make_training(folders, state=state, steps=3, checkpoint=str(folders["root"] / "compact.pt"))
    assert next(iter(resumed.optimizer.state.values()))["exp_avg"].dtype == torch.float32
    assert resumed.run(progress=False).step == 3


def test_time_limit_stops_with_a_checkpoint(folders):
    training = make_training(folders, steps=50)
    result = training.run(time_limit=1e-9, progress=False)
    assert result.status == "time limit" and result.step == 0
    assert load_checkpoint(result.checkpoint)["step"] == 0
    log = json.loads(result.log.read_text())
    assert log["status"] == "time limit" and log["steps"] == 50


def test_interrupt_finishes_the_step_then_checkpoints(folders):
    training = make_training(folders, steps=50)
    step = training.train_step

    def interrupted_step(*args):
        losses = step(*args)
        if training.step == 1:
            signal.raise_signal(signal.SIGINT)
        return losses

    training.train_step = interrupted_step
    result = training.run(progress=False)
    assert result.status == "interrupted" and result.step == 2
    assert load_checkpoint(result.checkpoint)["step"] == 2


def test_diverging_loss_is_one_line_error(folders):
    training = make_training(folders, steps=5)
    training.train_step = lambda *args: torch.tensor([float("nan"), 1.0, 1.0, 0.0])
    with pytest.raises(RealtimeError, match="diverged"):
        training.run(progress=False)


def test_holdout_styles_stay_out_of_training_and_the_bank(folders):
    training = make_training(folders, steps=1, extra_styles=str(folders["extras"]), holdout=2)
    data = training.data
    assert len(data.holdout_names) == 2
    assert not set(data.holdout_names) & set(data.styles.names)
    assert data.main_styles == 3 and len(data.styles) == 5
    assert {group for group, *_ in training.validation.styles} == {"trained", "unseen"}
    assert set(training.validate()) == {"trained", "unseen"}
    out = folders["root"] / "w.safetensors"
    training.run(progress=False)
    weights = training.export(out)
    assert weights.bank.names() == ["blotches", "noise", "stripes"]
    assert load_weights(out).training["holdout_styles"] == data.holdout_names


def test_export_bank_is_the_encoders_targets_and_vgg_grams(folders):
    training = make_training(folders, steps=2)
    training.run(progress=False)
    out = folders["root"] / "w.safetensors"
    training.export(out)
    loaded = load_weights(out)
    assert loaded.bank.names() == sorted(p.stem for p in folders["styles"].iterdir())
    assert loaded.training["steps"] == 2 and loaded.training["trained"] is True
    assert loaded.vgg_bank_info["network"] == "vgg16" and loaded.vgg_bank_info["style_size"] == 32
    with torch.no_grad():
        for row, name in enumerate(loaded.bank.names()):
            frame = fit_long_side(read_image(folders["styles"] / f"{name}.png"), 32)
            image = frame_to_tensor(frame)
            expected = training.model.encode_style(pad_for_generator(image))[0]
            torch.testing.assert_close(loaded.bank[name], expected, rtol=2e-2, atol=1e-3)
            features = training.vgg(image, STYLE_LAYERS)
            for layer in STYLE_LAYERS:
                gram = style_distance({layer: features[layer]}, {layer: loaded.vgg_bank[layer][row]})
                assert float(gram) < 1e-4 * float(loaded.vgg_bank[layer][row].pow(2).mean()) + 1e-6


def test_cli_trains_exports_and_resumes(folders, vgg16_file, capsys):
    root = folders["root"]
    common = ["--content", str(folders["content"]), "--styles", str(folders["styles"]), "--vgg", str(vgg16_file)]
    tiny = [
        "--ngf",
        "8",
        "--n-blocks",
        "1",
        "--size",
        "32",
        "--style-sizes",
        "32",
        "--style-size",
        "32",
        "--batch",
        "2",
    ]
    out = root / "model.safetensors"
    code = main(
        [
            "train",
            *common,
            *tiny,
            "--out",
            str(out),
            "--steps",
            "3",
            "--chunk-steps",
            "2",
            "--val-count",
            "1",
            "--val-every",
            "1",
            "--quiet",
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "chunk done" and summary["step"] == 2 and not out.exists()
    checkpoint = root / "model.ckpt.pt"
    assert summary["checkpoint"] == str(checkpoint) and checkpoint.is_file()

    assert main(["train", "--resume", str(checkpoint), "--quiet", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "finished" and summary["step"] == 3 and summary["out"] == str(out)
    weights = load_weights(out)
    assert weights.bank.names() == ["blotches", "noise", "stripes"] and set(weights.vgg_bank) == set(STYLE_LAYERS)
    log = json.loads((root / "model.ckpt.log.json").read_text())
    assert log["status"] == "finished" and [row["step"] for row in log["history"] if "val" in row] == [1, 2, 3]

    exported = root / "exported.safetensors"
    assert main(["train", "--export", str(checkpoint), "--out", str(exported), "--style-size", "48"]) == 0
    again = load_weights(exported)
    assert again.bank.names() == weights.bank.names() and again.vgg_bank_info["style_size"] == 48
    for name, value in weights.model.state_dict().items():
        assert torch.equal(value, again.model.state_dict()[name])


def test_train_options_are_the_config_fields_with_their_defaults():
    """One source of defaults: each TrainConfig field is an option typed and documented from the field."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    options = {action.dest: action for action in commands.choices["train"]._actions}
    defaults = TrainConfig()
    for spec in fields(TrainConfig):
        if spec.metadata["cli"]:
            assert options[spec.name].help.startswith(spec.metadata["help"]), spec.name
    assert "unshuffle" not in options and "part_mb" not in options
    assert options["steps"].help.startswith(f"total optimiser steps (default {defaults.steps} ")
    assert options["lr"].help.endswith("(default 0.001)") and options["precision"].choices == PRECISIONS
    assert options["style_layer_weights"].help.endswith("(default 1,1,1,1)")
    assert options["vgg"].help.endswith("(default: torchvision's ImageNet VGG16)")
    args = parser.parse_args(["train", "--style-sizes", "64,96", "--compact-checkpoint", "--steps", "3"])
    assert args.style_sizes == (64, 96) and args.compact_checkpoint is True and args.steps == 3
    assert not hasattr(args, "lr")  # options not given stay unset, so a resumed run keeps its own


def test_cli_model_preset_trains_the_light_shape_with_overrides(folders, vgg16_file, capsys):
    out = folders["root"] / "light.safetensors"
    args = [
        "train",
        "--content",
        str(folders["content"]),
        "--styles",
        str(folders["styles"]),
        "--vgg",
        str(vgg16_file),
        "--model",
        "light",
        "--ngf",
        "8",
        "--size",
        "32",
        "--style-sizes",
        "32",
        "--style-size",
        "32",
        "--batch",
        "2",
        "--steps",
        "1",
        "--val-count",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    assert load_weights(out).model.shape == {**MODELS["light"], "ngf": 8}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--content": "{root}/missing"}, "content folder not found"),
        ({"--styles": "{root}/empty"}, "no images"),
        ({"--vgg": "{root}/missing.pth"}, "VGG weights not found"),
        ({"--out": "{root}/nowhere/w.safetensors"}, "output folder does not exist"),
        ({"--size": "30"}, "multiple of 4"),
        ({"--holdout": "2"}, "give --extra-styles"),
        ({"--resume": "{root}/garbage.pt"}, "not a readable checkpoint"),
        ({"--resume": "{vgg}"}, "not a realtime training checkpoint"),
        ({"--val-count": "5"}, "leaves none"),
        ({"--ngf": "16", "--resume": "{real}"}, "cannot continue as ngf=16"),
        ({"--width": "18"}, "--width must be a multiple of 4"),
        ({"--out-kernel": "4"}, "--out-kernel must be odd"),
        ({"--export": "{root}/garbage.pt"}, "not a readable checkpoint"),
        ({"--teacher": "{root}/garbage.pt"}, "not a readable weights file"),
        ({"--teacher-weight": "-1"}, "loss weights must be 0 or more"),
        ({"--checkpoint": "{root}/w.safetensors"}, "must be different files"),
        ({"--style-layer-weights": "1,1e3"}, "--style-layer-weights takes 4 weights"),
        ({"--style-layer-weights": "0,0,0,0"}, "not all 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(folders, vgg16_file, capsys, change, message):
    root = folders["root"]
    (root / "empty").mkdir()
    (root / "garbage.pt").write_bytes(b"PK\x03\x04 not really a zip")
    if "{real}" in change.values():
        make_training(folders, steps=1, checkpoint=str(root / "real.pt")).run(progress=False)
    args = {
        "--content": str(folders["content"]),
        "--styles": str(folders["styles"]),
        "--vgg": str(vgg16_file),
        "--out": str(root / "w.safetensors"),
        "--size": "32",
        "--style-sizes": "32",
        "--ngf": "8",
        "--val-count": "1",
    }
    args.update({k: v.format(root=root, vgg=vgg16_file, real=root / "real.pt") for k, v in change.items()})
    assert main(["train", "--quiet", *[item for pair in args.items() for item in pair]]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("realtime: error:") and message in err and "\n" not in err
    assert not (root / "w.safetensors").exists()


def test_square_style_mirrors_to_a_square_and_crops_are_exact():
    frame = photo(30, 60)
    square = square_style(frame, 40)
    assert square.shape == (40, 40, 3)
    np.testing.assert_array_equal(square[10:30], fit_long_side(frame, 40))
    assert center_crop(frame, 20).shape == (20, 20, 3)
    content = ContentSet([photo(40, 64)], 32, "cpu")
    crops = content.crops(torch.tensor([0, 0]), torch.tensor([[0.0, 0.0, 0.9], [0.999, 0.999, 0.1]]))
    image = content.images[0]
    assert torch.equal(crops[0], image[:, :32, :32])
    assert torch.equal(crops[1], image[:, -32:, -32:].flip(2))
    assert evenly_spaced(3, 10) == [0, 3, 6] and evenly_spaced(0, 10) == []


def test_quality_yardsticks_agree_with_the_training_loss():
    torch.manual_seed(0)
    vgg = tiny_vgg()
    images, style = torch.rand(3, 3, 32, 32) * 255, torch.rand(1, 3, 32, 32) * 255
    features = vgg(images, STYLE_LAYERS)
    targets = {k: v[0] for k, v in style_grams(vgg(style, STYLE_LAYERS)).items()}
    per_image = style_distance(features, targets)
    assert per_image.shape == (3,)
    torch.testing.assert_close(per_image.mean(), style_loss(features, targets))
    layer_weights = dict(zip(STYLE_LAYERS, (0.0, 2.0, 0.0, 5.0), strict=True))
    weighted = style_distance(features, targets, layer_weights)
    deep = {name: features[name] for name in ("relu2_2", "relu4_3")}
    torch.testing.assert_close(
        weighted,
        2 * style_distance({"relu2_2": deep["relu2_2"]}, targets)
        + 5 * style_distance({"relu4_3": deep["relu4_3"]}, targets),
    )
    torch.testing.assert_close(weighted.mean(), style_loss(features, targets, layer_weights))
    relu = features["relu2_2"]
    assert torch.equal(content_change(relu, relu), torch.zeros(3))
    torch.testing.assert_close(content_change(2 * relu, relu), torch.ones(3))


def test_init_starts_from_a_weights_files_generator_and_checks_its_shape(folders, tmp_path):
    donor = make_weights(ngf=TINY["ngf"], n_blocks=TINY["n_blocks"], seed=7)
    path = tmp_path / "donor.safetensors"
    save_weights(donor, path)
    training = make_training(folders, init=str(path))
    for name, value in load_weights(path).model.state_dict().items():
        assert torch.equal(training.model.state_dict()[name], value), name
    assert training_summary(training.state_dict())["init"] == "donor.safetensors"

    save_weights(make_weights(ngf=TINY["ngf"] * 2, n_blocks=TINY["n_blocks"]), tmp_path / "wide.safetensors")
    with pytest.raises(RealtimeError, match="generator with"):
        make_training(folders, init=str(tmp_path / "wide.safetensors"))
    with pytest.raises(RealtimeError, match="not found"):
        make_training(folders, init=str(tmp_path / "missing.safetensors"))


def test_teacher_loss_counts_built_in_styles_only_and_pulls_the_student_to_the_teacher(folders, tmp_path):
    save_weights(make_weights(ngf=TINY["ngf"], n_blocks=TINY["n_blocks"], seed=7), tmp_path / "teacher.safetensors")
    teacher = str(tmp_path / "teacher.safetensors")
    extras = str(folders["extras"])
    itself = make_training(folders, init=teacher, teacher=teacher, extra_styles=extras)
    content, styles, size = itself.sample_batch()
    assert float(itself.train_step(content, torch.zeros_like(styles), size)[3]) == pytest.approx(0.0, abs=1e-6)

    student = make_training(folders, teacher=teacher, extra_styles=extras, lr=3e-3, content_weight=0, style_weight=0)
    assert student.loss_names == ("content", "style", "tv", "teacher")
    only_extras = torch.full_like(styles, student.data.main_styles)
    assert float(student.train_step(content, only_extras, size)[3]) == 0.0  # nothing to compare with
    built_in = torch.arange(len(styles)) % student.data.main_styles
    losses = [float(student.train_step(content, built_in, size)[3]) for _ in range(30)]
    assert losses[0] > 0 and losses[-1] < 0.5 * losses[0]


def test_a_teacher_of_another_shape_distils_into_a_smaller_student(folders, tmp_path):
    save_weights(make_weights(ngf=16, n_blocks=2, seed=3), tmp_path / "big.safetensors")
    training = make_training(folders, teacher=str(tmp_path / "big.safetensors"), steps=2, val_every=0)
    result = training.run(progress=False)
    assert result.status == "finished"
    assert set(training.history[-1]["train"]) == {"content", "style", "tv", "teacher"}
    assert training_summary(training.state_dict())["teacher"] == "big.safetensors"


def test_style_layer_weights_decide_which_layers_the_style_loss_and_validation_weigh(folders):
    runs = {
        weights: make_training(folders, style_layer_weights=weights, val_every=0)
        for weights in ((1.0, 1.0, 1.0, 1.0), (0.0, 0.0, 0.0, 1.0), (0.0, 0.0, 0.0, 3.0))
    }
    # the same untrained generator: validation's weighted style moves with the weights, its ratio does not
    plain, deep = (runs[w].validate()["trained"] for w in ((1.0, 1.0, 1.0, 1.0), (0.0, 0.0, 0.0, 1.0)))
    assert deep["style"] < 0.9 * plain["style"]
    assert deep["ratio"] == pytest.approx(plain["ratio"], rel=1e-5)

    batch = next(iter(runs.values())).sample_batch()
    style = {weights: float(run.train_step(*batch)[1]) for weights, run in runs.items()}
    assert style[(0.0, 0.0, 0.0, 3.0)] == pytest.approx(3 * style[(0.0, 0.0, 0.0, 1.0)], rel=1e-4)
    assert style[(1.0, 1.0, 1.0, 1.0)] > 1.1 * style[(0.0, 0.0, 0.0, 1.0)]


def test_style_head_trains_only_the_head_and_ships_in_the_weights_file(folders, tmp_path):
    save_weights(make_weights(ngf=TINY["ngf"], n_blocks=TINY["n_blocks"], seed=7), tmp_path / "base.safetensors")
    base = load_weights(tmp_path / "base.safetensors").model
    training = make_training(
        folders, init=str(tmp_path / "base.safetensors"), style_head=6, extra_styles=str(folders["extras"]), lr=1e-2
    )
    image = pad_for_generator(frame_to_tensor(read_image(folders["styles"] / "noise.png")))
    with torch.no_grad():  # a new head starts as no change at all
        torch.testing.assert_close(training.model.encode_style(image), base.encode_style(image))
    batch = training.sample_batch()
    for _ in range(3):
        training.train_step(*batch)
    generator = {k: v for k, v in training.model.state_dict().items() if not k.startswith("style_head.")}
    assert generator.keys() == base.state_dict().keys()
    assert all(torch.equal(value, base.state_dict()[name]) for name, value in generator.items())
    with torch.no_grad():
        assert not torch.allclose(training.model.encode_style(image), base.encode_style(image))

    out = tmp_path / "headed.safetensors"
    training.export(out)
    loaded = load_weights(out)
    assert loaded.model.style_head_width == 6 and loaded.training["recipe"]["style_head"] == 6
    bank_image = pad_for_generator(frame_to_tensor(fit_long_side(read_image(folders["styles"] / "noise.png"), 32)))
    with torch.no_grad():  # built-ins keep the targets the generator trained with
        torch.testing.assert_close(loaded.bank["noise"], base.encode_style(bank_image)[0], rtol=2e-2, atol=1e-3)
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.model.encode_style(image), training.model.encode_style(image), rtol=2e-2, atol=1e-2
        )
    # a run that fine-tunes the generator leaves the head behind: it was fitted to the generator as it was
    assert make_training(folders, init=str(out)).model.style_head_width == 0
    again = make_training(folders, init=str(out), style_head=6)
    assert torch.equal(
        again.model.state_dict()["style_head.net.0.weight"], loaded.model.state_dict()["style_head.net.0.weight"]
    )
    with pytest.raises(RealtimeError, match="--init"):
        make_training(folders, style_head=6)


def test_ratio_loss_is_the_style_ratio_and_content_change_of_each_sample(folders):
    training = make_training(folders, loss="ratio", val_every=0)
    content, styles, size = training.sample_batch()
    model, vgg = training.model, training.vgg
    with torch.no_grad():
        output = model(content.float(), model.encode_style(training.data.styles.images[size][styles].float()))
        features, reference = vgg(output, STYLE_LAYERS), vgg(content.float(), STYLE_LAYERS)
    grams = {layer: bank[styles] for layer, bank in training.grams[size].items()}
    ratio = (style_distance(features, grams) / style_distance(reference, grams)).mean()
    change = content_change(features["relu2_2"], reference["relu2_2"]).mean()
    losses = training.train_step(content, styles, size)  # computed before the step's update
    assert float(losses[1]) == pytest.approx(float(ratio), rel=1e-3)
    assert float(losses[0]) == pytest.approx(float(change), rel=1e-3)
    scores = training.validate()["trained"]
    assert scores["style"] == pytest.approx(scores["ratio"], rel=1e-4)  # equal layer weights: the same yardstick
    assert scores["content"] == pytest.approx(scores["content_change"], rel=1e-6)
    assert scores["loss"] == pytest.approx(scores["content"] + 5 * scores["style"], rel=1e-5)


def test_a_checkpoint_from_before_the_unshuffle_option_resumes_with_its_model_named(folders):
    training = make_training(folders, steps=1)
    training.run(progress=False)
    state = load_checkpoint(training.config.checkpoint)
    del state["config"]["unshuffle"]  # as checkpoints written before the option were
    config = resolve_config({**training.config.shape(), "steps": 2}, training.config.checkpoint, state)
    assert config.unshuffle == 0 and config.steps == 2
