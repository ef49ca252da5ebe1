"""Keyframes: a slow generator paints beside the loop, and every frame shows its newest picture carried along."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

import realtime.live.renderer
from realtime.cli import main
from realtime.imaging.palette import Palette, recolor_frames
from realtime.live.keyframes import KeyframeStylizer
from realtime.live.renderer import LiveRenderer
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.sample import SECONDS_PER_PHOTO, SampleSource
from realtime.video.writer import VideoWriter

SHIFT = 6  # pixels the camera pans between two frames


class Painter:
    """A generator the test lets finish one picture at a time; it keeps every frame it painted."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.allowed = threading.Semaphore(0)
        self.painted: list[np.ndarray] = []
        self.fail_on = fail_on

    def allow(self, pictures: int = 1) -> None:
        self.allowed.release(pictures)

    def __call__(self, frame: np.ndarray, look: object) -> np.ndarray:
        assert look == "style", "the look handed over with the frame"
        if not self.allowed.acquire(timeout=30):
            raise TimeoutError("the test never let the generator paint")
        self.painted.append(frame.copy())
        if len(self.painted) == self.fail_on:
            raise RuntimeError("the generator failed")
        return 255 - frame  # a picture that follows every pixel of its frame


def scene(offset: int = 0) -> np.ndarray:
    """A textured 96×128 view of the sample footage, the camera panned right by `offset` pixels."""
    wide = cv2.resize(SampleSource().frame_at(0.5), (192, 144), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(wide[24:120, 32 + offset : 160 + offset])


def interior(frame: np.ndarray) -> np.ndarray:
    return frame[12:-12, 12:-12].astype(np.float32)


@pytest.fixture
def painter():
    return Painter()


class InStyle(KeyframeStylizer):
    """Every frame handed over in the look "style"."""

    def __call__(self, frame, work=None, fresh=False, look="style"):
        return super().__call__(frame, work, fresh, look)


@pytest.fixture
def keyframes(painter):
    keyframes = InStyle(painter, flow_side=160)
    yield keyframes
    painter.allow(8)  # a picture in progress finishes, so the thread can stop
    keyframes.close()


def test_the_first_frame_waits_and_the_next_carries_its_picture_along_the_motion(painter, keyframes):
    painter.allow()
    first = keyframes(scene())
    np.testing.assert_array_equal(first, 255 - scene())

    moved = scene(SHIFT)
    carried = keyframes(moved)  # the generator is held: this must not wait for it
    assert carried.shape == moved.shape and carried.dtype == np.uint8
    followed = np.abs(interior(carried) - interior(255 - moved)).mean()
    left_behind = np.abs(interior(first) - interior(255 - moved)).mean()
    assert followed < 0.35 * left_behind


@pytest.mark.parametrize("work", [(72, 96), (48, 64)])  # enlarged in the warp, and warped then enlarged
def test_a_picture_painted_small_is_moved_and_enlarged_onto_the_frame(painter, keyframes, work):
    def painted_small(frame: np.ndarray) -> np.ndarray:
        small = cv2.resize(frame, work[::-1], interpolation=cv2.INTER_AREA)
        return cv2.resize(255 - small, (128, 96), interpolation=cv2.INTER_CUBIC).astype(np.float32)

    painter.allow()
    first = keyframes(scene(), work)
    assert painter.painted[0].shape == (*work, 3) and first.shape == (96, 128, 3)
    moved = scene(SHIFT)
    carried = keyframes(moved, work)
    assert carried.shape == moved.shape
    followed = np.abs(interior(carried) - painted_small(moved)[12:-12, 12:-12]).mean()
    left_behind = np.abs(interior(first) - painted_small(moved)[12:-12, 12:-12]).mean()
    assert followed < 0.35 * left_behind


def test_a_pans_new_edge_shows_the_frame_in_the_pictures_colours(painter, keyframes):
    painter.allow()
    first = keyframes(scene())
    moved = scene(SHIFT)  # the camera pans right: its right edge was never painted
    edge = keyframes(moved)[16:-16, -2:].astype(np.float32)
    expected = recolor_frames(moved[None], [Palette.of(first)])[0][16:-16, -2:].astype(np.float32)
    smeared = np.repeat(first[16:-16, -1:], 2, axis=1).astype(np.float32)
    assert np.abs(edge - expected).mean() < 2.0 < np.abs(smeared - expected).mean()


def test_after_a_cut_the_frame_waits_for_its_own_picture(painter, keyframes):
    painter.allow()
    keyframes(scene())
    other = cv2.resize(SampleSource().frame_at(SECONDS_PER_PHOTO * 1.5), (128, 96))
    assert np.abs(other.astype(int) - scene()).mean() > 40  # another photo
    painter.allow()
    np.testing.assert_array_equal(keyframes(other), 255 - other)


def test_the_generator_paints_the_newest_frame_and_skips_the_backlog(painter, keyframes):
    painter.allow()
    keyframes(scene(0))
    keyframes(scene(1))  # handed to the generator, which is held
    for offset in (2, 3, 4):
        keyframes(scene(offset))  # shown while the generator is busy: none of these queue up
    painter.allow(2)
    shown = keyframes(scene(5), fresh=True)  # a frame shown again waits for its own picture
    np.testing.assert_array_equal(shown, 255 - scene(5))
    painted = [next(o for o in range(6) if np.array_equal(p, scene(o))) for p in painter.painted]
    assert painted[0] == 0 and painted[-1] == 5
    assert not {2, 3, 4} & set(painted)


def test_a_new_size_and_a_forgotten_picture_wait_for_their_own(painter, keyframes):
    painter.allow()
    keyframes(scene())
    smaller = np.ascontiguousarray(scene()[:64, :96])
    painter.allow()
    np.testing.assert_array_equal(keyframes(smaller), 255 - smaller)
    keyframes.forget()
    painter.allow()
    np.testing.assert_array_equal(keyframes(smaller[::-1].copy()), 255 - smaller[::-1])


def test_a_generator_error_reaches_the_caller(painter, keyframes):
    painter.fail_on = 2
    painter.allow(3)
    keyframes(scene(0))
    keyframes(scene(1))  # painted on the thread, where it fails
    with pytest.raises(RuntimeError, match="the generator failed"):
        keyframes(scene(2), fresh=True)


def _offline(frames: list[np.ndarray], every: int, delay: float) -> tuple[list[np.ndarray], list[int]]:
    """What offline keyframes show for `frames`, and which of them were painted, with a generator this slow."""
    painted = []

    def paint(frame: np.ndarray, look: object) -> np.ndarray:
        time.sleep(delay)
        painted.append(next(i for i, f in enumerate(frames) if np.array_equal(f, frame)))
        return 255 - frame

    keyframes = KeyframeStylizer(paint, flow_side=160, every=every)
    try:
        return [keyframes(frame) for frame in frames], painted
    finally:
        keyframes.close()


def test_offline_keyframes_follow_a_schedule_not_the_generators_speed():
    frames = [scene(offset) for offset in range(0, 30, 3)]
    quick, painted = _offline(frames, 4, 0.0)
    slow, painted_slowly = _offline(frames, 4, 0.05)
    assert painted == painted_slowly == [0, 4, 8]  # every 4th frame
    for a, b in zip(quick, slow, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(quick[0], 255 - frames[0])
    # Frame 4's picture shows from frame 8 on, however early it was done: up to then, frame 0's alone is carried.
    frame_0s_only, _ = _offline(frames[:9], 8, 0.0)
    for index in range(8):
        np.testing.assert_array_equal(quick[index], frame_0s_only[index])
    assert np.abs(quick[8].astype(int) - frame_0s_only[8]).mean() > 0.5


def test_a_mirrored_frame_waits_for_its_own_picture_rather_than_carrying_the_unmirrored_one(weights):
    stylizer = Stylizer(weights, "cpu")
    look = stylizer.look(["style0"])
    keyframed, plain = LiveRenderer(stylizer, 128, keyframes=True), LiveRenderer(stylizer, 128)
    keyframed.render(scene(), 128, look)
    mirrored = keyframed.render(scene(), 128, look, mirror=True)
    np.testing.assert_array_equal(mirrored, plain.render(scene(), 128, look, mirror=True))
    keyframed.close()


def test_live_paints_keyframes_when_asked(tmp_path, capsys, weights_file, monkeypatch):
    painted = []

    class Counted(KeyframeStylizer):
        def __call__(self, frame: np.ndarray, work=None, fresh: bool = False, look=None) -> np.ndarray:
            painted.append(frame.shape)
            return super().__call__(frame, work, fresh, look)

    monkeypatch.setattr(realtime.live.renderer, "KeyframeStylizer", Counted)
    clip = tmp_path / "pan.mkv"
    with VideoWriter(clip, 30, codec="ffv1") as writer:
        for offset in range(0, 24, 2):
            writer.write(scene(offset))
    record = tmp_path / "rec.mp4"
    args = ["live", "--source", str(clip), "--no-window", "--once", "--record", str(record), "--device", "cpu"]
    args += ["--weights", str(weights_file)]
    assert main([*args, "--keyframes", "off"]) == 0
    assert not painted
    assert main([*args, "--keyframes", "on"]) == 0
    assert len(painted) >= 4  # every shown frame went through the keyframes
    cv2_record = cv2.VideoCapture(str(record))
    ok, frame = cv2_record.read()
    cv2_record.release()
    assert ok and frame.shape[:2] == (96, 128)
    with pytest.raises(SystemExit) as stop:
        main([*args, "--keyframes", "sometimes"])
    assert stop.value.code == 2 and "invalid choice: 'sometimes'" in capsys.readouterr().err


def test_keyframes_are_painted_in_the_look_their_frame_was_handed_over_with_while_another_thread_changes_it(weights):
    """The loop changes strength and stroke on every frame while the keyframe thread paints: each keyframe is
    exactly the picture of its own frame in one look, the one it was handed over with."""
    painted = []

    class Recording(Stylizer):
        def __call__(self, frame, look=None):
            out = super().__call__(frame, look)
            painted.append((frame.copy(), look, out))
            return out

    stylizer = Recording(weights, "cpu", optimize=False)
    look = stylizer.look(["style0"])
    renderer = LiveRenderer(stylizer, 128, keyframes=True)
    try:
        for index in range(24):
            look = look.with_changes(strength=0.2 + 0.8 * (index % 2), stroke=(index % 3) * 2.0)
            renderer.render(scene(index), 128, look, again=index % 6 == 0)
    finally:
        renderer.close()
    assert len(painted) >= 4 and len({(p[1].strength, p[1].stroke) for p in painted}) >= 2
    for frame, look, out in painted:
        np.testing.assert_array_equal(out, Stylizer.__call__(stylizer, frame, look))
