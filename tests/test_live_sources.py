"""Where live frames come from: the one-frame mailbox, the capture thread that drops frames a slow reader missed,
cameras that vanish and come back (faked), and the built-in sample footage.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import frames_in

from realtime.sources.capture import Frame, LatestFrame, SourceEnded, VideoCaptureSource
from realtime.sources.sample import SampleSource

# The mailbox -------------------------------------------------------------------------------------


def _frame(i):
    return Frame(np.full((2, 2, 3), i, np.uint8), i, i / 30, 0.0)


def test_mailbox_keeps_only_the_newest_frame():
    box = LatestFrame()
    for i in range(3):
        box.put(_frame(i))
    assert box.take(0).index == 2 and box.dropped == 2
    assert box.take(0) is None
    box.put(_frame(3))
    box.end("gone")
    assert box.take(0).index == 3  # an unread frame is still delivered
    with pytest.raises(SourceEnded, match=r"gone"):
        box.take(0)


# Cameras -----------------------------------------------------------------------------------------


class FakeCamera:
    """Stands in for cv2.VideoCapture on a camera: `frames` pictures, then the device is gone."""

    def __init__(self, frames, opens=True):
        self.left, self.opens = frames, opens

    def isOpened(self):
        return self.opens

    def read(self):
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.full((48, 64, 3), 10 * self.left, np.uint8)

    def set(self, *args):
        return True

    def get(self, prop):
        return 30.0

    def release(self):
        self.left = 0


def _cameras(*counts):
    """An `open_capture` whose successive opens give cameras with these frame counts, then none."""
    made = iter(counts)

    def open_capture(*args):
        count = next(made, None)
        return FakeCamera(count) if count is not None else FakeCamera(0, opens=False)

    return open_capture


def test_capture_thread_drops_frames_a_slow_reader_missed():
    source = VideoCaptureSource(0, open_capture=_cameras(10), reconnect_s=0)
    source.start()
    deadline = time.monotonic() + 10
    while source.dropped < 9 and time.monotonic() < deadline:  # the camera's 10 frames, none read yet
        time.sleep(0.01)
    frame = source.read(0)
    assert frame.index == 9 and source.dropped == 9
    with pytest.raises(SourceEnded, match=r"camera 0 was lost"):
        source.read(10)
    source.close()


def test_camera_that_comes_back_within_the_window_keeps_playing():
    source = VideoCaptureSource(0, open_capture=_cameras(3, 3), reconnect_s=0.6, drop=False)
    indices = []
    with pytest.raises(SourceEnded, match=r"did not come back within 0.6 s"):
        while True:
            indices.append(source.read(5).index)
    assert indices == list(range(6)) and source.status == "lost"
    source.close()


def test_lost_camera_ends_the_run_and_finalises_the_recording(tmp_path, open_session):
    source = VideoCaptureSource(0, open_capture=_cameras(5), reconnect_s=0, drop=False)
    out = tmp_path / "rec.mp4"
    summary = open_session(source, record=out).run()
    assert "camera 0 was lost" in summary.stop_reason and summary.frames == 5
    assert len(frames_in(out)) == 5


# Sample footage ----------------------------------------------------------------------------------


def test_sample_source_is_moving_footage():
    source = SampleSource(size=(96, 54), drop=False)
    try:
        frames = [source.read(5) for _ in range(3)]
        assert [f.index for f in frames] == [0, 1, 2] and frames[2].time_s == pytest.approx(2 / 30)
        assert frames[0].image.shape == (54, 96, 3) and frames[0].image.dtype == np.uint8
        assert np.array_equal(source.frame_at(1.0), source.frame_at(1.0))
        assert np.abs(source.frame_at(0.0).astype(float) - source.frame_at(2.0)).mean() > 3
    finally:
        source.close()
