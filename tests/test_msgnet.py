import pytest
import torch
from torch import nn

from realtime.model.gram import gram_matrix
from realtime.model.msgnet import Inspiration, MSGNet, UpBottleneck
from realtime.model.shapes import MODELS


def test_default_generator_has_the_papers_size():
    params = sum(p.numel() for p in MSGNet().parameters())
    assert 2_300_000 <= params <= 2_400_000


@pytest.mark.parametrize("h,w", [(16, 16), (32, 48), (64, 20)])
def test_output_matches_input_size(h, w):
    model = MSGNet(ngf=8, n_blocks=1).eval()
    target = model.encode_style(torch.rand(1, 3, 24, 24) * 255)
    with torch.no_grad():
        out = model(torch.rand(2, 3, h, w) * 255, target)
    assert out.shape == (2, 3, h, w)
    assert torch.isfinite(out).all()


def test_target_shape_is_channels_squared():
    model = MSGNet(ngf=8, n_blocks=1)
    target = model.encode_style(torch.rand(3, 3, 32, 32))
    assert target.shape == (3, model.target_channels, model.target_channels)


def test_gram_matrix_matches_definition():
    x = torch.randn(2, 4, 5, 6)
    flat = x.reshape(2, 4, 30)
    expected = torch.stack([f @ f.T for f in flat]) / (4 * 30)
    assert torch.allclose(gram_matrix(x), expected, atol=1e-6)


def test_per_sample_targets_equal_separate_runs():
    """A batch with one style per sample gives what each sample would get alone."""
    model = MSGNet(ngf=8, n_blocks=1).eval()
    content = torch.rand(2, 3, 16, 16) * 255
    targets = model.encode_style(torch.rand(2, 3, 16, 16) * 255)
    with torch.no_grad():
        batched = model(content, targets)
        single = torch.cat([model(content[i : i + 1], targets[i]) for i in range(2)])
    assert torch.allclose(batched, single, atol=1e-3)


def test_inspiration_applies_transposed_weight_times_target():
    layer = Inspiration(3)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(3).unsqueeze(0))
    target = torch.tensor([[2.0, 0, 0], [0, 3.0, 0], [1.0, 0, 1.0]])
    x = torch.randn(1, 3, 2, 2)
    expected = torch.einsum("ji,bjhw->bihw", target, x)
    assert torch.allclose(layer(x, target), expected, atol=1e-6)


def test_different_targets_change_the_output():
    model = MSGNet(ngf=8, n_blocks=1).eval()
    content = torch.rand(1, 3, 32, 32) * 255
    a = model.encode_style(torch.rand(1, 3, 32, 32) * 255)
    b = model.encode_style(torch.linspace(0, 255, 32).expand(1, 3, 32, 32).contiguous())
    with torch.no_grad():
        assert (model(content, a) - model(content, b)).abs().mean() > 1e-3


def test_light_model_is_a_narrow_msgnet():
    light = MSGNet(**MODELS["light"]).eval()
    full_params = sum(p.numel() for p in MSGNet(**MODELS["full"]).parameters())
    light_params = sum(p.numel() for p in light.parameters())
    assert light_params * 20 < full_params
    assert light.shape == MODELS["light"] and light.target_channels == 4 * MODELS["light"]["ngf"]
    target = light.encode_style(torch.rand(1, 3, 40, 40) * 255)
    with torch.no_grad():
        assert light(torch.rand(1, 3, 24, 36) * 255, target).shape == (1, 3, 24, 36)


def test_shortcut_convolves_before_upsampling_exactly_as_the_paper_upsamples_first():
    block = UpBottleneck(16, 4).eval()
    conv, _ = block.residual
    x = torch.randn(1, 16, 5, 7)
    papers_order = conv(nn.functional.interpolate(x, scale_factor=2, mode="nearest"))
    assert torch.allclose(block.residual(x), papers_order, atol=1e-5)


def test_the_fast_model_paints_every_pixel_without_a_layer_at_full_resolution():
    model = MSGNet(**MODELS["fast"]).eval()
    content = torch.rand(2, 3, 36, 52) * 255
    target = model.encode_style(torch.rand(1, 3, 40, 40) * 255)
    with torch.no_grad():
        out = model(content, target)
        assert out.shape == content.shape and torch.isfinite(out).all()
        # A change to one pixel moves the picture there: nothing of the frame is painted at a coarser grid only.
        poked = content.clone()
        poked[:, :, 17, 25] = 255 - poked[:, :, 17, 25]
        assert (model(poked, target) - out)[:, :, 17, 25].abs().max() > 0
    sizes = []
    model.apply(
        lambda m: isinstance(m, nn.Conv2d) and m.register_forward_hook(lambda _, __, y: sizes.append(y.shape[-1]))
    )
    with torch.no_grad():
        model(content, target)
    assert max(sizes) == 52 // 2  # every convolution at half resolution or less
    assert sum(p.numel() for p in model.parameters()) < 200_000  # a seventeenth of the full model's


@pytest.mark.parametrize("shape", [{"width": 18}, {"out_kernel": 4}, {"unshuffle": 4}])
def test_impossible_shapes_are_refused(shape):
    with pytest.raises(ValueError, match=r"width must be a multiple of 4 and out_kernel odd|unshuffle must be 0 or 2"):
        MSGNet(**shape)


def test_output_gain_gives_narrow_output_layers_the_papers_pace():
    """Adam moves each weight by about the learning rate: the pixel change per step scales with fan-in × gain."""
    full, light, fast = (MSGNet(**MODELS[name]) for name in ("full", "light", "fast"))
    assert full.output_gain == 1.0
    fan_in = {m: m.output_conv.weight[0].numel() for m in (full, light, fast)}
    assert fan_in[light] * light.output_gain == pytest.approx(fan_in[full])
    assert fan_in[fast] * fast.output_gain == pytest.approx(fan_in[full])
    content, style = torch.rand(1, 3, 32, 32) * 255, torch.rand(1, 3, 32, 32) * 255
    with torch.no_grad():
        for model in (full, light, fast):
            assert model(content, model.encode_style(style)).mean() == pytest.approx(127.5, abs=20)  # mid-grey start
