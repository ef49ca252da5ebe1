import json
from pathlib import Path

import pytest
import torch
from conftest import make_weights
from safetensors import safe_open
from safetensors.torch import save_file

import realtime.model.weights
from realtime.errors import RealtimeError
from realtime.model.msgnet import MSGNet
from realtime.model.shapes import MODELS
from realtime.model.targets import StyleBank
from realtime.model.weights import (
    UntrainedWeightsWarning,
    Weights,
    load_weights,
    model_for,
    pack_symmetric,
    resolve_weights,
    save_weights,
    unpack_symmetric,
)


def rewrite_metadata(path, **changes):
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open is not iterable
    save_file(tensors, str(path), metadata={**meta, **changes})


def test_round_trip_keeps_generator_bank_and_metadata(tmp_path):
    original = make_weights(styles=3)
    path = tmp_path / "w.safetensors"
    save_weights(original, path)
    loaded = load_weights(path)
    assert loaded.bank.names() == ["style0", "style1", "style2"]
    assert loaded.training == {"test": True}
    assert (loaded.model.ngf, loaded.model.n_blocks) == (8, 1)
    for name in loaded.bank.names():
        assert torch.allclose(loaded.bank[name], original.bank[name], rtol=2e-3, atol=1e-5)
    content = torch.rand(1, 3, 32, 32) * 255
    with torch.no_grad():
        expected = original.model(content, original.bank["style1"])
        got = loaded.model(content, loaded.bank["style1"])
    # float16 storage: differences stay far below one grey level
    assert (expected - got).abs().mean() < 0.5


def test_vgg_bank_round_trip(tmp_path):
    original = make_weights(styles=2)
    grams = torch.randn(2, 6, 6)
    original.vgg_bank = {"relu1_2": grams @ grams.transpose(1, 2)}
    original.vgg_bank_info = {"network": "vgg16", "style_size": 64}
    save_weights(original, tmp_path / "w.safetensors")
    loaded = load_weights(tmp_path / "w.safetensors")
    assert loaded.vgg_bank_info == {"network": "vgg16", "style_size": 64}
    assert torch.allclose(loaded.vgg_bank["relu1_2"], original.vgg_bank["relu1_2"], rtol=2e-3, atol=1e-2)


def test_a_style_head_round_trips_and_files_without_one_load_without_one(tmp_path):
    torch.manual_seed(0)
    model = MSGNet(ngf=8, n_blocks=1, style_head=5).eval()
    torch.nn.init.normal_(model.style_head.net[-1].weight, std=0.5)  # a trained head is not the identity
    save_weights(Weights(model), tmp_path / "headed.safetensors")
    loaded = load_weights(tmp_path / "headed.safetensors")
    style = torch.rand(1, 3, 32, 32) * 255
    with torch.no_grad():
        expected, got = model.encode_style(style), loaded.model.encode_style(style)
        bare = MSGNet(ngf=8, n_blocks=1).eval()
        bare.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("style_head.")})
        without = bare.encode_style(style)
    assert loaded.model.style_head_width == 5
    torch.testing.assert_close(got, expected, rtol=2e-2, atol=1e-3)
    assert (got - without).abs().mean() > 0.1 * without.abs().mean()  # the head is what moved the target

    save_weights(make_weights(), tmp_path / "plain.safetensors")
    assert load_weights(tmp_path / "plain.safetensors").model.style_head_width == 0


def test_symmetric_packing_round_trip():
    x = torch.randn(3, 5, 5)
    sym = x + x.transpose(1, 2)
    packed = pack_symmetric(sym)
    assert packed.shape == (3, 15)
    assert torch.equal(unpack_symmetric(packed), sym)


def test_saving_is_atomic_and_leaves_no_temp_files(tmp_path):
    save_weights(make_weights(), tmp_path / "w.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


def test_truncated_file_is_a_one_line_error_naming_the_file(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(make_weights(), path)
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(RealtimeError, match=str(path)) as info:
        load_weights(path)
    assert "\n" not in str(info.value)


def test_random_bytes_are_rejected(tmp_path):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"\x00\x01not a weights file" * 50)
    with pytest.raises(RealtimeError, match=r"junk.safetensors"):
        load_weights(path)


def test_a_pickle_checkpoint_is_rejected_without_unpickling(tmp_path):
    path = tmp_path / "model.pth"
    torch.save({"x": torch.zeros(2)}, path)
    with pytest.raises(RealtimeError, match=r"model.pth"):
        load_weights(path)


def test_foreign_safetensors_file_is_rejected(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"a": torch.zeros(3)}, str(path), metadata={"format": "pt"})
    with pytest.raises(RealtimeError, match=r"not a realtime MSG-Net weights file"):
        load_weights(path)


def test_mismatched_width_is_rejected(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(make_weights(), path)
    rewrite_metadata(path, ngf="16")
    with pytest.raises(
        RealtimeError, match=r"does not match an MSG-Net with ngf=16, n_blocks=1, width=64, out_kernel=7, unshuffle=0"
    ):
        load_weights(path)


@pytest.mark.parametrize("model", ["light", "fast"])
def test_every_shipped_shape_round_trips(tmp_path, model):
    path = tmp_path / f"{model}.safetensors"
    written = Weights(MSGNet(**MODELS[model]).eval(), StyleBank())
    save_weights(written, path)
    loaded = load_weights(path)
    assert loaded.model.shape == MODELS[model]
    content, target = torch.rand(1, 3, 32, 48) * 255, torch.rand(1, 128, 128) * 1e-3
    with torch.no_grad():  # the file stores float16: the same picture within its rounding
        assert (loaded.model(content, target) - written.model(content, target)).abs().max() < 1.0


def test_a_file_from_before_the_unshuffle_key_loads_as_the_papers_layout(tmp_path):
    path = tmp_path / "old.safetensors"
    save_weights(make_weights(), path)
    with safe_open(str(path), framework="pt") as handle:
        metadata = {k: v for k, v in handle.metadata().items() if k != "unshuffle"}
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 - safe_open is not iterable
    save_file(tensors, str(path), metadata=metadata)
    assert load_weights(path).model.shape["unshuffle"] == 0


def test_impossible_shape_metadata_is_one_line(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(make_weights(), path)
    rewrite_metadata(path, width="18")
    with pytest.raises(RealtimeError, match=r"broken metadata: width must be a multiple of 4"):
        load_weights(path)


@pytest.mark.parametrize(("amx", "fast_ships"), [(False, True), (False, False), (True, True)])
def test_auto_model_is_full_on_cuda_and_amx_cpus_and_fast_elsewhere(monkeypatch, amx, fast_ships):
    monkeypatch.setattr(realtime.model.weights, "cpu_has_amx", lambda: amx)
    shipped = realtime.model.weights.shipped_weights_path
    monkeypatch.setattr(
        realtime.model.weights,
        "shipped_weights_path",
        lambda model: shipped(model) if model != "fast" else (Path("fast.safetensors") if fast_ships else None),
    )
    assert model_for("auto", "cuda") == "full"
    assert model_for("auto", "cpu") == ("full" if amx else "fast" if fast_ships else "light")
    assert model_for("full", "cpu") == "full" and model_for("light", "cuda") == "light"
    with pytest.raises(RealtimeError, match=r"unknown model 'huge'; use auto, full, light, fast"):
        model_for("huge", "cpu")


def _ship(monkeypatch, files):
    monkeypatch.setattr(realtime.model.weights, "shipped_weights_path", files.get)


def test_resolve_prefers_the_given_file_then_the_models_shipped_one(tmp_path, monkeypatch):
    full, light = tmp_path / "full.safetensors", tmp_path / "light.safetensors"
    save_weights(make_weights(ngf=8), full)
    save_weights(make_weights(ngf=4), light)
    _ship(monkeypatch, {"full": full, "light": light})
    assert resolve_weights(None, "light", "cpu").source == str(light)
    assert resolve_weights(None, "full", "cpu").source == str(full)
    assert resolve_weights(light, "full", "cuda").source == str(light)


def test_resolve_falls_back_to_the_other_shipped_model_with_a_warning(tmp_path, monkeypatch):
    light = tmp_path / "light.safetensors"
    save_weights(make_weights(ngf=4), light)
    _ship(monkeypatch, {"light": light})
    with pytest.warns(UserWarning, match=r"no trained full model ships with this version yet: using the light model"):
        assert resolve_weights(None, "auto", "cuda").source == str(light)


def test_resolve_without_shipped_weights_is_an_untrained_model_of_the_chosen_shape(monkeypatch):
    _ship(monkeypatch, {})
    with pytest.warns(UntrainedWeightsWarning):
        weights = resolve_weights(None, "light", "cpu")
    assert weights.model.shape == MODELS["light"] and weights.training["trained"] is False


def test_bank_names_must_match_the_bank(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(make_weights(styles=2), path)
    rewrite_metadata(path, style_names=json.dumps(["a", "b", "c"]))
    with pytest.raises(RealtimeError, match=r"style bank"):
        load_weights(path)


def test_newer_format_version_is_rejected(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(make_weights(), path)
    rewrite_metadata(path, version="99")
    with pytest.raises(RealtimeError, match=r"version 99"):
        load_weights(path)


def test_missing_file(tmp_path):
    with pytest.raises(RealtimeError, match=r"weights file not found"):
        load_weights(tmp_path / "nope.safetensors")
    with pytest.raises(RealtimeError, match=r"expected a weights file, got a folder"):
        load_weights(tmp_path)


def test_shipped_weights_are_found_in_an_uninstalled_checkout(monkeypatch):
    def not_installed(package):
        raise ModuleNotFoundError(f"No module named '{package}'")

    monkeypatch.setattr(realtime.model.weights.resources, "files", not_installed)
    path = realtime.model.weights.shipped_weights_path("light")
    assert path is not None and path.parent.name == "weights" and path.is_file()


def test_a_shipped_file_loads_by_its_bare_name(tmp_path, monkeypatch):
    shipped, elsewhere = tmp_path / "shipped", tmp_path / "elsewhere"
    shipped.mkdir()
    elsewhere.mkdir()
    save_weights(make_weights(styles=3), shipped / "mine.safetensors")
    monkeypatch.setattr(realtime.model.weights, "shipped_folder", lambda: shipped)
    monkeypatch.chdir(elsewhere)
    assert load_weights("mine").bank.names() == ["style0", "style1", "style2"]
    assert Path(load_weights("mine.safetensors").source) == shipped / "mine.safetensors"
    with pytest.raises(
        RealtimeError, match=r"weights file not found: theirs \(shipped weights, usable by name: mine\)"
    ):
        load_weights("theirs")
    with pytest.raises(RealtimeError, match=r"weights file not found: sub/mine$"):
        load_weights("sub/mine")


def test_a_file_in_the_working_folder_wins_over_a_shipped_name(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    save_weights(make_weights(styles=3), shipped / "mine.safetensors")
    save_weights(make_weights(styles=1), tmp_path / "mine.safetensors")
    monkeypatch.setattr(realtime.model.weights, "shipped_folder", lambda: shipped)
    monkeypatch.chdir(tmp_path)
    assert load_weights("mine.safetensors").bank.names() == ["style0"]


def test_a_missing_fast_model_falls_back_to_the_light_one_not_the_full_one(tmp_path, monkeypatch):
    full, light = tmp_path / "full.safetensors", tmp_path / "light.safetensors"
    save_weights(make_weights(ngf=8), full)
    save_weights(make_weights(ngf=4), light)
    _ship(monkeypatch, {"full": full, "light": light})
    with pytest.warns(UserWarning, match=r"no trained fast model ships with this version yet: using the light model"):
        assert resolve_weights(None, "fast", "cpu").source == str(light)
