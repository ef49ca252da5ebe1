"""Gatys mode on a tiny random VGG-shaped trunk (fast), plus one run through the real local VGG16."""

from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager

import numpy as np
import pytest
import torch
import torchvision
from conftest import make_weights, photo, rgb_to_ycbcr, save_png, tiny_vgg

import realtime.atomic
import realtime.live.gatys_worker
from realtime import cli
from realtime.errors import RealtimeError
from realtime.gatys.grams import StyleGrams
from realtime.gatys.network import LossNetwork
from realtime.gatys.optimize import Gatys
from realtime.gatys.render_file import render_still
from realtime.gatys.settings import GatysSettings, parse_layer_list, parse_weight_list
from realtime.imaging.frames import frame_to_tensor
from realtime.imaging.images import read_image
from realtime.live.gatys_worker import GatysSnapshotRenderer
from realtime.live.snapshot import SnapshotRequest, SnapshotStatus
from realtime.model.style_spec import StyleSpec
from realtime.perceptual.losses import STYLE_LAYERS, style_grams

# Trained VGG weights the project cannot download in tests: a features state dict named by the environment.
REAL_VGG = os.environ.get("REALTIME_TEST_VGG")


def tiny_network(pool: str = "max") -> LossNetwork:
    """VGG16's layer layout (relu1_1 … relu4_3) with 8–16 channels: the real code path at a fraction of the cost."""
    return LossNetwork(tiny_vgg((8, 16, 16, 16), pool), "vgg16", pool, "tests")


def settings(**changes) -> GatysSettings:
    base = dict(size=64, steps=6, levels=1)
    base.update(changes)
    return GatysSettings(**base)


@pytest.fixture(scope="module")
def network() -> LossNetwork:
    return tiny_network()


@pytest.fixture
def gatys(network) -> Gatys:
    return Gatys(network, settings())


def test_loss_decreases_and_output_has_the_content_size(gatys, style_images):
    content = photo(37, 45)
    styles = gatys.styles([str(style_images[0])])
    result = gatys.render(content, styles)
    assert result.frame.shape == (37, 45, 3) and result.frame.dtype == np.uint8
    losses = result.history[0]
    assert len(losses) == 6 and losses[-1] < 0.7 * losses[0]
    assert result.loss.total < gatys.evaluate(content, content, styles).total
    assert not result.interrupted and result.steps == 6


def test_large_photos_are_rendered_at_size_and_coarse_to_fine_runs_every_level(network, style_images):
    gatys = Gatys(network, settings(size=96, levels=2, steps=3))
    result = gatys.render(photo(120, 91), gatys.styles([str(style_images[1])]))
    assert result.frame.shape == (96, 73, 3)
    assert [len(level) for level in result.history] == [3, 3]
    assert result.steps == 6


def test_automatic_levels_start_near_256_pixels(network):
    sizes = Gatys(network, settings(size=1024, levels=0)).level_sizes((768, 1024))
    assert sizes == [(192, 256), (384, 512), (768, 1024)]
    assert Gatys(network, settings(size=256, levels=0)).level_sizes((200, 256)) == [(200, 256)]


def test_pixels_stay_in_range_during_the_optimisation(gatys, style_images, monkeypatch):
    seen: list[tuple[float, float]] = []
    forward = gatys.vgg.forward

    def spy(images, layers):
        seen.append((float(images.detach().min()), float(images.detach().max())))
        return forward(images, layers)

    monkeypatch.setattr(gatys.vgg, "forward", spy)
    # A style weight this high drives unconstrained pixels far outside 0–255 within a few steps.
    gatys = Gatys(gatys.network, settings(style_weight=1e6, optimizer="adam", adam_lr=2.0))
    gatys.render(photo(32, 32), gatys.styles([str(style_images[0])]))
    assert len(seen) > 6
    assert min(lo for lo, _ in seen) >= 0.0 and max(hi for _, hi in seen) <= 255.0


def test_adam_also_lowers_the_loss(network, style_images):
    gatys = Gatys(network, settings(optimizer="adam", steps=10))
    result = gatys.render(photo(32, 40), gatys.styles([str(style_images[0])]))
    assert result.history[0][-1] < result.history[0][0]


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(float) - b.astype(float)).mean())


def test_style_layer_weights_change_the_result(network, style_images):
    content = photo(40, 40)
    frames = []
    for weights in [(1, 0, 0, 0), (0, 0, 0, 1)]:
        gatys = Gatys(network, settings(style_layer_weights=weights))
        frames.append(gatys.render(content, gatys.styles([str(style_images[0])])).frame)
    assert _mean_difference(*frames) > 2


def test_style_mix_weights_change_the_result(gatys, style_images):
    content = photo(40, 40)
    stripes, blotches = (str(p) for p in style_images)
    mostly_stripes = gatys.render(content, gatys.styles([f"{stripes}:0.9", f"{blotches}:0.1"])).frame
    mostly_blotches = gatys.render(content, gatys.styles([f"{stripes}:0.1", f"{blotches}:0.9"])).frame
    assert _mean_difference(mostly_stripes, mostly_blotches) > 2


def test_mixed_targets_are_the_weighted_mean_of_each_style(network, style_images):
    a, b = (read_image(p) for p in style_images)
    mixed = StyleGrams(network, STYLE_LAYERS, [(3.0, a), (1.0, b)]).at(64, 64, torch.device("cpu"))
    with torch.no_grad():
        ga, gb = (style_grams(network.vgg(frame_to_tensor(f), STYLE_LAYERS)) for f in (a, b))
    for layer in STYLE_LAYERS:
        assert torch.allclose(mixed[layer], 0.75 * ga[layer] + 0.25 * gb[layer], rtol=1e-4, atol=1e-7)


def test_ctrl_c_returns_the_best_image_so_far(gatys, style_images):
    content = photo(33, 47)
    styles = gatys.styles([str(style_images[0])])

    def interrupt_at_step_3(progress):
        if progress.done == 3:
            raise KeyboardInterrupt

    result = gatys.render(content, styles, callback=interrupt_at_step_3)
    assert result.interrupted and result.steps == 3
    assert result.frame.shape == (33, 47, 3)
    assert result.loss.total < gatys.evaluate(content, content, styles).total


def test_a_set_stop_event_ends_the_render_with_the_starting_image(gatys, style_images):
    stop = threading.Event()
    stop.set()
    content = photo(32, 32)
    result = gatys.render(content, gatys.styles([str(style_images[0])]), stop=stop)
    assert result.interrupted and result.steps == 0
    assert _mean_difference(result.frame, content) < 1.5


def test_noise_init_is_reproducible_and_differs_from_content_init(network, style_images):
    content = photo(32, 32)
    runs = []
    for init, seed in [("noise", 1), ("noise", 1), ("noise", 2), ("content", 0)]:
        gatys = Gatys(network, settings(steps=2, seed=seed))
        runs.append(gatys.render(content, gatys.styles([str(style_images[0])]), init).frame)
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    assert _mean_difference(runs[0], runs[3]) > 10


def test_preserve_color_keeps_the_photo_chroma(network, style_images):
    content = photo(40, 40)
    chroma = {}
    for keep in (False, True):
        gatys = Gatys(network, settings(preserve_color=keep, style_weight=1e4))
        out = gatys.render(content, gatys.styles([str(style_images[0])])).frame
        diff = rgb_to_ycbcr(frame_to_tensor(out))[:, 1:] - rgb_to_ycbcr(frame_to_tensor(content))[:, 1:]
        chroma[keep] = float(diff.abs().mean())
    assert chroma[True] < 0.25 * chroma[False]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"content_layer": "relu5_2"}, "relu5_2 not in the loss network"),
        ({"style_layers": ("relu1_1", "conv9")}, "conv9"),
        ({"style_layer_weights": (0.05, 0.05, 0.2, 0.3, 0.4)}, "5 style layer weights for 4 style layers"),
        ({"optimizer": "sgd"}, "unknown optimizer"),
        ({"style_weight": -1.0}, "loss weights"),
        ({"size": 8}, "size must be at least 32, got 8"),
        ({"steps": 0}, "steps must be 1 or more"),
        ({"style_weight": 0.0, "content_weight": 0.0}, "nothing to optimise"),
        ({"adam_lr": 0.0}, "Adam learning rate must be above 0"),
    ],
)
def test_bad_settings_are_one_line_errors(network, changes, message):
    with pytest.raises(RealtimeError, match=message) as caught:
        Gatys(network, settings(**changes))
    assert "\n" not in str(caught.value)


def test_layer_and_weight_lists_parse_or_fail_clearly():
    assert parse_weight_list("0.05,0.05,0.2,0.3,0.4") == (0.05, 0.05, 0.2, 0.3, 0.4)
    assert parse_layer_list("relu1_1, relu2_1") == ("relu1_1", "relu2_1")
    for bad in ("0.1,x", "0,0", "-1,2", "nan"):
        with pytest.raises(RealtimeError):
            parse_weight_list(bad)


def test_missing_or_foreign_vgg_files_are_clear_errors(tmp_path):
    with pytest.raises(RealtimeError, match=r"VGG weights not found"):
        LossNetwork.load(tmp_path / "nope.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(RealtimeError, match=r"junk.pth is not a readable VGG state dict"):
        LossNetwork.load(junk)
    vgg16 = tmp_path / "vgg16.pth"
    torch.save(torchvision.models.vgg16().features[:18].state_dict(), vgg16)  # up to conv4_1, where VGG19 differs
    with pytest.raises(RealtimeError, match=r"not a vgg19 features state dict \((Missing|Unexpected) key"):
        LossNetwork.load(vgg16, "vgg19")
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(vgg16.read_bytes()[: vgg16.stat().st_size // 2])
    with pytest.raises(RealtimeError, match=r"truncated.pth is not a readable VGG state dict"):
        LossNetwork.load(truncated)


def test_a_saved_torchvision_vgg16_features_state_dict_is_a_loss_network(tmp_path):
    """The file `--vgg` help and error messages tell users to make: all of `vgg16().features`, saved whole."""
    torch.manual_seed(0)
    features = torchvision.models.vgg16().features.eval()
    path = tmp_path / "vgg16_features.pth"
    torch.save(features.state_dict(), path)
    network = LossNetwork.load(path)
    assert network.arch == "vgg16" and network.vgg.layers[-1] == "relu5_3"
    images = torch.rand(1, 3, 32, 32) * 255
    with torch.no_grad():
        expected = features[:23](
            (images / 255 - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
            / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        )
        torch.testing.assert_close(network.vgg(images, ["relu4_3"])["relu4_3"], expected, rtol=1e-4, atol=1e-4)


def _weights_with_vgg_bank(network: LossNetwork, info: dict):
    weights = make_weights()
    grams = {}
    for name in weights.bank.names():
        frame = photo(32, 32, seed=len(grams))
        with torch.no_grad():
            grams[name] = style_grams(network.vgg(frame_to_tensor(frame), STYLE_LAYERS))
    weights.vgg_bank = {
        layer: torch.stack([grams[n][layer][0] for n in weights.bank.names()]) for layer in STYLE_LAYERS
    }
    weights.vgg_bank_info = info
    return weights


def test_built_in_names_render_from_the_weights_files_vgg_targets(network):
    weights = _weights_with_vgg_bank(network, {"network": "vgg16", "pool": "max", "style_size": 32})
    styles = StyleGrams.from_specs(["STYLE1"], network, STYLE_LAYERS, weights)
    targets = styles.at(64, 64, torch.device("cpu"))
    assert torch.equal(targets["relu2_2"], weights.vgg_bank["relu2_2"][1])


@pytest.mark.parametrize(
    "info, layers, message",
    [
        ({"network": "vgg19", "pool": "max"}, STYLE_LAYERS, "computed with vgg19/max"),
        ({"network": "vgg16", "pool": "avg"}, STYLE_LAYERS, "--pool avg"),
        ({"network": "vgg16", "pool": "max"}, ("relu1_1",), "choose --style-layers among them"),
    ],
)
def test_built_in_targets_that_do_not_fit_the_network_are_refused(network, info, layers, message):
    weights = _weights_with_vgg_bank(network, info)
    with pytest.raises(RealtimeError, match=message):
        StyleGrams.from_specs(["style0"], network, layers, weights)


def test_unknown_names_say_what_works_instead(network):
    with pytest.raises(RealtimeError, match=r"no trained weights with built-in styles.*sample:NAME"):
        StyleGrams.from_specs(["candy"], network, STYLE_LAYERS, None)
    with pytest.raises(RealtimeError, match=r"built-in styles: style0, style1"):
        StyleGrams.from_specs(["candy"], network, STYLE_LAYERS, make_weights())
    with pytest.raises(RealtimeError, match=r"has no VGG targets"):
        StyleGrams.from_specs(["style0"], network, STYLE_LAYERS, make_weights())
    with pytest.raises(RealtimeError, match=r"style image not found"):
        StyleGrams.from_specs(["missing.jpg"], network, STYLE_LAYERS, None)


def test_msgnet_init_starts_from_the_generator_output(network, style_images, weights_file, tmp_path):
    gatys = Gatys(network, settings(steps=1))
    content = save_png(tmp_path / "p.png", photo(30, 41))
    frames = {}
    for init in ("content", "msgnet"):
        out = tmp_path / f"{init}.png"
        result = render_still(content, out, [str(style_images[0])], gatys, init, weights_file)
        frames[init] = read_image(out)
        assert frames[init].shape == (30, 41, 3) and np.array_equal(frames[init], result.frame)
    # One step barely moves the start, so the two renders differ as the photo and MSG-Net's output do.
    assert _mean_difference(frames["content"], frames["msgnet"]) > 10


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def tiny_loss_network(monkeypatch, network):
    monkeypatch.setattr(LossNetwork, "load", classmethod(lambda cls, path=None, arch=None, pool="max": network))
    return network


def _cli(args, capsys):
    code = cli.main(["gatys", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_renders_and_reports_json(tiny_loss_network, photo_file, style_images, tmp_path, capsys):
    out = tmp_path / "out.png"
    code, stdout, _ = _cli(
        [
            photo_file,
            "-o",
            out,
            "--style",
            f"{style_images[0]}:0.7",
            "--style",
            f"{style_images[1]}:0.3",
            "--size",
            64,
            "--steps",
            3,
            "--device",
            "cpu",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    assert read_image(out).shape == (45, 61, 3)
    summary = json.loads(stdout)
    assert summary["steps"] == 3 and not summary["interrupted"]
    assert [s["weight"] for s in summary["styles"]] == [0.7, 0.3]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--content-layer", "relu9_9"], "relu9_9 not in the loss network"),
        (["--style-layer-weights", "0.05,0.05,0.2,0.3,0.4"], "5 style layer weights for 4 style layers"),
        (["--style-layer-weights", "a,b"], "comma-separated numbers"),
        (["--style", "nosuchstyle"], "unknown style 'nosuchstyle'"),
    ],
)
def test_cli_bad_inputs_exit_2_with_one_line(
    tiny_loss_network, photo_file, style_images, tmp_path, capsys, extra, message
):
    out = tmp_path / "out.png"
    code, _, err = _cli([photo_file, "-o", out, "--style", style_images[0], "--steps", 1, *extra], capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_cli_refuses_to_overwrite_the_style_image(tiny_loss_network, photo_file, style_images, capsys):
    painting = style_images[0]
    before = painting.read_bytes()
    code, _, err = _cli([photo_file, "-o", painting, "--style", painting, "--steps", 1], capsys)
    assert code == 2 and "would replace the style image" in err and err.count("\n") == 1
    assert painting.read_bytes() == before


def test_cli_an_unwritable_output_folder_fails_before_rendering(
    tiny_loss_network, photo_file, style_images, tmp_path, capsys, monkeypatch
):
    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(realtime.atomic.tempfile, "TemporaryFile", read_only)
    monkeypatch.setattr(Gatys, "render", lambda *a, **k: pytest.fail("rendered before checking the output folder"))
    code, _, err = _cli([photo_file, "-o", tmp_path / "o.png", "--style", style_images[0], "--steps", 1], capsys)
    assert code == 2 and "Read-only file system" in err and err.count("\n") == 1


def test_cli_missing_vgg_file_exits_2(photo_file, style_images, tmp_path, capsys):
    code, _, err = _cli(
        [photo_file, "-o", tmp_path / "o.png", "--style", style_images[0], "--vgg", tmp_path / "no.pth"], capsys
    )
    assert code == 2 and "VGG weights not found" in err and err.count("\n") == 1


def test_cli_ctrl_c_saves_the_best_so_far(tiny_loss_network, photo_file, style_images, tmp_path, capsys, monkeypatch):
    render = Gatys.render

    def interrupted_render(self, content, styles, init="content", **kwargs):
        def ctrl_c(progress):
            if progress.done == 2:
                raise KeyboardInterrupt

        return render(self, content, styles, init, **{**kwargs, "callback": ctrl_c})

    monkeypatch.setattr(Gatys, "render", interrupted_render)
    out = tmp_path / "out.png"
    code, _, err = _cli([photo_file, "-o", out, "--style", style_images[0], "--size", 64, "--steps", 5], capsys)
    assert code == 130 and "saved the best image so far" in err
    assert read_image(out).shape == (45, 61, 3)


@pytest.mark.skipif(not REAL_VGG, reason="set REALTIME_TEST_VGG to a VGG16 features state dict")
def test_cli_with_the_real_local_vgg(photo_file, style_images, tmp_path, capsys):
    out = tmp_path / "out.jpg"
    code, _, err = _cli(
        [
            photo_file,
            "-o",
            out,
            "--style",
            style_images[1],
            "--size",
            48,
            "--steps",
            3,
            "--vgg",
            REAL_VGG,
            "--device",
            "cpu",
        ],
        capsys,
    )
    assert code == 0, err
    assert read_image(out).shape == (35, 48, 3)


# --- background snapshots --------------------------------------------------------------------------


class _Gate:
    """Holds the worker inside `styles` until released, so 'submit did not block' is checked without timing."""

    def __init__(self, gatys: Gatys) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        styles = gatys.styles

        def gated(*args, **kwargs):
            self.entered.set()
            self.release.wait()
            return styles(*args, **kwargs)

        gatys.styles = gated


def test_snapshot_renders_in_the_background_and_writes_a_readable_file(gatys, style_images, tmp_path):
    gate = _Gate(gatys)
    out = tmp_path / "snap.png"
    with GatysSnapshotRenderer(gatys) as renderer:
        job = renderer.submit(photo(36, 50), [str(style_images[0])], out)
        assert gate.entered.wait(30)
        assert not job.done.is_set() and job.progress == 0.0 and job.saved is None
        gate.release.set()
        assert job.done.wait(60)
    assert job.error is None and job.saved == out and job.progress == 1.0
    assert f"saved snapshot {out}" == job.status
    assert read_image(out).shape == (36, 50, 3)


def test_snapshot_renders_hold_off_generator_compiles(gatys, style_images, tmp_path, monkeypatch):
    seen: list[str] = []

    class RecordingGate:
        @contextmanager
        def eager(self):
            seen.append("eager")
            yield
            seen.append("done")

    monkeypatch.setattr(realtime.live.gatys_worker, "GATE", RecordingGate())
    render = gatys.render

    def recorded_render(*args, **kwargs):
        seen.append("render")
        return render(*args, **kwargs)

    monkeypatch.setattr(gatys, "render", recorded_render)
    with GatysSnapshotRenderer(gatys) as renderer:
        job = renderer.submit(photo(32, 32), [str(style_images[0])], tmp_path / "snap.png")
        assert job.done.wait(60)
    assert job.error is None and job.saved == tmp_path / "snap.png"
    assert seen == ["eager", "render", "done"]


def test_snapshot_cancel_writes_nothing_and_the_worker_carries_on(gatys, style_images, tmp_path):
    gate = _Gate(gatys)
    with GatysSnapshotRenderer(gatys) as renderer:
        first = renderer.submit(photo(32, 32), [str(style_images[0])], tmp_path / "first.png")
        assert gate.entered.wait(30)
        first.cancel()
        gate.release.set()
        second = renderer.submit(photo(32, 32), [str(style_images[0])], tmp_path / "second.png")
        assert first.done.wait(60) and second.done.wait(60)
    assert first.status == "snapshot cancelled" and not (tmp_path / "first.png").exists()
    assert second.saved == tmp_path / "second.png" and second.saved.is_file()


def test_snapshot_errors_are_reported_not_raised(gatys, tmp_path):
    with GatysSnapshotRenderer(gatys) as renderer:
        job = renderer.submit(photo(32, 32), ["missing.jpg"], tmp_path / "x.png")
        assert job.done.wait(60)
        grams = StyleGrams(gatys.network, STYLE_LAYERS, [(1.0, photo(32, 32, seed=3))])
        ok = renderer.submit(photo(32, 32), grams, tmp_path / "y.png")
        assert ok.done.wait(60)
    assert job.status.startswith("snapshot failed: style image not found") and not (tmp_path / "x.png").exists()
    assert ok.saved is not None and ok.saved.is_file()


def test_shutdown_cancels_what_is_queued_and_running(gatys, style_images, tmp_path):
    gate = _Gate(gatys)
    renderer = GatysSnapshotRenderer(gatys)
    running = renderer.submit(photo(32, 32), [str(style_images[0])], tmp_path / "a.png")
    queued = renderer.submit(photo(32, 32), [str(style_images[0])], tmp_path / "b.png")
    assert gate.entered.wait(30)
    renderer.shutdown(wait=False)
    gate.release.set()
    renderer.shutdown()
    assert running.done.is_set() and queued.done.is_set()
    assert running.status == queued.status == "snapshot cancelled"
    assert not (tmp_path / "a.png").exists() and not (tmp_path / "b.png").exists()
    with pytest.raises(RealtimeError, match=r"shut down"):
        renderer.submit(photo(32, 32), [str(style_images[0])], tmp_path / "c.png")


def test_photos_too_small_for_the_network_are_refused(gatys, style_images):
    with pytest.raises(RealtimeError, match=r"needs 16 px a side"):
        gatys.render(photo(9, 40), gatys.styles([str(style_images[0])]))


def test_the_live_snapshot_hook_renders_from_the_live_stylisation(gatys, style_images, tmp_path):
    live_frame = photo(32, 40, seed=7)
    request = SnapshotRequest(
        photo(32, 40), live_frame, (StyleSpec(str(style_images[0])),), "stripes", 1.0, False, tmp_path
    )
    status = SnapshotStatus()
    with GatysSnapshotRenderer(gatys) as renderer:
        renderer.hook(request, status)
        job = renderer.latest
        assert job is not None and job.done.wait(60)
    message, progress, _ = status.read()
    assert message == f"saved snapshot {job.saved}" and progress == 1.0
    assert job.saved.parent == tmp_path and job.saved.name.startswith("gatys-stripes-")
    assert read_image(job.saved).shape == (32, 40, 3)
