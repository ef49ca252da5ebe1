"""Keyframes: every frame shown, while a slow generator paints the newest frame it can on its own thread.

Where the generator takes longer than a frame (the full model on most CPUs), a loop
that waits for it shows a picture that stutters at the generator's rate; the light model keeps up but paints a
poorer picture (docs/benchmarks.md). Here the generator runs beside the loop, always on the newest frame, and
every frame in between shows its latest picture carried along the camera's motion: an optical flow (DIS at a
small size, steadied by the last frame's: `KeyFlow`) from the frame to the one the picture was painted from,
and a warp that also enlarges the picture from the working size to the frame's where that is cheap. What lags
is new content (a hand moving in, a pan's new edge), refreshed at the generator's rate; after a cut, where the
flow matches little of the frame, the frame waits for its own picture. Where a pixel comes from outside the
painted frame (a pan's new edge) there is no picture to carry: it shows the frame itself in the picture's
palette (`realtime.imaging.palette`) until the next keyframe, where smearing or mirroring the picture's
border drew streaks and mirrored objects. A new keyframe fades in over a few frames, each picture carried by
one warp of its own: blending every frame into the last (as `TemporalStabilizer` does) would warp the picture
again and again and blur its strokes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import cv2
import numpy as np

from realtime.imaging.frames import resize_frame
from realtime.imaging.palette import Palette, recolor_frames
from realtime.live.keyframe_flow import KeyFlow
from realtime.video.stabilize import flow_fits, flow_gray, inside, matches, scale_map

FADE_FRAMES = 3  # frames over which a new keyframe replaces the last one
# Share of pixels whose grey level the flow cannot match (a cut, the lights going off) past which the key is
# not carried: the frame waits for its own picture.
LOST_FRACTION = 0.5
# Up to this many times the picture's pixels, a frame gets the picture moved and enlarged in one bicubic warp;
# a larger one (a 720p window over a 512 px picture) is cheaper warped at the picture's size and resized after.
DIRECT_ENLARGEMENT = 2.0


class KeyframeStylizer:
    """Call it with each working-size frame in order; it returns the frame's stylisation, carried or painted.

    `stylize(frame, look)` (H×W×3 uint8 → same) runs only on this object's thread, so a CPU runtime's
    single inference request is never used from two threads; each frame is handed over with the look it is
    to be painted in, a frozen value, so nothing the caller's thread changes meanwhile reaches the picture in
    progress. The first frame, a frame of a new size, a `fresh` one (a paused frame shown again) and one
    after a cut wait for their own picture; the rest never wait.

    Offline (`every` N > 0, a rendering rather than a window), which frames are painted and when their
    pictures show must not depend on the machine's speed: a keyframe is painted from every Nth frame and shows
    from the Nth frame after it, fading in as live; frames in between wait for nothing.
    """

    def __init__(
        self,
        stylize: Callable[[np.ndarray, object], np.ndarray],
        flow_side: int,
        every: int = 0,
    ) -> None:
        self._stylize = stylize
        self.flow_side = flow_side
        self._every = every
        self._frames = 0  # frames shown so far, which keeps an offline rendering's schedule
        self._pending = 0  # offline: the ticket the next due frame shows
        self.generator_ms = 0.0  # the last painted frame's generator time
        self._flow = KeyFlow()
        self._cond = threading.Condition()
        self._queued: tuple[int, np.ndarray, np.ndarray, object] | None = None  # (ticket, frame, grey, look)
        self._busy = False
        self._done: tuple[int, np.ndarray, np.ndarray, float] | None = None  # (ticket, grey, picture, ms)
        self._error: BaseException | None = None
        self._tickets = 0
        self._first_usable = 1  # pictures of earlier tickets are forgotten
        self._key: _Key | None = None  # the picture being carried
        self._fading: _Key | None = None  # the key before it, while it fades out
        self._faded = 0  # frames shown since the newest key arrived
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="keyframes", daemon=True)
        self._thread.start()

    def __call__(
        self, frame: np.ndarray, work: tuple[int, int] | None = None, fresh: bool = False, look: object = None
    ) -> np.ndarray:
        """H×W×3 uint8 RGB frame to show → its stylisation at the same size, painted in `look` at `work`
        (height, width; default the frame's own): the newest picture moved onto it, or its own when it must wait."""
        work = tuple(work or frame.shape[:2])
        gray = flow_gray(frame, self.flow_side)
        due = self._every > 0 and self._frames % self._every == 0  # offline: a new keyframe's turn
        self._frames += 1
        with self._cond:
            self._check()
            if due:
                while self._pending and (self._done is None or self._done[0] < self._pending):
                    self._cond.wait()
                    self._check()
            if due or not self._every:
                self._adopt()
            key = self._key  # only this thread replaces it
        source = None  # each pixel here → where it was in the key's frame, when the key can be carried here
        if not fresh and key is not None and key.fits(work, gray) and flow_fits(gray):
            source = self._flow.direct(gray, key.gray)
            if np.mean(matches(gray, key.gray, source)) < 1.0 - LOST_FRACTION:
                source = None  # a cut: little on screen came from the painted frame
            else:
                source = self._flow.steady(gray, key, source)
        with self._cond:
            idle = due if self._every else self._queued is None and not self._busy
            if source is None or idle:
                ticket = self._pending = self._submit(resize_frame(frame, work), gray, look)
            if source is None:
                while self._key is None or self._key.ticket < ticket:
                    self._cond.wait()
                    self._check()
                    self._adopt()
                self._fading = None
                return resize_frame(self._key.picture, frame.shape[:2])
            fading = self._fading
            self._faded += 1
            if self._faded > FADE_FRAMES:
                self._fading = fading = None
            weight = self._faded / (FADE_FRAMES + 1)  # of the new key, while the last one fades out
        picture = key.carry(frame, source)
        if fading is None:
            return picture
        old = fading.carry(frame, self._flow.direct(gray, fading.gray))
        return cv2.addWeighted(picture, weight, old, 1.0 - weight, 0.0)

    def forget(self) -> None:
        """Drop the pictures painted so far (a warm-up frame): the next frame waits for its own."""
        with self._cond:
            self._key = self._fading = None
            self._first_usable = self._tickets + 1

    def close(self) -> None:
        """Stop the thread once the picture in progress is done (safe to repeat)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _submit(self, frame: np.ndarray, gray: np.ndarray, look: object) -> int:
        # One slot: a frame still waiting is replaced by the newer one, so the generator never falls behind.
        self._tickets += 1
        self._queued = (self._tickets, frame.copy(), gray, look)
        self._cond.notify_all()
        return self._tickets

    def _adopt(self) -> None:
        done = self._done
        if done is None or done[0] < self._first_usable or (self._key is not None and self._key.ticket >= done[0]):
            return
        ticket, gray, picture, ms = done
        same_size = self._key is not None and self._key.fits(picture.shape[:2], gray)
        self._fading, self._faded = (self._key if same_size else None), 0
        self._key = _Key(ticket, gray, picture)
        self.generator_ms = ms

    def _check(self) -> None:
        """Raise what the generator raised on its thread, once; and refuse calls once closed."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if self._closed:
            raise RuntimeError("keyframes were closed")

    def _work(self) -> None:
        while True:
            with self._cond:
                while self._queued is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                (ticket, frame, gray, look), self._queued = self._queued, None
                self._busy = True
            began = time.perf_counter()
            try:
                picture = self._stylize(frame, look)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which raises it
                with self._cond:
                    self._error, self._busy = exc, False
                    self._cond.notify_all()
                continue
            with self._cond:
                self._done = (ticket, gray, picture, (time.perf_counter() - began) * 1000.0)
                self._busy = False
                self._cond.notify_all()


class _Key:
    """A painted picture, the grey frame it was painted from, and its palette (for pixels it cannot cover)."""

    def __init__(self, ticket: int, gray: np.ndarray, picture: np.ndarray) -> None:
        self.ticket, self.gray, self.picture = ticket, gray, picture
        self.palette = Palette.of(picture)

    def fits(self, work: tuple[int, int], gray: np.ndarray) -> bool:
        """Whether frames painted at `work` whose grey copy has `gray`'s shape can show this picture."""
        return self.picture.shape[:2] == work and self.gray.shape == gray.shape

    def carry(self, frame: np.ndarray, source: np.ndarray) -> np.ndarray:
        """The picture moved onto `frame` along `source` (an absolute remap map at the flow size), at the
        frame's size and bicubic throughout (a bilinear warp blurs the strokes): moved and enlarged in one
        warp, or for a frame far larger than the picture, moved at the picture's size and enlarged after."""
        h, w = frame.shape[:2]
        ph, pw = self.picture.shape[:2]
        out_h, out_w = (h, w) if h * w <= DIRECT_ENLARGEMENT * ph * pw else (ph, pw)
        outside = ~inside(source, *source.shape[:2])  # at the flow size: a fraction of the pixels
        source = scale_map(source, out_h, out_w, (ph, pw))
        carried = cv2.remap(self.picture, source, None, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        if outside.any():
            mask = cv2.resize(outside.view(np.uint8), (out_w, out_h), interpolation=cv2.INTER_NEAREST)
            recoloured = recolor_frames(resize_frame(frame, (out_h, out_w))[None], [self.palette])[0]
            cv2.copyTo(recoloured, mask, carried)
        return resize_frame(carried, (h, w))
