import numpy as np
import pytest
import torch
from conftest import rgb_to_ycbcr, ycbcr_to_rgb

from realtime.imaging.color import keep_colors
from realtime.imaging.frames import (
    fit_long_side,
    frame_to_tensor,
    pad_for_generator,
    resize,
    resize_frame,
    tensor_to_frame,
)


def test_frame_tensor_round_trip_is_exact():
    frame = np.random.default_rng(0).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    tensor = frame_to_tensor(frame)
    assert tensor.shape == (1, 3, 7, 9) and tensor.dtype == torch.float32
    assert tensor.max() <= 255 and tensor[0, 0, 0, 0] == frame[0, 0, 0]
    assert np.array_equal(tensor_to_frame(tensor), frame)


def test_tensor_to_frame_clamps_and_rounds():
    tensor = torch.tensor([-20.0, 100.4, 100.6, 300.0]).view(1, 1, 1, 4).expand(1, 3, 1, 4)
    assert tensor_to_frame(tensor)[0, :, 0].tolist() == [0, 100, 101, 255]


def test_frame_to_tensor_rejects_non_rgb_frames():
    with pytest.raises(ValueError):
        frame_to_tensor(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError):
        frame_to_tensor(np.zeros((4, 4, 3), np.float32))


@pytest.mark.parametrize("h,w,eh,ew", [(1, 1, 16, 16), (17, 33, 20, 36), (64, 48, 64, 48), (5, 101, 16, 104)])
def test_padding_reaches_a_generator_size_without_touching_the_original(h, w, eh, ew):
    x = torch.rand(1, 3, h, w)
    padded = pad_for_generator(x)
    assert padded.shape[-2:] == (eh, ew)
    assert torch.equal(padded[..., :h, :w], x)


def test_fit_long_side_only_downscales_and_keeps_aspect():
    frame = np.zeros((300, 400, 3), np.uint8)
    assert fit_long_side(frame, 100).shape == (75, 100, 3)
    assert fit_long_side(frame, 1000) is frame
    assert fit_long_side(frame, 0) is frame


def test_resize_frame_matches_the_tensor_resize_on_the_host():
    """The live CPU path scales bytes with OpenCV where the GPU path scales float tensors: same pictures."""
    rng = np.random.default_rng(1)
    frame = blocky(rng.integers(0, 256, (90, 160, 3), dtype=np.uint8))
    for size in ((45, 80), (36, 64), (180, 320)):
        host = resize_frame(frame, size).astype(float)
        device = tensor_to_frame(resize(frame_to_tensor(frame), size)).astype(float)
        assert host.shape == (*size, 3)
        assert np.abs(host - device).mean() < 1.5
    assert resize_frame(frame, frame.shape[:2]) is frame


def blocky(frame: np.ndarray) -> np.ndarray:
    """Flat 10-pixel blocks of random colour: edges to resample, but no detail finer than the smallest size."""
    small = frame[::10, ::10]
    return np.repeat(np.repeat(small, 10, axis=0), 10, axis=1)[: frame.shape[0], : frame.shape[1]].copy()


def test_ycbcr_round_trip_and_keep_colors():
    rgb = torch.rand(1, 3, 8, 8) * 255
    assert torch.allclose(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), rgb, atol=1e-3)
    stylized = torch.rand(1, 3, 8, 8) * 255
    mixed = keep_colors(stylized, rgb)
    assert torch.allclose(rgb_to_ycbcr(mixed)[:, 0], rgb_to_ycbcr(stylized)[:, 0], atol=1e-3)
    assert torch.allclose(rgb_to_ycbcr(mixed)[:, 1:], rgb_to_ycbcr(rgb)[:, 1:], atol=1e-3)
