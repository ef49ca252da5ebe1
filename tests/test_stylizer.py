import numpy as np
import pytest
from conftest import photo

from realtime.errors import RealtimeError
from realtime.imaging.color import rgb_to_ycbcr
from realtime.imaging.frames import frame_to_tensor
from realtime.runtimes.stylizer import Stylizer


@pytest.fixture
def stylizer(weights):
    s = Stylizer(weights, "cpu", style_size=64)
    s.set_style(["style0"])
    return s


@pytest.mark.parametrize("h,w", [(1, 1), (3, 5), (37, 53), (64, 48)])
def test_output_has_the_input_size(stylizer, h, w):
    out = stylizer(photo(h, w))
    assert out.shape == (h, w, 3) and out.dtype == np.uint8


def test_output_depends_on_the_style(stylizer, style_images):
    frame = photo()
    stylizer.set_style([str(style_images[0])])
    a = stylizer(frame).astype(float)
    stylizer.set_style([str(style_images[1])])
    b = stylizer(frame).astype(float)
    assert np.abs(a - b).mean() > 5


def test_switching_back_reproduces_the_first_style(stylizer):
    frame = photo()
    first = stylizer(frame)
    stylizer.set_style(["style1"])
    other = stylizer(frame)
    stylizer.set_style(["style0"])
    assert np.array_equal(stylizer(frame), first)
    assert not np.array_equal(other, first)


def test_blend_lies_between_its_parts(stylizer):
    frame = photo()

    def render(spec):
        stylizer.set_style(spec)
        return stylizer(frame).astype(float)

    a, b, mix = render(["style0"]), render(["style1"]), render(["style0:0.5", "style1:0.5"])
    assert 0 < np.abs(mix - a).mean() < np.abs(b - a).mean()


def test_strength_blends_from_photo_to_style(stylizer):
    frame = photo()
    stylizer.strength = 0.0
    assert np.array_equal(stylizer(frame), frame)
    stylizer.strength = 1.0
    full = stylizer(frame).astype(float)
    stylizer.strength = 0.5
    half = stylizer(frame).astype(float)
    assert np.allclose(half, (full + frame) / 2, atol=1.01)
    with pytest.raises(RealtimeError):
        stylizer.strength = 1.5


def test_preserve_color_keeps_the_photos_chroma(stylizer):
    frame = photo()
    stylizer.preserve_color = True
    out = stylizer(frame)
    chroma_in = rgb_to_ycbcr(frame_to_tensor(frame))[:, 1:]
    chroma_out = rgb_to_ycbcr(frame_to_tensor(out))[:, 1:]
    # uint8 rounding and clamping of saturated pixels leave small differences only
    assert (chroma_in - chroma_out).abs().mean() < 3


def test_stylizing_without_a_style_is_an_error(weights):
    with pytest.raises(RealtimeError, match="no style"):
        Stylizer(weights, "cpu")(photo())
