"""One live frame's work on the generator's device: in at capture size, out at display size.

The working size (what the generator sees) changes at runtime while the display size stays put,
so the window never jumps: the frame is scaled down for the generator and the result scaled back up;
compare mode splits the same display-size frame into photo | stylised. On CUDA the frame is uploaded
once and scaled on the GPU; on a CPU it is scaled as bytes on the host (`resize_frame`, far cheaper than
on float tensors) and goes through the stylizer's frame path, which leaves PyTorch's thread pool idle.

On a CPU the stylised frame can be enlarged along the photo's edges (`guided_upsample`) rather than
interpolated, and steadied against the previous one along the photo's motion (`TemporalStabilizer`,
as `realtime video --stabilize` does), both on the small working-size frames where they are cheap. A
generator too slow for every frame can paint keyframes beside the loop instead (`KeyframeStylizer`): each
frame then shows its newest picture carried along the motion and enlarged by the keyframes themselves (no
upsampler or stabiliser here), and a new keyframe fades in rather than jumps.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import torch
from torch import Tensor

from realtime.imaging.frames import FrameTransfer, fit_size, resize, resize_frame, tensor_to_frame
from realtime.imaging.upsample import guided_upsample
from realtime.live.keyframes import KeyframeStylizer
from realtime.live.settings import DEFAULT_UPSAMPLE, DISPLAY_MAX_SIDE, UPSAMPLERS
from realtime.runtimes.look import Look
from realtime.runtimes.stylizer import Stylizer
from realtime.video.stabilize import TemporalStabilizer

_DIVIDER = 2  # pixels of the white line between the halves in compare mode
# Live, the optical flow runs on a smaller copy than a video file's: the motion of a live picture is
# smooth at that scale, and the flow is most of what steadying a frame costs.
LIVE_FLOW_SIDE = 160


class LiveRenderer:
    """Turns a captured RGB frame into the frame to show, keeping the pieces a snapshot needs."""

    def __init__(
        self,
        stylizer: Stylizer,
        display_max_side: int = DISPLAY_MAX_SIDE,
        *,
        upsample: str = DEFAULT_UPSAMPLE,
        stabilize: float = 0.0,
        keyframes: bool = False,
        keyframe_every: int = 0,
    ) -> None:
        if upsample not in UPSAMPLERS:
            raise ValueError(f"unknown upsampler '{upsample}'; use {', '.join(UPSAMPLERS)}")
        self.stylizer = stylizer
        self.display_max_side = display_max_side
        self.upsample = upsample
        self._target: Tensor | None = None  # the style the stabiliser's last frame was made in
        self.transfer = FrameTransfer(stylizer.device)
        self.generator_ms = 0.0
        self.working_resolution: tuple[int, int] = (0, 0)  # width, height of the last frame stylised
        self._cuda = stylizer.device.type == "cuda"
        self.keyframes = None
        if keyframes and not self._cuda:
            self.keyframes = KeyframeStylizer(stylizer, LIVE_FLOW_SIDE, keyframe_every)
        self._mirrored = False  # as the last frame was: a flipped frame is not carried from an unflipped one
        steady = stabilize and self.keyframes is None  # keyframes fade into each other instead
        self.stabilizer = TemporalStabilizer(stabilize, flow_side=LIVE_FLOW_SIDE) if steady else None
        if self._cuda:
            self._start, self._end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        self._capture: Tensor | np.ndarray | None = None
        self._stylized: Tensor | np.ndarray | None = None

    def display_size(self, height: int, width: int) -> tuple[int, int]:
        return fit_size(height, width, self.display_max_side)

    @torch.inference_mode()
    def render(
        self,
        image: np.ndarray,
        working_size: int,
        look: Look,
        *,
        mirror: bool = False,
        compare: bool = False,
        again: bool = False,
    ) -> np.ndarray:
        """Stylise `image` in `look` with its long side at `working_size` (at most the display's) and compose
        the display frame.

        `again`: the same frame shown again while paused, which waits for its own keyframe rather than
        carrying an older one (playing, the next frame will bring it anyway).

        On CUDA the returned array is the transfer's staging buffer: use it before the next render.
        """
        display = self.display_size(*image.shape[:2])
        work = fit_size(*image.shape[:2], min(working_size, max(display)))
        self.working_resolution = (work[1], work[0])
        if self._cuda:
            return self._render_on_device(image, work, display, look, mirror, compare)
        capture = cv2.flip(image, 1) if mirror else image
        if self.keyframes is not None:
            if mirror != self._mirrored:
                self.keyframes.forget()
            self._mirrored = mirror
            photo = resize_frame(capture, display)
            stylized = self.keyframes(photo, work, fresh=again, look=look)  # carried and enlarged to the display there
            self.generator_ms = self.keyframes.generator_ms
        else:
            small = resize_frame(capture, work)
            started = time.perf_counter()
            stylized = self.stylizer(small, look)  # on the host: PyTorch stays idle on a CPU
            self.generator_ms = (time.perf_counter() - started) * 1000.0
            stylized = self._steady(small, stylized, look.target)
            guided = self.upsample == "guided" and work != display
            # The photo at display size only where it is shown or guides: a 720p resize is not free per frame.
            photo = resize_frame(capture, display) if guided or compare else None
            if guided:
                stylized = guided_upsample(stylized, small, photo)
            elif work != display:
                stylized = resize_frame(stylized, display)
        self._capture, self._stylized = capture, stylized
        if not compare:
            return stylized
        shown = stylized.copy()
        half = display[1] // 2
        shown[:, :half] = photo[:, :half]
        shown[:, max(0, half - _DIVIDER // 2) : half + _DIVIDER // 2] = 255
        return shown

    def _steady(self, photo: np.ndarray, stylized: np.ndarray, target: Tensor) -> np.ndarray:
        """The stabilised frame; a new style (or a morph's next step) starts afresh rather than fading in
        from the last one."""
        if self.stabilizer is None:
            return stylized
        if target is not self._target:
            self._target = target
            self.stabilizer.reset()
        return self.stabilizer(photo, stylized)

    def _render_on_device(
        self,
        image: np.ndarray,
        work: tuple[int, int],
        display: tuple[int, int],
        look: Look,
        mirror: bool,
        compare: bool,
    ) -> np.ndarray:
        capture = self.transfer.upload(image)
        if mirror:
            capture = capture.flip(-1)
        stylized = resize(self._timed_stylize(resize(capture, work), look), display)
        self._capture, self._stylized = capture, stylized
        shown = stylized
        if compare:
            half = display[1] // 2
            shown = torch.cat([resize(capture, display)[..., :half], stylized[..., half:]], dim=-1)
            shown[..., max(0, half - _DIVIDER // 2) : half + _DIVIDER // 2] = 255.0
        frame = self.transfer.download(shown)
        self.generator_ms = self._start.elapsed_time(self._end)
        return frame

    def forget(self) -> None:
        """Start afresh after a warm-up frame: no keyframe or steadying carries it into the next frame."""
        if self.keyframes is not None:
            self.keyframes.forget()
        if self.stabilizer is not None:
            self.stabilizer.reset()

    def close(self) -> None:
        """Stop the keyframe thread, if any (safe to repeat)."""
        if self.keyframes is not None:
            self.keyframes.close()

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """The last capture (full size, mirrored as shown) and its stylisation (display size), as new arrays."""
        if self._capture is None or self._stylized is None:
            raise RuntimeError("nothing rendered yet")
        if isinstance(self._capture, np.ndarray):
            return self._capture.copy(), self._stylized.copy()
        return tensor_to_frame(self._capture), tensor_to_frame(self._stylized)

    def _timed_stylize(self, work: Tensor, look: Look) -> Tensor:
        self._start.record()
        out = self.stylizer.stylize_tensor(work, look)
        self._end.record()
        return out
