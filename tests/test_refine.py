"""Refined style targets: fitted through the frozen generator, cached, used by the stylizer and the CLI."""

from __future__ import annotations

import threading

import pytest
import torch
from conftest import make_weights, photo, save_png, tiny_vgg

from realtime import cli
from realtime.errors import RealtimeError
from realtime.gatys.network import LossNetwork
from realtime.imaging.frames import frame_to_tensor
from realtime.imaging.images import read_image
from realtime.live.catalog import StyleCatalog, StyleEntry, TargetLoader
from realtime.live.messages import Messages
from realtime.live.switcher import StyleSwitcher
from realtime.model.style_spec import StyleSpec
from realtime.model.targets import StyleTargets
from realtime.perceptual.losses import STYLE_LAYERS, style_grams
from realtime.perceptual.quality import style_distance
from realtime.perceptual.refine import TargetRefiner, default_cache_dir, default_refine_steps
from realtime.perceptual.settings import DEFAULT_REFINE_STEPS, RefineSettings
from realtime.runtimes.stylizer import Stylizer


@pytest.fixture
def refine_photos(tmp_path):
    return tuple(str(save_png(tmp_path / f"p{i}.png", photo(40, 56, seed=i))) for i in range(2))


def _refiner(weights, photos, steps=15, cache_dir=None, **changes):
    settings = RefineSettings(steps=steps, size=32, photos=photos, **changes)
    return TargetRefiner(weights.model, tiny_vgg(), settings, "cpu", cache_dir=cache_dir)


def _count_fits(monkeypatch):
    """Each real fit appends its step count; cached targets and built-ins append nothing."""
    fits = []
    fit = TargetRefiner._fit
    monkeypatch.setattr(TargetRefiner, "_fit", lambda self, *a: fits.append(self.settings.steps) or fit(self, *a))
    return fits


def _style_error(refiner, target, style):
    """The objective's style term on the refinement photos, for a given target."""
    grams = {k: v[0] for k, v in style_grams(refiner.vgg(style, STYLE_LAYERS)).items()}
    with torch.no_grad():
        out = refiner.model(refiner.photos, target)
        return float(style_distance(refiner.vgg(out, STYLE_LAYERS), grams).mean())


def test_refining_finds_a_target_the_generator_can_reach(refine_photos):
    """The 'painting' is the generator's own output under another target: the fit must get close to it."""
    weights = make_weights()
    refiner = _refiner(weights, refine_photos, content_weight=0.0)  # the style term alone
    with torch.no_grad():
        style = weights.model(refiner.photos[:1], weights.bank["style1"])
    start = weights.bank["style0"]
    fitted = refiner(style, start)
    assert fitted.shape == start.shape and fitted.dtype == torch.float32
    assert torch.allclose(fitted, fitted.T)
    assert _style_error(refiner, fitted, style) < 0.2 * _style_error(refiner, start, style)


def test_zero_steps_return_the_encoder_target(refine_photos, style_images):
    weights = make_weights()
    style = frame_to_tensor(read_image(style_images[1]))
    with torch.no_grad():
        start = weights.model.encode_style(style)[0]
    assert torch.equal(_refiner(weights, refine_photos, steps=0)(style, start), start)


def test_refiner_works_from_inside_inference_mode(refine_photos, style_images):
    weights = make_weights()
    refiner = _refiner(weights, refine_photos, steps=3)
    style = frame_to_tensor(read_image(style_images[0]))
    with torch.inference_mode():  # as when a stylizer's forward asks for a style target
        start = weights.model.encode_style(style)[0]
        fitted = refiner(style, start)
    assert not torch.equal(fitted, start)


def test_stylizer_refines_image_styles_once_and_leaves_builtins_alone(refine_photos, style_images, monkeypatch):
    weights = make_weights()
    stylizer = Stylizer(weights, "cpu", style_size=64, optimize=False)
    plain = stylizer.styles.target(str(style_images[0])).clone()
    stylizer.styles.refiner = _refiner(weights, refine_photos, steps=3)
    calls = _count_fits(monkeypatch)

    refined = stylizer.styles.target(str(style_images[0]))
    again = stylizer.styles.target(str(style_images[0]))
    builtin = stylizer.styles.target("style0")
    assert len(calls) == 1 and again is refined
    assert not torch.allclose(refined, plain)
    assert torch.equal(builtin, weights.bank["style0"])

    stylizer.set_style([str(style_images[0])])
    out = stylizer(photo(40, 56, seed=3))
    assert out.shape == (40, 56, 3)


def test_another_vgg_with_the_same_recipe_refits(refine_photos, style_images, monkeypatch):
    """The in-memory cache is per refiner: a target fitted through one loss network is not another's."""
    weights = make_weights()
    styles = StyleTargets(weights.model, weights.bank, torch.device("cpu"), style_size=64)
    calls = _count_fits(monkeypatch)
    styles.refiner = _refiner(weights, refine_photos, steps=3)
    first = styles.target(str(style_images[0]))
    settings = styles.refiner.settings
    styles.refiner = TargetRefiner(weights.model, tiny_vgg(widths=(6, 8, 8, 8)), settings, "cpu")
    second = styles.target(str(style_images[0]))
    assert len(calls) == 2
    assert not torch.allclose(first, second)


def test_bad_refine_settings_are_refused():
    for changes in ({"steps": -1}, {"size": 8}, {"photos": ()}, {"lr": 0}):
        with pytest.raises(RealtimeError):
            RefineSettings(**changes)


def _image_cli(args, capsys):
    code = cli.main(["image", *map(str, args)])
    return code, capsys.readouterr().err


def test_cli_refine_writes_a_different_image(tmp_path, weights_file, photo_file, style_images, monkeypatch, capsys):
    monkeypatch.setattr("realtime.perceptual.refine.VGGFeatures.load", lambda path=None, arch="vgg16": tiny_vgg())
    plain, refined = tmp_path / "plain.png", tmp_path / "refined.png"
    base = [photo_file, "--style", style_images[0], "--weights", weights_file, "--device", "cpu"]
    assert _image_cli([*base, "-o", plain], capsys)[0] == 0
    assert _image_cli([*base, "-o", refined, "--refine", 4], capsys)[0] == 0
    a, b = read_image(plain), read_image(refined)
    assert a.shape == b.shape == (45, 61, 3)
    assert abs(a.astype(int) - b.astype(int)).mean() > 0.5
    assert len(list(default_cache_dir().glob("*.safetensors"))) == 1  # under $REALTIME_CACHE (conftest)


def test_cli_refine_without_a_vgg_is_one_line_and_exit_2(tmp_path, weights_file, photo_file, style_images, capsys):
    out = tmp_path / "out.png"
    code, err = _image_cli(
        [
            photo_file,
            "-o",
            out,
            "--style",
            style_images[0],
            "--weights",
            weights_file,
            "--refine",
            "--vgg",
            tmp_path / "no.pth",
        ],
        capsys,
    )
    assert code == 2
    assert err.strip().count("\n") == 0 and "VGG weights not found" in err
    assert not out.exists()


def test_batch_photos_are_square_crops_of_the_setting_size(refine_photos):
    refiner = _refiner(make_weights(), refine_photos, steps=0)
    assert refiner.photos.shape == (2, 3, 32, 32)


def _hold_fits(monkeypatch) -> threading.Event:
    """Fits wait for the returned event, so a test sees the encoder target before the fitted one."""
    release = threading.Event()
    fit = TargetRefiner._fit
    monkeypatch.setattr(TargetRefiner, "_fit", lambda self, *a: release.wait(30) and fit(self, *a))
    return release


def test_live_loader_shows_the_encoder_target_then_the_fitted_one(refine_photos, style_images, monkeypatch):
    """Refining costs seconds per painting: the picked painting shows at once with its encoder target, and
    the worker does not prefetch (or fit) a whole folder."""
    weights = make_weights()
    styles = StyleTargets(weights.model, weights.bank, torch.device("cpu"), style_size=64)
    styles.refiner = _refiner(weights, refine_photos, steps=2)
    release = _hold_fits(monkeypatch)
    fitted = _count_fits(monkeypatch)
    picked, other = (StyleEntry(p.stem, (StyleSpec(str(p)),)) for p in style_images)
    loader = TargetLoader(styles)
    try:
        loader.prefetch([picked, other])
        quick = loader.get(picked, wait=True)
        assert quick is not None and quick.error is None and not quick.final
        release.set()
        final = loader.get(picked, wait=True, final=True)
    finally:
        loader.close()
    assert final is not None and final.error is None and final.final
    assert torch.equal(quick.target, styles.target(str(style_images[0]), refine=False))
    assert torch.equal(final.target, styles.target(str(style_images[0])))
    assert not torch.equal(quick.target, final.target)
    assert len(fitted) == 1  # the other painting was never fitted


def test_a_painting_picked_during_another_fit_shows_at_once(refine_photos, style_images, monkeypatch):
    weights = make_weights()
    styles = StyleTargets(weights.model, weights.bank, torch.device("cpu"), style_size=64)
    styles.refiner = _refiner(weights, refine_photos, steps=2)
    release = _hold_fits(monkeypatch)
    first, second = (StyleEntry(p.stem, (StyleSpec(str(p)),)) for p in style_images)
    loader = TargetLoader(styles)
    try:
        assert not loader.get(first, wait=True).final  # its fit is now held
        shown = loader.get(second, wait=True)
        assert shown is not None and shown.error is None and not shown.final
        release.set()
        fitted = [loader.get(entry, wait=True, final=True) for entry in (first, second)]
    finally:
        loader.close()
    assert all(loaded.final and loaded.fit_error is None for loaded in fitted)
    assert torch.equal(fitted[1].target, styles.target(str(style_images[1])))


def test_a_failed_fit_keeps_the_encoder_target_and_says_why(refine_photos, style_images, monkeypatch):
    stylizer = Stylizer(make_weights(), "cpu", style_size=64, optimize=False)
    stylizer.styles.refiner = _refiner(stylizer.weights, refine_photos, steps=2)
    release = threading.Event()

    def failing_fit(self, *args):
        release.wait(30)
        raise RuntimeError("out of memory")

    monkeypatch.setattr(TargetRefiner, "_fit", failing_fit)
    catalog = StyleCatalog(stylizer.weights.bank.names(), start=[StyleSpec(str(style_images[0]))])
    messages = Messages()
    switcher = StyleSwitcher(stylizer, catalog, messages)
    try:
        encoder_target = switcher.look.target.clone()
        release.set()
        loaded = switcher.loader.get(switcher.applied, wait=True, final=True)
        assert not switcher.update()
    finally:
        switcher.close()
    assert loaded.final and "out of memory" in loaded.fit_error and "encoder target" in loaded.fit_error
    assert torch.equal(switcher.look.target, encoder_target)
    assert "out of memory" in messages.recent[-1] and "fitting" not in switcher.label


def test_the_live_picture_takes_the_fitted_target_when_it_arrives(refine_photos, style_images, monkeypatch):
    stylizer = Stylizer(make_weights(), "cpu", style_size=64, optimize=False)
    stylizer.styles.refiner = _refiner(stylizer.weights, refine_photos, steps=2)
    release = _hold_fits(monkeypatch)
    catalog = StyleCatalog(stylizer.weights.bank.names(), start=[StyleSpec(str(style_images[0]))])
    messages = Messages()
    switcher = StyleSwitcher(stylizer, catalog, messages)
    try:
        encoder_target = switcher.look.target.clone()
        assert "fitting to the painting" in switcher.label
        assert not switcher.update()  # nothing new while the fit is held
        release.set()
        switcher.loader.get(switcher.applied, wait=True, final=True)
        assert switcher.update()
    finally:
        switcher.close()
    assert not torch.equal(switcher.look.target, encoder_target)
    assert torch.equal(switcher.look.target, stylizer.styles.target(str(style_images[0])))
    assert "fitting" not in switcher.label and messages.recent[-1].endswith("fitted to the painting")


def test_fitted_targets_are_cached_on_disk_per_recipe(refine_photos, style_images, tmp_path, monkeypatch):
    weights = make_weights()
    style = frame_to_tensor(read_image(style_images[0]))
    with torch.no_grad():
        start = weights.model.encode_style(style)[0]
    fits = _count_fits(monkeypatch)
    cache = tmp_path / "refined"

    first = _refiner(weights, refine_photos, steps=3, cache_dir=cache)(style, start)
    again = _refiner(weights, refine_photos, steps=3, cache_dir=cache)(style, start)  # a new run, same painting
    other = _refiner(weights, refine_photos, steps=4, cache_dir=cache)(style, start)  # another recipe
    assert fits == [3, 4]
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert len(list(cache.glob("*.safetensors"))) == 2


def test_a_broken_cache_file_is_refitted_and_replaced(refine_photos, style_images, tmp_path):
    weights = make_weights()
    style = frame_to_tensor(read_image(style_images[0]))
    with torch.no_grad():
        start = weights.model.encode_style(style)[0]
    cache = tmp_path / "refined"
    first = _refiner(weights, refine_photos, steps=3, cache_dir=cache)(style, start)
    (entry,) = cache.glob("*.safetensors")
    entry.write_bytes(entry.read_bytes()[:40])  # truncated
    again = _refiner(weights, refine_photos, steps=3, cache_dir=cache)(style, start)
    assert torch.equal(first, again)
    assert entry.stat().st_size > 40


def test_an_unwritable_cache_warns_and_still_returns_the_target(refine_photos, style_images, tmp_path):
    weights = make_weights()
    style = frame_to_tensor(read_image(style_images[0]))
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.warns(UserWarning, match="could not keep the refined target"):
        fitted = _refiner(weights, refine_photos, steps=2, cache_dir=blocker / "refined")(style, weights.bank["style0"])
    assert fitted.shape == weights.bank["style0"].shape


@pytest.mark.parametrize(
    ("image_style", "vgg", "cached", "steps"),
    [
        (True, "vgg.pth", False, DEFAULT_REFINE_STEPS),
        (True, None, True, DEFAULT_REFINE_STEPS),
        (True, None, False, 0),  # nothing downloads unasked
        (False, "vgg.pth", True, 0),  # built-ins are not refined
    ],
)
def test_refining_is_the_default_for_paintings_where_a_vgg_is_at_hand(
    style_images, monkeypatch, image_style, vgg, cached, steps
):
    monkeypatch.setattr("realtime.perceptual.refine.torchvision_vgg16_cached", lambda: cached)
    sources = ["candy", str(style_images[0])] if image_style else ["candy"]
    assert default_refine_steps(vgg, sources) == steps


def test_video_refines_a_painting_by_default_with_a_vgg_and_not_with_refine_0(
    tmp_path, weights_file, style_images, monkeypatch, capsys
):
    from test_video import make_clip, probe, run

    from realtime.video.reader import VideoReader

    monkeypatch.setattr("realtime.perceptual.refine.VGGFeatures.load", lambda path=None, arch="vgg16": tiny_vgg())
    clip = make_clip(tmp_path / "clip.mp4")
    base = ["video", clip, "--style", style_images[0], "--weights", weights_file, "--vgg", tmp_path / "vgg.pth"]
    plain, refined = tmp_path / "plain.mp4", tmp_path / "refined.mp4"
    code, _, err = run(capsys, *base, "-o", plain, "--refine", "0")
    assert code == 0, err
    assert "fitting" not in err and not default_cache_dir().exists()
    code, _, err = run(capsys, *base, "-o", refined)
    assert code == 0, err
    assert "fitting each painting's target first" in err and "--refine 0 skips" in err
    assert probe(refined)["frames"] == probe(plain)["frames"] == 12
    a, b = (next(iter(VideoReader(path))).image.astype(int) for path in (plain, refined))
    assert abs(a - b).mean() > 0.5
    assert len(list(default_cache_dir().glob("*.safetensors"))) == 1


@pytest.mark.parametrize("refine", [None, "0"])
def test_live_fits_a_painting_by_default_with_a_vgg(tmp_path, weights_file, style_images, monkeypatch, capsys, refine):
    from test_video import make_clip

    monkeypatch.setattr("realtime.perceptual.refine.VGGFeatures.load", lambda path=None, arch="vgg16": tiny_vgg())
    snapshots = LossNetwork(tiny_vgg(), "vgg16", "max", "tiny")  # --vgg also gives the window's Gatys snapshots
    monkeypatch.setattr("realtime.gatys.network.LossNetwork.load", lambda path=None: snapshots)
    fits = _count_fits(monkeypatch)
    argv = ["live", "--source", make_clip(tmp_path / "clip.mp4"), "--no-window", "--once", "--record"]
    argv += [tmp_path / "live.mp4", "--weights", weights_file, "--size", 64, "--style", style_images[0]]
    argv += ["--vgg", tmp_path / "vgg.pth", *(["--refine", refine] if refine else [])]
    assert cli.main([str(a) for a in argv]) == 0
    err = capsys.readouterr().err
    assert ("fitted in the background" in err) == (refine is None)
    if refine is not None:
        assert fits == []  # with the default the fit runs in the background and may finish after the clip


def test_live_with_a_vgg19_for_snapshots_starts_without_fitting(
    tmp_path, weights_file, style_images, monkeypatch, capsys
):
    from test_video import make_clip

    def not_vgg16(path=None, arch="vgg16"):
        raise RealtimeError(f"{path} is not a vgg16 features state dict")

    monkeypatch.setattr("realtime.perceptual.refine.VGGFeatures.load", not_vgg16)
    snapshots = LossNetwork(tiny_vgg(), "vgg19", "max", "tiny")
    monkeypatch.setattr("realtime.gatys.network.LossNetwork.load", lambda path=None: snapshots)
    argv = ["live", "--source", make_clip(tmp_path / "clip.mp4"), "--no-window", "--once", "--record"]
    argv += [tmp_path / "live.mp4", "--weights", weights_file, "--size", 64, "--style", style_images[0]]
    assert cli.main([str(a) for a in [*argv, "--vgg", tmp_path / "vgg19.pth"]]) == 0
    err = capsys.readouterr().err
    assert "paintings keep their encoder targets" in err and "not a vgg16" in err
    assert cli.main([str(a) for a in [*argv, "--vgg", tmp_path / "vgg19.pth", "--refine"]]) == 2  # asked: an error
