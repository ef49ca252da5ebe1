"""The onnxruntime CPU path gives the eager generator's pixels (to a twentieth of a grey level) at any size, batch and style."""

import pytest
import torch
from conftest import make_weights

from realtime.imaging.frames import pad_for_generator
from realtime.model.msgnet import MSGNet
from realtime.model.shapes import MODELS
from realtime.runtimes.onnx import OnnxGenerator


def _eager(model, content, target):
    with torch.no_grad():
        return model(pad_for_generator(content), target)[..., : content.shape[2], : content.shape[3]]


@pytest.mark.parametrize("h,w", [(48, 64), (37, 53), (240, 320)])
def test_matches_eager_at_sizes_other_than_the_export(h, w):
    model = MSGNet(**MODELS["light"]).eval()
    target = model.encode_style(torch.rand(1, 3, 40, 40) * 255).detach()[0]
    content = torch.rand(1, 3, h, w) * 255
    out = OnnxGenerator(model)(content, target)
    assert out.shape == (1, 3, h, w) and out.dtype == torch.float32
    assert (out - _eager(model, content, target)).abs().max() < 0.05


def test_one_style_per_sample_and_style_switches_reuse_the_graph():
    weights = make_weights(styles=2)
    model = weights.model
    generator = OnnxGenerator(model)
    assert generator.prepare() > 0 and generator.prepare() == 0.0
    session = generator._session
    content = torch.rand(2, 3, 32, 40) * 255
    a, b = weights.bank["style0"], weights.bank["style1"]
    both = generator(content, torch.stack([a, b]))
    assert (both[0] - generator(content[:1], a)[0]).abs().max() < 0.05
    assert (both[1] - generator(content[1:], b)[0]).abs().max() < 0.05
    assert (both[0] - both[1]).abs().mean() > 0.5  # the two styles differ
    assert (both - _eager(model, content, torch.stack([a, b]))).abs().max() < 0.05
    assert generator._session is session
