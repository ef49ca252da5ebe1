import os

import numpy as np
import pytest
import torch
from conftest import save_png

from realtime.errors import RealtimeError
from realtime.model.style_spec import StyleSpec, file_stamp
from realtime.model.targets import StyleTargets


@pytest.mark.parametrize(
    "text,source,weight",
    [
        ("candy", "candy", 1.0),
        ("a.jpg:0.7", "a.jpg", 0.7),
        ("dir/b.png:2", "dir/b.png", 2.0),
        ("sample:coffee", "sample:coffee", 1.0),
        ("sample:coffee:0.25", "sample:coffee", 0.25),
        ("C:/art/x.jpg", "C:/art/x.jpg", 1.0),
    ],
)
def test_style_spec_parsing(text, source, weight):
    assert StyleSpec.parse(text) == StyleSpec(source, weight)


@pytest.mark.parametrize("text", ["a.jpg:0", "a.jpg:-1", "a.jpg:nan", ""])
def test_style_spec_rejects_bad_weights(text):
    with pytest.raises(RealtimeError):
        StyleSpec.parse(text)


def test_style_specs_as_given_or_parsed():
    assert StyleSpec.parse_all([StyleSpec("a.jpg", 2.0), "b.png:0.5"]) == [
        StyleSpec("a.jpg", 2.0),
        StyleSpec("b.png", 0.5),
    ]


def test_a_file_stamp_changes_with_the_file_and_only_files_have_one(tmp_path):
    path = tmp_path / "style.png"
    path.write_bytes(b"one")
    before = file_stamp(path)
    path.write_bytes(b"three")
    assert before is not None and file_stamp(path) not in (None, before)
    assert file_stamp(tmp_path) is None and file_stamp(tmp_path / "missing.png") is None and file_stamp("candy") is None


@pytest.fixture
def targets(weights):
    return StyleTargets(weights.model, weights.bank, torch.device("cpu"), style_size=64)


def test_builtin_names_come_from_the_bank_case_insensitively(targets, weights):
    assert torch.equal(targets.target("STYLE1"), weights.bank["style1"])


def test_image_target_is_the_encoders_gram(targets, weights, style_images):
    from realtime.imaging.frames import frame_to_tensor
    from realtime.imaging.images import read_image

    expected = weights.model.encode_style(frame_to_tensor(read_image(style_images[0])))[0]
    assert torch.allclose(targets.target(str(style_images[0])), expected, atol=1e-5)


def test_image_targets_are_cached_until_the_file_changes(targets, style_images, monkeypatch):
    calls = []
    original = targets.model.encode_style
    monkeypatch.setattr(targets.model, "encode_style", lambda *args: calls.append(1) or original(*args))
    path = str(style_images[0])
    first = targets.target(path)
    assert targets.target(path) is first
    assert len(calls) == 1
    save_png(style_images[0], np.full((64, 64, 3), 200, np.uint8))
    os.utime(style_images[0], ns=(1, 10**18))
    changed = targets.target(path)
    assert len(calls) == 2
    assert not torch.allclose(changed, first)


def test_blend_is_the_normalised_weighted_sum(targets, style_images):
    a, b = (str(p) for p in style_images)
    blended = targets.blend([StyleSpec(a, 0.7), StyleSpec(b, 0.3)])
    assert torch.allclose(blended, 0.7 * targets.target(a) + 0.3 * targets.target(b), atol=1e-6)
    assert torch.allclose(
        targets.blend([StyleSpec(a, 2), StyleSpec(b, 2)]), targets.blend([StyleSpec(a), StyleSpec(b)])
    )


def test_unknown_style_name_lists_the_builtins(targets):
    with pytest.raises(RealtimeError, match=r"built-in styles: style0, style1"):
        targets.target("candy")


def test_missing_style_image_is_named(targets):
    with pytest.raises(RealtimeError, match=r"style image not found: nowhere/x.jpg"):
        targets.target("nowhere/x.jpg")


def test_a_folder_as_a_style_says_it_is_a_folder(targets, tmp_path):
    with pytest.raises(RealtimeError, match=r"is a folder; pass an image in it"):
        targets.target(str(tmp_path))
