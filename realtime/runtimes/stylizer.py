"""Frame in, stylised frame out: the Python API behind `realtime image` (and the live and video paths)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor

from realtime.device import prepare_cuda, resolve_device
from realtime.errors import RealtimeError
from realtime.imaging.color import keep_colors
from realtime.imaging.frames import frames_to_tensor, pad_for_generator, resize, resize_frame, tensor_to_frames
from realtime.imaging.palette import recolor_frames, recolor_tensor
from realtime.model.msgnet import MSGNet
from realtime.model.style_spec import DEFAULT_STYLE_SIZE, StyleSpec
from realtime.model.targets import StyleTargets, bolder
from realtime.model.weights import Weights, resolve_weights
from realtime.perceptual.refine import TargetRefiner, default_cache_dir
from realtime.perceptual.settings import DEFAULT_REFINE_STEPS, RefineSettings
from realtime.runtimes.cpu import CpuGenerator
from realtime.runtimes.cuda import FastGenerator, FastSettings, resolve_settings
from realtime.runtimes.look import Look
from realtime.runtimes.settings import DEFAULT_STROKE
from realtime.runtimes.strokes import add_stroke_frames, add_strokes, paint_size


def _fast_path(
    model: MSGNet,
    device: torch.device,
    optimize: bool | FastSettings | None,
    on_build: Callable[[str], None] | None,
    cpu_runtime: str,
) -> FastGenerator | CpuGenerator | None:
    if optimize is None and device.type == "cpu":
        return CpuGenerator(model, cpu_runtime, on_build=on_build)
    settings = resolve_settings(optimize, device)
    return FastGenerator(model, device, settings, on_build) if settings else None


class Stylizer:
    """A generator on a device, its fast path and its style targets; what to paint with comes with each call
    as a `Look` (target, palette, strength, stroke, colour mode), so threads and viewers sharing one
    stylizer never see each other's settings.

    `strength` up to 1 blends the stylised image with the photo in pixel space (0 = photo, 1 = the style as
    trained), which behaves the same for every style and costs nothing extra per frame; above 1, up to
    `MAX_STRENGTH`, the style target is pushed past the painting's (`bolder`): bolder colours and strokes.
    `stroke` keeps brush strokes in proportion to the picture (`realtime.runtimes.strokes`): pictures larger
    than the stroke's painting size take a second, smaller generator pass. A style picture's `palette`
    recolours the output to the painting's colours (`realtime.imaging.palette`), unless `preserve_color`
    keeps the photo's.

    `optimize` picks the generator path: None = the device's default (a CPU runtime, `cpu_runtime`: OpenVINO
    or onnxruntime, which measured faster than PyTorch there; PyTorch's fast path on CUDA, several times
    eager), False = always eager PyTorch fp32 (the reference), True or `FastSettings` = PyTorch's fast path.
    `on_build(message)` hears which CPU runtime runs and when the fast path compiles for a new working size
    (seconds, once per size), so a UI can say so; `warm_up` pays that cost up front.

    Frames are the fast way in and out (`__call__`, `stylize_frames`): on a CPU runtime everything per frame
    happens inside the runtime, with PyTorch idle. For a one-liner, `set_style` keeps a look that calls
    without one use.
    """

    def __init__(
        self,
        weights: Weights,
        device: torch.device | str = "cpu",
        style_size: int = DEFAULT_STYLE_SIZE,
        optimize: bool | FastSettings | None = None,
        on_build: Callable[[str], None] | None = None,
        cpu_runtime: str = "auto",
    ) -> None:
        self.device = torch.device(device)
        prepare_cuda(self.device)
        self.model = weights.model.to(self.device).eval().requires_grad_(False)
        self.fast = _fast_path(self.model, self.device, optimize, on_build, cpu_runtime)
        self.weights = weights
        self.styles = StyleTargets(self.model, weights.bank, self.device, style_size)
        self.default_look: Look | None = None  # what `set_style` chose, for calls without a look
        self._bolder: tuple[Tensor, tuple, Tensor] | None = None  # (target, key, bolder): swapped whole

    @classmethod
    def load(
        cls,
        weights: str | Path | None = None,
        device: str = "auto",
        style_size: int = DEFAULT_STYLE_SIZE,
        optimize: bool | FastSettings | None = None,
        on_build: Callable[[str], None] | None = None,
        model: str = "auto",
        cpu_runtime: str = "auto",
    ) -> Stylizer:
        """Load a weights file (default: the shipped `model`, see `resolve_weights`) onto `auto`, `cpu` or `cuda`."""
        torch_device = resolve_device(device)
        resolved = resolve_weights(weights, model, torch_device)
        return cls(resolved, torch_device, style_size, optimize, on_build, cpu_runtime)

    @property
    def runtime(self) -> str:
        """What runs the generator, in words: "OpenVINO bf16", "PyTorch fp16 on cuda", "PyTorch eager fp32"."""
        if isinstance(self.fast, CpuGenerator):
            return self.fast.name
        if isinstance(self.fast, FastGenerator):
            return f"PyTorch {self.fast.settings.describe()} on {self.device}"
        return f"PyTorch eager fp32 on {self.device}"

    def _target_for(self, look: Look) -> Tensor:
        """The target the generator gets: the look's own, or pushed further for a strength above 1 (kept
        until the target or the strength changes, so frames pay nothing for it)."""
        if look.strength <= 1.0:
            return look.target
        cached = self._bolder
        # Keyed by the target itself, not its id: a new target (each step of a morph) may reuse a freed one's.
        key = (look.target._version, look.strength)
        if cached is None or cached[0] is not look.target or cached[1] != key:
            cached = self._bolder = (look.target, key, bolder(look.target, self.styles.neutral, look.strength))
        return cached[2]

    def refine_styles(
        self,
        steps: int = DEFAULT_REFINE_STEPS,
        vgg: str | Path | None = None,
        progress: bool = False,
        cache: bool = True,
    ) -> None:
        """Fit style images' targets from now on (`realtime.perceptual.refine`; 0 steps turns it off).

        Paintings the generator never trained on then transfer far more fully, for seconds of fitting per
        painting (tens of them on a CPU), once: with `cache`, fitted targets are kept in
        `default_cache_dir()`. Built-in styles are unaffected; styles set before this call keep their
        targets. `vgg`: a local VGG16 features file, else torchvision's download.
        """
        if not steps:
            self.styles.refiner = None
            return
        cache_dir = default_cache_dir() if cache else None
        self.styles.refiner = TargetRefiner.load(
            self.model, self.device, vgg, RefineSettings(steps=steps), progress, cache_dir
        )

    def look(
        self,
        specs: Sequence[StyleSpec | str],
        strength: float = 1.0,
        stroke: float = DEFAULT_STROKE,
        preserve_color: bool = False,
        palette: bool = True,
    ) -> Look:
        """A look for one or more styles blended (`NAME|PATH[:WEIGHT]`; targets cached, so asking again is
        free), with the painting's palette unless `palette` is off."""
        parsed = StyleSpec.parse_all(specs)
        colours = self.styles.blend_palette(parsed) if palette else None
        return Look(self.styles.blend(parsed), colours, strength, stroke, preserve_color)

    def set_style(self, specs: Sequence[StyleSpec | str], **settings: object) -> Look:
        """Choose the look calls without one use (`look`'s arguments); returns it."""
        self.default_look = self.look(specs, **settings)
        return self.default_look

    def _chosen(self, look: Look | None) -> Look:
        look = look or self.default_look
        if look is None:
            raise RealtimeError("no style selected")
        return look

    @torch.inference_mode()
    def stylize_tensor(self, content: Tensor, look: Look | None = None) -> Tensor:
        """B×3×H×W float (0–255) on this device → same shape; any H and W (padded, then cropped back).

        The look's target may be B×C×C (one per sample), which lets a batch of video frames straddle a style
        change, and its palette one per sample; the palette is applied on the device, with no host round trip.
        """
        look = self._chosen(look)
        palettes = look.palettes(len(content))
        target = self._target_for(look)
        out = self._generate(content, target)
        paint = paint_size(*content.shape[-2:], look.stroke)
        if paint is not None:
            out = add_strokes(self._generate(resize(content, paint), target), out)
        if palettes is not None:
            out = recolor_tensor(out, palettes)
        if look.preserve_color:
            out = keep_colors(out, content)
        if look.strength < 1.0:
            out = torch.lerp(content, out, look.strength)
        return out.clamp(0, 255)

    def _generate(self, content: Tensor, target: Tensor) -> Tensor:
        h, w = content.shape[-2:]
        if self.fast is not None:
            return self.fast(content, target)
        return self.model(pad_for_generator(content), target)[..., :h, :w]

    def warm_up(self, height: int, width: int, batch: int = 1, stroke: float = DEFAULT_STROKE) -> float:
        """Pay the fast path's compile/capture for a working size now (e.g. before the first live frame),
        and for the smaller size strokes of `stroke` are painted at, if any.

        Returns the seconds spent: 0 when that size is ready already or the path is eager.
        """
        if self.fast is None:
            return 0.0
        sizes = [(height, width), paint_size(height, width, stroke)]
        return sum(self.fast.prepare(batch, *size) for size in sizes if size is not None)

    def stylize_frames(self, frames: np.ndarray, look: Look | None = None) -> np.ndarray:
        """B×H×W×3 uint8 RGB frames → stylised frames of the same shape (the look as in `stylize_tensor`)."""
        look = self._chosen(look)
        if not isinstance(self.fast, CpuGenerator):
            content = frames_to_tensor(list(frames), self.device)
            return np.stack(tensor_to_frames(self.stylize_tensor(content, look)))
        palettes = look.palettes(len(frames))
        target = self._target_for(look).numpy()
        strength = min(look.strength, 1.0)
        # The runtime blends with the photo itself, unless the palette must come between.
        settings = (strength, look.preserve_color) if palettes is None else (1.0, False)
        out = self.fast.frames(frames, target, *settings)
        paint = paint_size(*frames.shape[1:3], look.stroke)
        if paint is not None:
            small = np.stack([resize_frame(frame, paint) for frame in frames])
            out = add_stroke_frames(self.fast.frames(small, target, *settings), out)
        if palettes is None:
            return out
        out = recolor_frames(out, palettes)
        if strength < 1.0:
            out = np.stack([cv2.addWeighted(o, strength, f, 1.0 - strength, 0.0) for o, f in zip(out, frames)])
        return out

    def __call__(self, frame: np.ndarray, look: Look | None = None) -> np.ndarray:
        """H×W×3 uint8 RGB → stylised frame of the same size."""
        return self.stylize_frames(frame[None], look)[0]
