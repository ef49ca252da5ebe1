"""Switching styles in a live session: next, previous and pick, morphs between styles, a style picture's palette,
the --styles folder rescanned, broken or missing style files, and a blended start style.

Sessions run offline (`realtime=False`): the source is lossless and times come from the clip's own
timeline, so every assertion is deterministic; the real-time path is covered through the CLI (test_live_cli.py).
The clip, the session builder (`open_session`) and the `session` fixture are in conftest.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import styles_folder

from realtime.live.hotkeys import Action, Pick
from realtime.live.status import hud_info
from realtime.model.style_spec import StyleSpec
from realtime.sources.capture import VideoCaptureSource


def test_next_previous_and_pick_switch_targets(session):
    bank = session.stylizer.styles.bank
    session.step()
    first = session.output.copy()
    session.handle(Action.NEXT)
    session.step()
    assert session.switcher.index == 1 and torch.equal(session.switcher.look.target, bank["style1"])
    assert np.abs(session.output.astype(float) - first).mean() > 1
    session.handle(Action.NEXT)  # wraps around
    assert session.switcher.index == 0 and torch.equal(session.switcher.look.target, bank["style0"])
    session.handle(Action.PREVIOUS)
    assert session.switcher.index == 1
    session.handle(Pick(0))
    assert session.switcher.index == 0
    session.handle(Pick(6))
    assert session.switcher.index == 0
    assert any("no style 7" in text for text in session.messages.recent)


def test_morph_interpolates_to_the_next_target_over_its_duration(clip, open_session):
    s = open_session(VideoCaptureSource(str(clip), drop=False), morph_seconds=0.4)  # 4 frames of the clip
    start, end = s.stylizer.styles.bank["style0"], s.stylizer.styles.bank["style1"]
    s.step()
    s.handle(Action.MORPH)
    assert s.switcher.index == 1
    s.step()  # the morph starts on this frame
    assert torch.allclose(s.switcher.look.target, start)
    s.step()
    s.step()
    assert torch.allclose(s.switcher.look.target, (start + end) / 2, atol=1e-6)
    assert hud_info(s).style.endswith("(morphing)")
    s.step()
    s.step()
    assert torch.equal(s.switcher.look.target, end) and not s.switcher.morphing


def test_a_style_pictures_palette_follows_the_picture_and_fades_out_in_a_morph(clip, style_images, open_session):
    source = VideoCaptureSource(str(clip), drop=False)
    s = open_session(source, start=[StyleSpec(str(style_images[0]))], morph_seconds=0.4)
    s.step()
    picture = s.switcher.look.palette
    assert picture is not None and picture.amount == 1.0
    s.handle(Action.MORPH)  # on to a built-in style, whose colours are the generator's own
    s.step()
    s.step()
    s.step()
    halfway = s.switcher.look.palette
    assert halfway is not None and halfway.amount == pytest.approx(0.5)
    assert np.allclose(halfway.mean, picture.mean)
    s.step()
    s.step()
    assert s.switcher.look.palette is None and not s.switcher.morphing


# Style folders -----------------------------------------------------------------------------------


def test_the_styles_folder_is_rescanned_when_switching(clip, tmp_path, style_images, open_session):
    folder = styles_folder(tmp_path, {"a.png": style_images[0].read_bytes()})
    s = open_session(VideoCaptureSource(str(clip), drop=False), folder=folder, start=[])
    assert [e.name for e in s.switcher.catalog.entries] == ["style0", "style1", "a"]
    (folder / "b.png").write_bytes(style_images[1].read_bytes())
    (folder / ".b.part.png").write_bytes(b"half-written")
    s.handle(Pick(1))
    assert [e.name for e in s.switcher.catalog.entries] == ["style0", "style1", "a", "b"]
    assert any("1 new style" in text for text in s.messages.recent)
    s.handle(Pick(3))
    s.step()
    expected = s.stylizer.styles.target(str(folder / "b.png"))
    assert s.switcher.index == 3 and torch.equal(s.switcher.look.target, expected)
    assert s.switcher.preview is not None and max(s.switcher.preview.shape[:2]) <= 112


def test_a_broken_style_image_is_reported_and_the_style_kept(clip, tmp_path, style_images, open_session):
    folder = styles_folder(tmp_path, {"broken.png": b"not a png"})
    s = open_session(VideoCaptureSource(str(clip), drop=False), folder=folder)
    s.step()
    before = s.switcher.look.target
    s.handle(Pick(2))
    assert s.switcher.index == 0 and s.switcher.look.target is before
    assert any("broken.png" in text for text in s.messages.recent)


def test_next_and_previous_skip_styles_that_fail(clip, tmp_path, style_images, open_session):
    folder = styles_folder(
        tmp_path, {"a.png": style_images[0].read_bytes(), "b.png": b"not a png", "c.png": style_images[1].read_bytes()}
    )
    s = open_session(VideoCaptureSource(str(clip), drop=False), folder=folder)
    s.handle(Pick(2))
    indices = []
    for action in (Action.NEXT, Action.NEXT, Action.PREVIOUS, Action.PREVIOUS):
        s.handle(action)
        indices.append(s.switcher.index)
    assert indices == [4, 0, 4, 2] and s.switcher.applied.name == "a"
    assert sum("b.png" in text for text in s.messages.recent) == 1


def test_a_style_that_failed_is_retried_once_its_file_changes(clip, tmp_path, style_images, open_session):
    folder = styles_folder(tmp_path, {"b.png": b"half-cop"})
    s = open_session(VideoCaptureSource(str(clip), drop=False), folder=folder)
    s.handle(Pick(2))
    assert s.switcher.index == 0
    (folder / "b.png").write_bytes(style_images[1].read_bytes())  # the copy completes
    s.handle(Pick(2))
    assert s.switcher.index == 2
    assert torch.equal(s.switcher.look.target, s.stylizer.styles.target(str(folder / "b.png")))


def test_a_removed_styles_folder_keeps_the_known_styles(clip, tmp_path, style_images, open_session):
    folder = styles_folder(tmp_path, {"a.png": style_images[0].read_bytes()})
    s = open_session(VideoCaptureSource(str(clip), drop=False), folder=folder)
    s.step()
    folder.rename(tmp_path / "moved")
    s.handle(Action.NEXT)
    assert s.switcher.index == 1 and [e.name for e in s.switcher.catalog.entries] == ["style0", "style1", "a"]
    assert any("cannot read styles folder" in text for text in s.messages.recent)
    assert s.step()


def test_start_style_can_be_a_blend_outside_the_list(clip, style_images, open_session):
    from realtime.model.style_spec import StyleSpec

    specs = [StyleSpec(str(style_images[0]), 0.5), StyleSpec("style1", 0.5)]
    s = open_session(VideoCaptureSource(str(clip), drop=False), start=specs)
    assert s.switcher.catalog[0].name == "stripes 50% + style1 50%" and s.switcher.index == 0
    assert torch.allclose(s.switcher.look.target, s.stylizer.styles.blend(specs))
