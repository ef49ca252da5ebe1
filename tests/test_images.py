import os

import numpy as np
import pytest
from conftest import photo, save_png
from PIL import Image

from realtime.errors import RealtimeError
from realtime.imaging.images import read_image, sample_image, write_image


def test_grayscale_is_converted_to_rgb(tmp_path):
    path = tmp_path / "g.png"
    Image.fromarray(np.full((5, 7), 77, np.uint8), "L").save(path)
    frame = read_image(path)
    assert frame.shape == (5, 7, 3) and frame.dtype == np.uint8
    assert (frame == 77).all()


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half fully transparent
    path = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(path)
    frame = read_image(path)
    assert frame[0, 0].tolist() == [200, 0, 0]
    assert frame[3, 3].tolist() == [255, 255, 255]


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 32896, 65535]], np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    assert read_image(path)[0, :, 0].tolist() == [0, 128, 255]


def test_dark_16_bit_png_stays_dark(tmp_path):
    values = np.array([[0, 128, 255]], np.uint16)  # 16-bit values, all at most 255: near black, not mid-grey
    path = tmp_path / "dark.png"
    Image.fromarray(values).save(path)
    assert read_image(path)[0, :, 0].tolist() == [0, 0, 1]


@pytest.mark.parametrize("mode", ["I;16", "RGBA", "L", "P"])
def test_a_large_picture_read_for_a_small_size_shrinks_early_but_stays_larger_than_asked(tmp_path, mode):
    """Formats without reduced decoding shrink by a whole factor before their conversions where the mode
    allows, and stay larger than `max_side`, so a caller still sees the picture was larger; 16-bit greys and
    palettes decode whole, as before."""
    picture = Image.fromarray(photo(300, 400))
    picture = picture.convert("I").point(lambda v: v * 257).convert("I;16") if mode == "I;16" else picture.convert(mode)
    path = tmp_path / f"big-{mode.replace(';', '')}.png"
    picture.save(path)
    frame = read_image(path, 64)
    assert frame.dtype == np.uint8 and frame.shape[2] == 3
    shrunk = mode in ("RGBA", "L")  # a palette cannot be averaged, Pillow cannot reduce 16-bit greys
    assert 64 < max(frame.shape[:2]) < 400 if shrunk else max(frame.shape[:2]) == 400
    assert abs(frame.shape[1] / frame.shape[0] - 4 / 3) < 0.05
    assert frame.mean() > 10  # not decoded black


def test_float_tiff_in_0_to_1_is_scaled(tmp_path):
    path = tmp_path / "f.tif"
    Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32)).save(path)
    assert read_image(path)[0, :, 0].tolist() == [0, 128, 255]


def test_palette_image(tmp_path):
    path = tmp_path / "p.png"
    Image.fromarray(photo(8, 8)).convert("P").save(path)
    assert read_image(path).shape == (8, 8, 3)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.fromarray(np.zeros((10, 20, 3), np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / "r.jpg"
    img.save(path, exif=exif)
    assert read_image(path).shape == (20, 10, 3)


def test_truncated_jpeg_is_an_error(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(photo(64, 64)).save(path, quality=90)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(RealtimeError, match=r"cannot decode .*cut.jpg"):
        read_image(path)


def test_non_image_is_an_error(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("hello")
    with pytest.raises(RealtimeError, match=r"not an image"):
        read_image(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(RealtimeError, match=r"no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(RealtimeError, match=r"folder"):
        read_image(tmp_path)


def test_huge_jpeg_is_decoded_reduced_but_still_above_the_limit(tmp_path):
    path = tmp_path / "big.jpg"
    Image.fromarray(np.zeros((2000, 3000, 3), np.uint8)).save(path)
    frame = read_image(path, max_side=500)
    assert 500 < max(frame.shape[:2]) < 3000


def test_samples_load_offline():
    frame = sample_image("coffee")
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    with pytest.raises(RealtimeError, match=r"samples: astronaut"):
        sample_image("nope")


def test_write_image_round_trip_and_no_leftovers(tmp_path):
    frame = photo(9, 11)
    write_image(frame, tmp_path / "out.png")
    assert np.array_equal(read_image(tmp_path / "out.png"), frame)
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o666 & ~mask


def test_failed_write_leaves_the_old_file_untouched(tmp_path, monkeypatch):
    target = save_png(tmp_path / "out.png", photo(4, 4))
    before = target.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        with open(fp, "wb") as handle:
            handle.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        write_image(photo(9, 11), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_unknown_output_extension_is_refused(tmp_path):
    with pytest.raises(RealtimeError, match=r"image format"):
        write_image(photo(4, 4), tmp_path / "out.xyz")
