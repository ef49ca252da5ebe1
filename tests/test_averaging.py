import pytest
import torch
from conftest import make_weights, photo, save_png

from realtime.cli import main
from realtime.errors import RealtimeError
from realtime.model.averaging import average_weights, parse_part, write_average
from realtime.model.targets import StyleBank, StyleTargets
from realtime.model.weights import load_weights, save_weights


@pytest.fixture
def style_folder(tmp_path):
    folder = tmp_path / "styles"
    folder.mkdir()
    for i in range(2):
        save_png(folder / f"style{i}.png", photo(40, 56, seed=10 + i))
    return folder


@pytest.fixture
def two_files(tmp_path):
    first, second = make_weights(seed=0), make_weights(seed=1)
    first.training = {"trained": True, "holdout_styles": ["a"]}
    second.training = {"trained": True, "holdout_styles": ["b"]}
    paths = tmp_path / "base.safetensors", tmp_path / "tuned.safetensors"
    save_weights(first, paths[0])
    save_weights(second, paths[1])
    return paths


def test_parts_are_weighted_by_their_normalised_fractions(two_files, style_folder, tmp_path):
    out = tmp_path / "avg.safetensors"
    write_average([f"{two_files[0]}:3", f"{two_files[1]}:1"], style_folder, out, style_size=48)
    first, second, averaged = (load_weights(p) for p in (*two_files, out))
    a, b, m = (w.model.state_dict() for w in (first, second, averaged))
    for name in m:
        # float16 storage of every file: compare at its precision
        torch.testing.assert_close(m[name], 0.75 * a[name] + 0.25 * b[name], rtol=2e-3, atol=2e-3)
    parts = averaged.training["average_of"]
    assert [(p["file"], p["fraction"]) for p in parts] == [("base.safetensors", 0.75), ("tuned.safetensors", 0.25)]
    assert averaged.training["holdout_styles"] == ["a", "b"] and averaged.training["trained"] is True


def test_bank_comes_from_the_averaged_encoder(two_files, style_folder):
    parts = [(load_weights(p), 1.0) for p in two_files]
    averaged = average_weights(parts, style_folder, style_size=48)
    assert averaged.bank.names() == ["style0", "style1"]
    fresh = StyleTargets(averaged.model, StyleBank(), torch.device("cpu"), 48)
    for name in averaged.bank.names():
        expected = fresh.target(str(style_folder / f"{name}.png"))
        torch.testing.assert_close(averaged.bank[name], expected)
        # and not the first file's own target, which its encoder made from other pictures
        assert not torch.allclose(averaged.bank[name], parts[0][0].bank[name], atol=1e-3)


def test_averaging_a_model_with_itself_changes_nothing(two_files, style_folder):
    weights = load_weights(two_files[0])
    averaged = average_weights([(weights, 1.0), (weights, 2.0)], style_folder, style_size=48)
    content = torch.rand(1, 3, 32, 32) * 255
    target = averaged.bank["style0"]
    with torch.no_grad():
        # thirds do not add up to one exactly in float32: a thousandth of a grey level
        torch.testing.assert_close(averaged.model(content, target), weights.model(content, target), rtol=0, atol=1e-2)


def test_shapes_and_style_names_must_match(two_files, style_folder):
    base = load_weights(two_files[0])
    with pytest.raises(RealtimeError, match="another shape"):
        average_weights([(base, 1.0), (make_weights(ngf=16), 1.0)], style_folder)
    with pytest.raises(RealtimeError, match="other built-in styles"):
        average_weights([(base, 1.0), (make_weights(styles=3), 1.0)], style_folder)
    other_vgg = make_weights()
    other_vgg.vgg_bank_info = {"network": "vgg19"}
    with pytest.raises(RealtimeError, match="VGG Grams from another VGG"):
        average_weights([(base, 1.0), (other_vgg, 1.0)], style_folder)
    with pytest.raises(RealtimeError, match="at least two"):
        average_weights([(base, 1.0)], style_folder)


def test_a_style_folder_without_a_built_in_is_refused(two_files, style_folder):
    (style_folder / "style1.png").unlink()
    with pytest.raises(RealtimeError, match="no image for the built-in styles style1"):
        average_weights([(load_weights(p), 1.0) for p in two_files], style_folder)


def test_part_syntax():
    assert parse_part("w.safetensors") == ("w.safetensors", 1.0)
    assert parse_part("w.safetensors:0.25") == ("w.safetensors", 0.25)
    assert parse_part("C:\\weights\\w.safetensors") == ("C:\\weights\\w.safetensors", 1.0)
    for bad in ("w.safetensors:0", "w.safetensors:-1", "w.safetensors:nan"):
        with pytest.raises(RealtimeError, match="must be above 0"):
            parse_part(bad)


def test_cli_writes_the_average_and_refuses_bad_input(two_files, style_folder, tmp_path, capsys):
    out = tmp_path / "avg.safetensors"
    argv = ["train", "--average", str(two_files[0]), "--average", f"{two_files[1]}:1", "--styles", str(style_folder)]
    assert main([*argv, "--out", str(out), "--style-size", "48"]) == 0
    assert load_weights(out).bank.names() == ["style0", "style1"]
    assert "base.safetensors × 0.5, tuned.safetensors × 0.5" in capsys.readouterr().err
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(two_files[0].read_bytes()[:1000])
    bad_out = tmp_path / "bad.safetensors"
    assert (
        main(
            [
                "train",
                "--average",
                str(two_files[0]),
                "--average",
                str(broken),
                "--styles",
                str(style_folder),
                "--out",
                str(bad_out),
            ]
        )
        == 2
    )
    assert "not a readable weights file" in capsys.readouterr().err
    assert main(["train", "--average", str(two_files[0]), "--average", str(two_files[1]), "--out", str(bad_out)]) == 2
    assert "--average needs --out PATH and --styles DIR" in capsys.readouterr().err
    assert not bad_out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
