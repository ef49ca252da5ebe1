import numpy as np
import pytest
import torch
from conftest import colourfulness, photo, save_png

from realtime.cli import main
from realtime.imaging.images import read_image
from realtime.imaging.palette import MAX_GAIN, Palette, recolor_frames, recolor_tensor
from realtime.runtimes.stylizer import Stylizer


def colour_stats(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pixels = frame.reshape(-1, 3).astype(float)
    return pixels.mean(axis=0), np.cov(pixels, rowvar=False)


@pytest.fixture
def sketch() -> np.ndarray:
    """A grey pencil drawing: light paper, dark strokes, no colour at all."""
    rng = np.random.default_rng(3)
    grey = np.clip(rng.normal(200, 40, (64, 64)), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


@pytest.fixture
def painted_sketch(tmp_path, sketch):
    return save_png(tmp_path / "sketch.png", sketch)


def test_a_recoloured_frame_takes_the_palettes_mean_and_covariance(sketch):
    frame = photo(96, 128)
    out = recolor_frames(frame[None], [Palette.of(sketch)])[0]
    mean, cov = colour_stats(out)
    want_mean, want_cov = colour_stats(sketch)
    assert np.abs(mean - want_mean).max() < 3
    assert np.abs(cov - want_cov).max() < 0.1 * want_cov.max()
    assert colourfulness(out) < 2 < colourfulness(frame)


def test_no_palette_and_amount_zero_leave_the_frame_as_it_is(sketch):
    frame = photo()
    palette = Palette.of(sketch)
    assert Palette.lerp(palette, None, 1.0) is None  # a fade out of a painting ends in the generator's colours
    none = Palette(palette.mean, palette.moment, amount=0.0)
    out = recolor_frames(np.stack([frame, frame]), [None, none])
    assert np.array_equal(out[0], frame) and np.abs(out[1].astype(int) - frame).max() <= 1


def test_blending_with_a_builtin_applies_part_of_the_palette(sketch):
    frame = photo(96, 128)
    full, half = Palette.of(sketch), Palette.mix([Palette.of(sketch), None], [1.0, 1.0])
    assert half.amount == pytest.approx(0.5)
    whole, part = recolor_frames(np.stack([frame, frame]), [full, half]).astype(float)
    unclipped = (whole > 0) & (whole < 255)  # where the full palette did not saturate
    assert np.abs(part - (frame + whole) / 2)[unclipped].max() <= 1.5
    assert Palette.mix([None, None], [1.0, 1.0]) is None


def test_a_blend_of_paintings_pools_their_pixels():
    red, blue = np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8)
    red[..., 0], blue[..., 2] = 200, 100
    pooled = Palette.of(np.concatenate([red, blue, blue]))
    mixed = Palette.mix([Palette.of(red), Palette.of(blue)], [1.0, 2.0])
    assert np.allclose(mixed.mean, pooled.mean) and np.allclose(mixed.moment, pooled.moment)


def test_a_flat_frame_is_not_blown_up_to_the_paintings_contrast(sketch):
    rng = np.random.default_rng(0)
    flat = np.clip(rng.normal(90, 1.0, (64, 64, 3)), 0, 255).astype(np.uint8)
    out = recolor_frames(flat[None], [Palette.of(sketch)])[0]
    assert out.astype(float).std(axis=(0, 1)).max() <= MAX_GAIN * flat.astype(float).std(axis=(0, 1)).max() + 1


def test_tensors_and_frames_are_recoloured_alike(sketch):
    frames = np.stack([photo(40, 56, seed=1), photo(40, 56, seed=2)])
    palettes = [Palette.of(sketch), None]
    by_frames = recolor_frames(frames, palettes).astype(float)
    tensor = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    by_tensor = recolor_tensor(tensor, palettes).clamp(0, 255).permute(0, 2, 3, 1).numpy()
    assert np.abs(by_tensor - by_frames).max() <= 1.0


@pytest.mark.parametrize("runtime", ["auto", "torch"])
def test_a_style_picture_is_painted_in_its_palette_unless_asked_not_to(weights, painted_sketch, runtime):
    stylizer = Stylizer(weights, "cpu", style_size=64, optimize=False if runtime == "torch" else None)
    frame = photo(64, 64)
    painted = stylizer(frame, stylizer.look([str(painted_sketch)]))
    own = stylizer(frame, stylizer.look([str(painted_sketch)], palette=False))
    sketch = read_image(painted_sketch)
    gap = [np.abs(colour_stats(out)[0] - colour_stats(sketch)[0]).max() for out in (painted, own)]
    assert gap[0] < 4 < gap[1]


def test_preserve_color_keeps_the_photos_colours_over_the_palette(weights, painted_sketch):
    stylizer = Stylizer(weights, "cpu", style_size=64)
    frame = photo()
    kept = stylizer(frame, stylizer.look([str(painted_sketch)], preserve_color=True))
    assert np.array_equal(
        stylizer(frame, stylizer.look([str(painted_sketch)], preserve_color=True, palette=False)), kept
    )


def test_strength_zero_is_the_photo_with_a_palette(weights, painted_sketch):
    stylizer = Stylizer(weights, "cpu", style_size=64)
    stylizer.set_style([str(painted_sketch)], strength=0.0)
    frame = photo()
    assert np.abs(stylizer(frame).astype(int) - frame).max() <= 1


def test_builtin_styles_keep_the_generators_colours(weights):
    stylizer = Stylizer(weights, "cpu", style_size=64)
    look = stylizer.look(["style0"])
    assert look.palette is None
    frame = photo()
    painted = stylizer(frame, look)
    assert np.array_equal(stylizer(frame, stylizer.look(["style0"], palette=False)), painted)


def test_image_no_palette_changes_the_colours(tmp_path, weights_file, photo_file, painted_sketch):
    outputs = {}
    for flag in ([], ["--no-palette"]):
        out = tmp_path / f"out{len(flag)}.png"
        argv = [
            "image",
            str(photo_file),
            "-o",
            str(out),
            "--style",
            str(painted_sketch),
            "--weights",
            str(weights_file),
        ]
        assert main([*argv, "--method", "msgnet", *flag]) == 0
        outputs[bool(flag)] = read_image(out).astype(float)
    sketch = read_image(painted_sketch)
    gaps = {k: np.abs(colour_stats(v)[0] - colour_stats(sketch)[0]).max() for k, v in outputs.items()}
    assert gaps[False] < 6 < gaps[True]
