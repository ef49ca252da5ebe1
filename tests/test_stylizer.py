import cv2
import numpy as np
import pytest
import torch
from conftest import make_weights, photo, rgb_to_ycbcr

from realtime.errors import RealtimeError
from realtime.imaging.frames import frame_to_tensor, resize_frame
from realtime.model.targets import BOLDER_REACH, bolder
from realtime.runtimes.strokes import paint_size
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


def test_strength_blends_from_photo_to_style(weights):
    stylizer = Stylizer(weights, "cpu", style_size=64, cpu_runtime="onnxruntime")  # fp32: the blend exactly
    look = stylizer.look(["style0"])
    frame = photo()
    assert np.array_equal(stylizer(frame, look.with_changes(strength=0.0)), frame)
    full = stylizer(frame, look).astype(float)
    half = stylizer(frame, look.with_changes(strength=0.5)).astype(float)
    assert np.allclose(half, (full + frame) / 2, atol=1.01)
    with pytest.raises(RealtimeError):
        look.with_changes(strength=2.5)


def test_the_default_cpu_runtime_blends_like_the_fp32_one(weights):
    """bf16 where the CPU has it (OpenVINO) computes the blend and preserve-colour in bf16 too: a fraction of
    a grey level from fp32 on average."""
    frame = photo()
    outputs = []
    for runtime in ("auto", "onnxruntime"):
        stylizer = Stylizer(weights, "cpu", style_size=64, cpu_runtime=runtime)
        stylizer.set_style(["style0"], strength=0.5, preserve_color=True)
        outputs.append(stylizer(frame).astype(float))
    assert np.abs(outputs[0] - outputs[1]).mean() < 1.0


def test_preserve_color_keeps_the_photos_chroma(stylizer):
    frame = photo()
    out = stylizer(frame, stylizer.look(["style0"], preserve_color=True))
    chroma_in = rgb_to_ycbcr(frame_to_tensor(frame))[:, 1:]
    chroma_out = rgb_to_ycbcr(frame_to_tensor(out))[:, 1:]
    # uint8 rounding and clamping of saturated pixels leave small differences only
    assert (chroma_in - chroma_out).abs().mean() < 3


def test_stylizing_without_a_style_is_an_error(weights):
    with pytest.raises(RealtimeError, match="no style"):
        Stylizer(weights, "cpu")(photo())


def test_strength_above_one_pushes_the_target_past_the_style():
    weights = make_weights(styles=3)
    stylizer = Stylizer(weights, "cpu", style_size=64)
    look = stylizer.look(["style0"])
    neutral = stylizer.styles.neutral
    assert torch.allclose(neutral, torch.stack([weights.bank[n] for n in weights.bank.names()]).mean(0))
    target = look.target
    assert bolder(target, neutral, 1.0) is target
    assert torch.allclose(bolder(target, neutral, 2.0), neutral + (1 + BOLDER_REACH) * (target - neutral))
    assert torch.allclose(bolder(target, None, 2.0), target * (1 + BOLDER_REACH))
    frame = photo()
    trained = stylizer(frame, look).astype(int)
    bold = stylizer(frame, look.with_changes(strength=2.0)).astype(int)
    assert np.abs(bold - trained).mean() > 1  # another target, another picture
    assert torch.equal(look.target, stylizer.look(["style0"]).target)  # the style itself is left as it was
    with pytest.raises(RealtimeError, match="between 0 and 2"):
        look.with_changes(strength=2.5)


def _sharpness(frame: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), cv2.CV_32F).var())


@pytest.mark.parametrize("optimize", [False, None], ids=["eager", "cpu-runtime"])
def test_large_strokes_paint_a_large_picture_like_its_small_copy_enlarged(weights, optimize):
    """Stroke 2 paints a 768 px picture's strokes as on a 256 px copy, with the detail of a full-size pass."""
    stylizer = Stylizer(weights, "cpu", style_size=64, optimize=optimize)
    look = stylizer.set_style(["style0"])
    frame = photo(576, 768)
    assert paint_size(576, 768, 2.0) == (192, 256)
    small = stylizer(resize_frame(frame, (192, 256))).astype(float)
    outputs = {}
    for stroke in (0.0, 2.0):
        outputs[stroke] = stylizer(frame, look.with_changes(stroke=stroke))
        assert outputs[stroke].shape == frame.shape

    def off_small(out: np.ndarray) -> float:
        return float(np.abs(resize_frame(out, (192, 256)).astype(float) - small).mean())

    assert off_small(outputs[2.0]) < 0.5 * off_small(outputs[0.0])
    enlarged = resize_frame(small.astype(np.uint8), (576, 768))
    assert _sharpness(outputs[2.0]) > 1.5 * _sharpness(enlarged)


def test_pictures_within_the_strokes_painting_size_are_painted_once(stylizer):
    frame = photo(300, 400)
    look = stylizer.look(["style0"])
    own_size = stylizer(frame, look.with_changes(stroke=0.0))
    assert np.array_equal(stylizer(frame, look.with_changes(stroke=1.0)), own_size)  # 512 px: larger than the picture
    assert np.abs(stylizer(frame, look.with_changes(stroke=4.0)).astype(float) - own_size).mean() > 2  # 128 px
    with pytest.raises(RealtimeError, match="stroke"):
        look.with_changes(stroke=4.5)
