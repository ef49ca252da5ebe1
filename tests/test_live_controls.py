"""The live hotkeys and the picture controls: keys on every GUI backend, strength, strokes, working size, mirror,
compare, pause, the HUD (its modes and what each draws), and running out of GPU memory.

Sessions run offline (`realtime=False`): the source is lossless and times come from the clip's own
timeline, so every assertion is deterministic; the real-time path is covered through the CLI (test_live_cli.py).
The clip, the session builder (`open_session`) and the `session` fixture are in conftest.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import CLIP_SIZE

from realtime.live.hotkeys import HOTKEYS, Action, Pick, action_for_key
from realtime.live.hud import HudInfo, draw_hud

# Keys --------------------------------------------------------------------------------------------


def test_keys_map_to_actions_on_every_gui_backend():
    for right in (0x1000014, 0xFF53, 0x270000, ord("n"), ord("N")):
        assert action_for_key(right) is Action.NEXT
    for left in (0x1000012, 0xFF51, 0x250000, ord("p")):
        assert action_for_key(left) is Action.PREVIOUS
    assert action_for_key(ord("1")) == Pick(0) and action_for_key(ord("0")) == Pick(9)
    assert action_for_key(27) is Action.QUIT and action_for_key(ord("q")) is Action.QUIT
    assert action_for_key(ord(" ")) is Action.PAUSE
    assert action_for_key(ord("]")) is Action.SIZE_UP and action_for_key(ord("[")) is Action.SIZE_DOWN
    assert action_for_key(ord(".")) is Action.STROKE_UP and action_for_key(ord(",")) is Action.STROKE_DOWN
    assert action_for_key(ord("x")) is None
    assert len(HOTKEYS) == 14 and all(k.isascii() and t.isascii() for k, t in HOTKEYS)


# Picture controls --------------------------------------------------------------------------------


def test_strength_keys_step_and_clamp(session):
    for _ in range(3):
        session.handle(Action.STRENGTH_DOWN)
    assert session.switcher.look.strength == pytest.approx(0.7)
    for _ in range(20):
        session.handle(Action.STRENGTH_DOWN)
    assert session.switcher.look.strength == 0.0
    session.step()
    assert np.array_equal(session.output, session.frame.image)  # strength 0 shows the photo
    session.handle(Action.STRENGTH_UP)
    assert session.switcher.look.strength == pytest.approx(0.1)


def test_stroke_keys_step_and_say_what_the_working_size_paints(session):
    session.sizes.chosen = 128
    session.step()
    session.handle(Action.STROKE_UP)
    assert session.switcher.look.stroke == pytest.approx(1.25)
    # a 128 px working frame is painted at its own size: strokes 4 times those of a 512 px picture
    assert any(text == "strokes 1.25 (painted 4.0 at working size 128)" for text in session.messages.recent)
    for _ in range(20):
        session.handle(Action.STROKE_UP)
    assert session.switcher.look.stroke == 4.0
    assert any(text == "strokes 4" for text in session.messages.recent)
    for _ in range(20):
        session.handle(Action.STROKE_DOWN)
    assert session.switcher.look.stroke == 0.0


def test_resolution_keys_change_the_working_size_not_the_display(session):
    session.sizes.chosen = 128
    session.step()
    assert session.renderer.working_resolution == (128, 96) and session.output.shape == (120, 160, 3)
    session.handle(Action.SIZE_UP)
    session.step()
    assert session.renderer.working_resolution == (160, 120) and session.output.shape == (120, 160, 3)
    session.handle(Action.SIZE_UP)
    assert session.sizes.current == 160
    assert any("already at the display size" in text for text in session.messages.recent)
    session.handle(Action.SIZE_DOWN)
    session.handle(Action.SIZE_DOWN)
    assert session.sizes.current == 128
    assert any("smallest" in text for text in session.messages.recent)


def test_mirror_flips_the_picture(session):
    session.switcher.adjust(strength=0.0)
    session.step()
    photo = session.frame.image
    session.handle(Action.MIRROR)
    session.state.paused = True  # re-render the same frame
    session.step()
    assert np.array_equal(session.output, photo[:, ::-1])


def test_compare_shows_the_photo_left_and_the_stylisation_right(session):
    session.state.paused = False
    session.step()
    photo, stylized = session.frame.image, session.output.copy()
    session.handle(Action.COMPARE)
    session.state.paused = True
    session.step()
    out, half = session.output, CLIP_SIZE[0] // 2
    assert np.array_equal(out[:, : half - 1], photo[:, : half - 1])
    assert np.array_equal(out[:, half + 1 :], stylized[:, half + 1 :])
    assert (out[:, half - 1 : half + 1] == 255).all()
    assert not np.array_equal(photo[:, half + 1 :], stylized[:, half + 1 :])


def test_pause_holds_the_frame_and_space_resumes(session):
    session.step()
    held = session.frame.index
    session.handle(Action.PAUSE)
    for _ in range(3):
        session.step()
    assert session.frame.index == held and session.stats.frames == 1
    session.handle(Action.STRENGTH_DOWN)  # settings still apply to the held frame
    session.step()
    session.handle(Action.PAUSE)
    session.step()
    assert session.frame.index == held + 1 and session.stats.frames == 2


def test_out_of_memory_drops_the_working_size_and_goes_on(session, monkeypatch):
    real = session.stylizer.stylize_frames

    def limited(frames, target=None):
        if frames.shape[2] > 128:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(frames, target)

    monkeypatch.setattr(session.stylizer, "stylize_frames", limited)
    session.step()
    assert session.sizes.chosen == 128 and session.renderer.working_resolution == (128, 96)
    assert session.output.shape == (120, 160, 3)
    assert any("out of GPU memory" in text for text in session.messages.recent)


# The HUD -----------------------------------------------------------------------------------------


def test_hud_cycles_through_help_and_off(session):
    modes = []
    for _ in range(3):
        session.handle(Action.HUD)
        modes.append(session.state.hud)
    assert modes == ["help", "off", "on"]


def _hud(**changes):
    info = HudInfo(
        style="1/2 style0",
        strength=1.0,
        stroke=1.6,
        working_resolution=(320, 240),
        fps=12.0,
        generator_ms=30.0,
        latency_ms=50.0,
        device="cpu",
        hotkeys=HOTKEYS,
    )
    for key, value in changes.items():
        setattr(info, key, value)
    return info


def test_hud_modes_draw_what_they_promise():
    def drawn(info):
        frame = np.full((360, 640, 3), 90, np.uint8)
        draw_hud(frame, info)
        return frame

    blank = np.full((360, 640, 3), 90, np.uint8)
    assert np.array_equal(drawn(_hud(mode="off")), blank)
    on, helped = drawn(_hud()), drawn(_hud(mode="help"))
    assert (on != blank).any() and (helped != on).sum() > 1000
    recording = drawn(_hud(mode="off", recording_s=12.0))
    assert ((recording[..., 0] > 200) & (recording[..., 1] < 80)).any()  # the red REC mark
    preview = np.zeros((40, 30, 3), np.uint8)
    assert (drawn(_hud(preview=preview)) == 0).all(axis=2).sum() >= 40 * 30
