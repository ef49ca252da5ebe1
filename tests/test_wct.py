"""WCT: the transform gives a painting's statistics, decoders load safely and train, stills change with the painting."""

from __future__ import annotations

import signal
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import photo, save_png, tiny_vgg

from realtime import cli
from realtime.checkpoint import load_checkpoint
from realtime.errors import RealtimeError
from realtime.gatys.network import LossNetwork
from realtime.imaging.frames import fit_long_side
from realtime.imaging.images import read_image
from realtime.imaging.photoset import ContentSet
from realtime.model.weights import save_weights
from realtime.perceptual.vgg import VGGFeatures
from realtime.wct.decoder import Decoder, vgg_channels
from realtime.wct.decoders import DecoderSet, OtherVGGWarning, load_decoders, save_decoders, vgg_identity
from realtime.wct.reconstruction import psnr, reconstruction_psnr
from realtime.wct.settings import LEVELS, DecoderTrainConfig, WCTSettings, parse_levels
from realtime.wct.stylize import WCT
from realtime.wct.train import DecoderRun, DecoderTraining
from realtime.wct.transform import feature_statistics, whiten_colour

WIDTH = 0.5


@pytest.fixture
def vgg() -> VGGFeatures:
    return tiny_vgg((8, 8, 8, 8))


def make_decoders(vgg: VGGFeatures, seed: int = 0, name: str = "tests") -> DecoderSet:
    """Untrained decoders whose pictures still vary visibly with their input (inputs scaled to about 1, a
    louder last layer)."""
    torch.manual_seed(seed)
    features = vgg(torch.rand(1, 3, 32, 32) * 255, LEVELS)
    decoders = {}
    for level in LEVELS:
        decoder = Decoder(level, WIDTH, vgg_channels(vgg)).eval()
        decoder.input_scale.fill_(1 / features[level].pow(2).mean().sqrt())
        decoder.body[-1].weight.data.mul_(20)
        decoders[level] = decoder
    return DecoderSet(decoders, vgg_identity(vgg, name), {"test": True}, "tests")


def statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = features[0].flatten(1).double()
    mean = flat.mean(1, keepdim=True)
    centred = flat - mean
    return mean, centred @ centred.T / (flat.shape[1] - 1)


def correlated(channels: int, size: int, seed: int, dead: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    mixing = torch.randn(channels, channels, generator=gen)
    flat = mixing @ torch.randn(channels, size * size, generator=gen) + torch.randn(channels, 1, generator=gen) * 3
    flat[:dead] = 0  # channels a ReLU never lets through
    return flat.view(1, channels, size, size)


# --- the transform ---------------------------------------------------------------------------------------------


def test_whitening_colouring_gives_the_content_the_paintings_mean_and_covariance():
    content, painting = correlated(8, 24, seed=1), correlated(8, 20, seed=2)
    out = whiten_colour(content, [(feature_statistics(painting), 1.0)])
    assert out.shape == content.shape
    (mean_out, cov_out), (mean_style, cov_style) = statistics(out), statistics(painting)
    assert torch.allclose(mean_out, mean_style, atol=1e-3)
    assert torch.allclose(cov_out, cov_style, rtol=1e-3, atol=1e-3 * cov_style.abs().max())
    assert not torch.allclose(statistics(content)[1], cov_style, atol=1.0)


def test_alpha_blends_with_the_content_features_and_zero_keeps_them():
    content, painting = correlated(6, 16, seed=3), correlated(6, 16, seed=4)
    stats = [(feature_statistics(painting), 1.0)]
    assert torch.allclose(whiten_colour(content, stats, alpha=0.0), content, atol=1e-4)
    half = whiten_colour(content, stats, alpha=0.5)
    assert torch.allclose(half, (content + whiten_colour(content, stats)) / 2, atol=1e-4)


def test_a_blend_is_the_weighted_sum_of_each_paintings_transform():
    content, a, b = correlated(6, 16, seed=5), correlated(6, 16, seed=6), correlated(6, 16, seed=7)
    sa, sb = feature_statistics(a), feature_statistics(b)
    blended = whiten_colour(content, [(sa, 3.0), (sb, 1.0)])
    expected = 0.75 * whiten_colour(content, [(sa, 1.0)]) + 0.25 * whiten_colour(content, [(sb, 1.0)])
    assert torch.allclose(blended, expected, atol=1e-4)
    assert torch.allclose(
        whiten_colour(content, [(sa, 0.2), (sa, 0.8)]), whiten_colour(content, [(sa, 1.0)]), atol=1e-4
    )


def test_dead_channels_give_finite_features_that_stay_dead():
    content, painting = correlated(8, 16, seed=8, dead=3), correlated(8, 16, seed=9, dead=2)
    out = whiten_colour(content, [(feature_statistics(painting), 1.0)])
    assert torch.isfinite(out).all()
    assert out[0, :2].abs().max() < 1e-3  # the painting never uses them either


def test_the_colouring_matrix_is_float64_and_squares_to_the_covariance():
    painting = correlated(8, 20, seed=10)
    stats = feature_statistics(painting)
    assert stats.colouring.dtype == torch.float64
    assert torch.allclose(stats.colouring @ stats.colouring, statistics(painting)[1], rtol=1e-4, atol=1e-6)


# --- decoders and their file -----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_each_decoder_turns_its_levels_features_into_a_picture_of_the_photos_size(vgg, level):
    image = torch.rand(2, 3, 40, 56) * 255
    features = vgg(image, [level])[level]
    out = Decoder(level, WIDTH, vgg_channels(vgg))(features)
    assert out.shape == image.shape


def test_a_deeper_decoder_can_start_from_the_shallower_trained_one(vgg):
    channels = vgg_channels(vgg)
    shallow, deep = Decoder("relu2_2", WIDTH, channels), Decoder("relu3_3", WIDTH, channels)
    torch.nn.init.constant_(shallow.body[1].weight, 0.25)
    deep.start_from(shallow)
    tail = [m for m in deep.body[deep.head_length :] if isinstance(m, torch.nn.Conv2d)]
    assert torch.equal(tail[0].weight, shallow.body[1].weight)
    with pytest.raises(RealtimeError, match="cannot start"):
        Decoder("relu4_3", WIDTH, channels).start_from(shallow)


def test_the_decoders_file_round_trips_in_float16(vgg, tmp_path):
    decoders = make_decoders(vgg)
    path = tmp_path / "d.safetensors"
    save_decoders(decoders, path)
    loaded = load_decoders(path)
    assert loaded.levels == list(LEVELS) and loaded.vgg == decoders.vgg and loaded.training == {"test": True}
    features = vgg(torch.rand(1, 3, 32, 32) * 255, ["relu3_3"])["relu3_3"]
    original, again = decoders.decoders["relu3_3"](features), loaded.decoders["relu3_3"](features)
    assert (original - again).abs().max() < 2.0  # float16 weights, 0–255 pixels


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not a safetensors file", "not a readable decoders file"),
        (None, "not a realtime WCT decoders file"),
    ],
)
def test_broken_or_foreign_decoders_files_are_one_line_errors(tmp_path, weights, content, message):
    path = tmp_path / "bad.safetensors"
    if content is None:
        save_weights(weights, path)  # an MSG-Net weights file
    else:
        path.write_bytes(content)
    with pytest.raises(RealtimeError, match=message):
        load_decoders(path)


def test_a_missing_decoders_file_names_the_shipped_ones(tmp_path):
    with pytest.raises(RealtimeError, match="not found"):
        load_decoders(tmp_path / "nothing.safetensors")


def test_decoders_of_another_vgg_warn_once_and_still_render(vgg):
    other = make_decoders(vgg, name="another VGG")
    other.vgg["fingerprint"] = "0" * 16
    with pytest.warns(OtherVGGWarning, match="another VGG16 .*realtime train-decoder"):
        WCT(other, vgg)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        WCT(make_decoders(vgg), vgg)  # the same VGG: no warning


def test_the_vgg_fingerprint_ignores_storage_precision_but_not_weights(vgg):
    same = tiny_vgg((8, 8, 8, 8))
    same.features.half().float()
    assert vgg_identity(vgg, "a")["fingerprint"] == vgg_identity(same, "b")["fingerprint"]
    with torch.no_grad():
        same.features[0].weight.add_(0.01)
    assert vgg_identity(vgg, "a")["fingerprint"] != vgg_identity(same, "a")["fingerprint"]


# --- stylising -------------------------------------------------------------------------------------------------


@pytest.fixture
def wct(vgg) -> WCT:
    return WCT(make_decoders(vgg), vgg, settings=WCTSettings(precision="fp32"))


def test_stills_keep_their_size_and_follow_the_painting(wct, style_images):
    image = photo(45, 61)
    wct.set_style([str(style_images[0])])
    first = wct(image)
    wct.set_style([str(style_images[1])])
    second = wct(image)
    assert first.shape == second.shape == image.shape and first.dtype == np.uint8
    assert np.abs(first.astype(int) - second.astype(int)).mean() > 2


def test_alpha_zero_gives_back_the_photo_and_decoding_the_picture_does_not(wct, style_images):
    image = photo(32, 48)
    wct.set_style([str(style_images[0])])
    wct.configure(alpha=0.0, levels=("relu4_3", "relu3_3", "relu2_2"))  # relu1_2's picture is decoded directly
    assert np.abs(wct(image).astype(int) - image).max() <= 1  # the change decoded is none: the decoders' error cancels
    wct.configure(decode_change=False)
    assert np.abs(wct(image).astype(int) - image).mean() > 5  # an untrained decoder's picture is far from the photo


def test_preserve_color_keeps_the_photos_chroma(wct, style_images):
    image = photo(32, 48)
    wct.set_style([str(style_images[0])])
    wct.configure(preserve_color=True)
    out = wct(image).astype(float)
    chroma = lambda f: f - f.mean(axis=2, keepdims=True)  # noqa: E731 - RGB minus grey, up to clipping
    inside = (out > 5).all(axis=2) & (out < 250).all(axis=2)
    assert np.abs(chroma(out) - chroma(image.astype(float)))[inside].mean() < 2


def test_coarse_size_changes_how_large_pictures_are_worked_but_not_their_size(wct, style_images):
    image = photo(96, 136)
    wct.set_style([str(style_images[0])])
    full = wct(image)
    wct.configure(coarse_size=64)
    coarse = wct(image)
    assert coarse.shape == full.shape == image.shape
    assert not np.array_equal(coarse, full)


def test_a_painting_is_read_once_and_an_edited_one_again(wct, style_images, monkeypatch):
    reads = []
    monkeypatch.setattr(wct.styles, "encode", lambda picture: reads.append(1) or {})
    wct.set_style([str(style_images[0]), f"{style_images[0]}:0.5"])
    wct.set_style([str(style_images[0])])
    assert len(reads) == 1
    save_png(style_images[0], photo(20, 20, seed=3))
    wct.set_style([str(style_images[0])])
    assert len(reads) == 2


@pytest.mark.parametrize(
    "source, message",
    [("candy", "built-in style names are MSG-Net's"), ("missing.jpg", "style image not found")],
)
def test_styles_that_are_not_pictures_are_one_line_errors(wct, source, message):
    with pytest.raises(RealtimeError, match=message):
        wct.set_style([source])


def test_levels_parse_by_name_or_number_deep_first():
    assert parse_levels("relu1_2, 4") == ("relu4_3", "relu1_2")
    with pytest.raises(RealtimeError, match="unknown WCT level"):
        parse_levels("relu5_1")


# --- training --------------------------------------------------------------------------------------------------


@pytest.fixture
def photos() -> ContentSet:
    return ContentSet([photo(40, 52, seed=s) for s in range(6)], 32, "cpu")


def train_config(tmp_path: Path, **changes) -> DecoderTrainConfig:
    values = dict(
        content=str(tmp_path),
        out=str(tmp_path / "d.safetensors"),
        checkpoint=str(tmp_path / "d.ckpt.pt"),
        log=str(tmp_path / "d.log.json"),
        levels=("relu1_2", "relu2_2"),
        steps=(12, 6),
        batch=2,
        size=32,
        lr=3e-3,
        val_every=0,
        checkpoint_every=5,
        precision="fp32",
    )
    values.update(changes)
    return DecoderTrainConfig.from_dict(values)


def run(config, vgg, photos, monkeypatch, interrupt_at=None):
    monkeypatch.setattr("realtime.wct.train.held_out_photos", lambda size: [photo(32, 32, seed=9)])
    training = DecoderTraining(config, vgg, vgg_identity(vgg, "tiny"), torch.device("cpu"), photos)
    if interrupt_at is not None:
        step = training.train_step

        def interrupted(images):
            if training.step + 1 == interrupt_at:
                signal.raise_signal(signal.SIGINT)
            return step(images)

        training.train_step = interrupted
    return training, DecoderRun(training, photos, progress=False).run()


def test_training_lowers_the_loss_and_writes_a_loadable_decoders_file(vgg, photos, tmp_path, monkeypatch):
    config = train_config(tmp_path, steps=(40, 6))
    training, result = run(config, vgg, photos, monkeypatch)
    assert result.status == "finished" and result.levels_done == ["relu1_2", "relu2_2"]
    first = [row["pixel"] for row in training.history if row["level"] == "relu1_2"]
    assert np.mean(first[-3:]) < np.mean(first[:3])
    decoders = load_decoders(config.out)
    assert decoders.levels == ["relu1_2", "relu2_2"] and decoders.vgg["name"] == "tiny"
    assert set(decoders.training["held_out_psnr"]) == {"relu1_2", "relu2_2"}
    image = torch.from_numpy(photo(32, 32, seed=9)).permute(2, 0, 1)[None].float()
    assert reconstruction_psnr(decoders.decoders["relu1_2"], vgg, [photo(32, 32, seed=9)]) > float(
        psnr(image * 0 + 128, image)
    )


def test_an_interrupted_run_checkpoints_and_resumes_to_the_same_decoders(vgg, photos, tmp_path, monkeypatch):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    whole, _ = run(train_config(tmp_path / "a", content=str(tmp_path)), vgg, photos, monkeypatch)
    config = train_config(tmp_path / "b", content=str(tmp_path))
    stopped, result = run(config, vgg, photos, monkeypatch, interrupt_at=8)
    assert result.status == "interrupted" and stopped.step == 8 and Path(config.checkpoint).is_file()
    resumed = DecoderTraining(config, vgg, vgg_identity(vgg, "tiny"), torch.device("cpu"), photos)
    resumed.load_state_dict(load_checkpoint(config.checkpoint), config.checkpoint)
    assert resumed.level == "relu1_2" and resumed.step == 8
    DecoderRun(resumed, photos, progress=False).run()
    for level in ("relu1_2", "relu2_2"):
        for a, b in zip(whole.decoders[level].parameters(), resumed.decoders[level].parameters()):
            assert torch.allclose(a, b, atol=1e-6)


def test_a_checkpoint_of_another_vgg_is_refused(vgg, photos, tmp_path, monkeypatch):
    config = train_config(tmp_path, steps=(2, 2))
    training, _ = run(config, vgg, photos, monkeypatch)
    other = tiny_vgg((8, 8, 8, 8))
    with torch.no_grad():
        other.features[0].weight.mul_(2)
    fresh = DecoderTraining(config, other, vgg_identity(other, "other"), torch.device("cpu"), photos)
    with pytest.raises(RealtimeError, match="another VGG16"):
        fresh.load_state_dict(training.state_dict(), "ckpt")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"steps": (1, 2, 3)}, "--steps takes one count"),
        ({"size": 30}, "multiple of 8"),
        ({"levels": ("relu1_2", "relu1_2")}, "different levels"),
        ({"content": "/no/such/folder"}, "content folder not found"),
    ],
)
def test_bad_training_settings_are_one_line_errors(tmp_path, changes, message):
    with pytest.raises(RealtimeError, match=message):
        train_config(tmp_path, **changes).validate()


# --- the command line ------------------------------------------------------------------------------------------


@pytest.fixture
def cli_setup(vgg, tmp_path, monkeypatch):
    """A tiny VGG wherever the commands load one, and its decoders in a file."""
    monkeypatch.setattr(VGGFeatures, "load", classmethod(lambda cls, path=None, arch="vgg16", pool="max": vgg))
    path = tmp_path / "tiny-decoders.safetensors"
    save_decoders(make_decoders(vgg), path)
    return path


def _image(args, capsys):
    try:
        code = cli.main(["image", *map(str, args)])
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_method_wct_writes_a_stylised_picture_of_the_inputs_size(
    cli_setup, photo_file, style_images, tmp_path, capsys
):
    out = tmp_path / "out.png"
    args = [photo_file, "-o", out, "--method", "wct", "--decoders", cli_setup, "--style", f"{style_images[0]}:0.7"]
    code, stdout, _ = _image([*args, "--style", f"{style_images[1]}:0.3", "--json", "--levels", "4,2"], capsys)
    assert code == 0
    written, source = read_image(out), read_image(photo_file)
    assert written.shape == source.shape and np.abs(written.astype(int) - source.astype(int)).mean() > 2
    assert '"method": "wct"' in stdout and '"relu4_3"' in stdout


def test_cli_stroke_scales_the_size_the_deep_levels_work_at(cli_setup, style_images, tmp_path, capsys):
    big = save_png(tmp_path / "big.png", photo(192, 256))
    pictures = {}
    for stroke in ("0", "1", "2"):
        out = tmp_path / f"stroke{stroke}.png"
        args = ["--method", "wct", "--decoders", cli_setup, "--style", style_images[0], "--coarse-size", "128"]
        code, _, err = _image([big, "-o", out, *args, "--stroke", stroke], capsys)
        assert code == 0, err
        pictures[stroke] = read_image(out).astype(int)
    assert pictures["0"].shape == pictures["2"].shape == (192, 256, 3)
    assert not np.array_equal(pictures["1"], pictures["0"])  # 128 px against the full size
    assert not np.array_equal(pictures["2"], pictures["1"])  # 64 px against 128


def test_cli_strength_zero_gives_back_the_photo(cli_setup, photo_file, style_images, tmp_path, capsys):
    out = tmp_path / "out.png"
    args = ["--method", "wct", "--decoders", cli_setup, "--style", style_images[0], "--strength", "0"]
    assert _image([photo_file, "-o", out, *args], capsys)[0] == 0
    assert np.array_equal(read_image(out), read_image(photo_file))


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--style", "candy"], "built-in style names are MSG-Net's"),
        (["--style", "STYLE", "--refine"], "--refine fits MSG-Net's"),
        (["--style", "STYLE", "--alpha", "1.5"], "between 0 and 1"),
        (["--style", "STYLE", "--levels", "relu9_9"], "unknown WCT level"),
        (["--style", "STYLE", "--decoders", "missing.safetensors"], "not found"),
    ],
)
def test_cli_bad_wct_inputs_exit_2_with_one_line(cli_setup, photo_file, style_images, tmp_path, capsys, extra, message):
    extra = [str(style_images[0]) if part == "STYLE" else part for part in extra]
    if "--decoders" not in extra:
        extra += ["--decoders", str(cli_setup)]
    code, _, err = _image([photo_file, "-o", tmp_path / "out.png", "--method", "wct", *extra], capsys)
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "out.png").exists()


def test_cli_method_gatys_renders_through_the_gatys_optimiser(photo_file, style_images, tmp_path, capsys, monkeypatch):
    network = LossNetwork(tiny_vgg((8, 16, 16, 16)), "vgg16", "max", "tests")
    monkeypatch.setattr(LossNetwork, "load", classmethod(lambda cls, path=None, arch=None, pool="max": network))
    out = tmp_path / "out.png"
    code, stdout, _ = _image(
        [photo_file, "-o", out, "--method", "gatys", "--style", style_images[0], "--size", "32", "--json"], capsys
    )
    assert code == 0 and '"method": "gatys"' in stdout
    written, source = read_image(out), fit_long_side(read_image(photo_file), 32)
    assert written.shape == source.shape
    assert np.abs(written.astype(int) - source.astype(int)).mean() > 2  # painted, not the photo


@pytest.mark.parametrize(
    "styles, vgg, cached, msgnet_asked, chosen",
    [
        (["STYLE"], "vgg.pth", False, False, "wct"),  # a painting and a VGG16 file: WCT
        (["STYLE"], None, True, False, "wct"),  # torchvision's VGG16 already downloaded
        (["STYLE"], None, False, False, "msgnet"),  # WCT would need a download
        (["STYLE", "candy"], "vgg.pth", False, False, "msgnet"),  # a built-in style
        (["STYLE"], "vgg.pth", False, True, "msgnet"),  # --refine, --weights or --model asked for MSG-Net
    ],
)
def test_auto_picks_wct_for_paintings_when_a_vgg_is_at_hand(
    style_images, monkeypatch, styles, vgg, cached, msgnet_asked, chosen
):
    from realtime import stills
    from realtime.model.style_spec import StyleSpec

    monkeypatch.setattr(stills, "torchvision_vgg16_cached", lambda: cached)
    specs = [StyleSpec(str(style_images[0]) if s == "STYLE" else s) for s in styles]
    assert stills.choose_method("auto", specs, vgg, msgnet_asked) == chosen
    assert stills.choose_method("gatys", specs, vgg, msgnet_asked) == "gatys"


def test_levels_without_a_decoder_are_refused(vgg):
    decoders = make_decoders(vgg)
    del decoders.decoders["relu3_3"]
    with pytest.raises(RealtimeError, match="no decoder for relu3_3"):
        WCT(decoders, vgg)
    wct = WCT(decoders, vgg, settings=WCTSettings(levels=("relu4_3", "relu2_2")))
    with pytest.raises(RealtimeError, match="no decoder for relu3_3"):
        wct.configure(levels=("relu3_3",))
