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
from realtime.imaging.palette import Palette, recolor_frames, recolor_tensor
from realtime.model.msgnet import MSGNet
from realtime.model.styles import DEFAULT_STYLE_SIZE, StyleSpec
from realtime.model.targets import StyleTargets, bolder
from realtime.model.weights import Weights, resolve_weights
from realtime.perceptual.refine import TargetRefiner, default_cache_dir
from realtime.perceptual.settings import DEFAULT_REFINE_STEPS, RefineSettings
from realtime.runtimes.cpu import CpuGenerator
from realtime.runtimes.cuda import FastGenerator, FastSettings, resolve_settings
from realtime.runtimes.settings import DEFAULT_STROKE, MAX_STRENGTH, MAX_STROKE
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


def _in_range(name: str, value: float, highest: float) -> float:
    if not 0.0 <= value <= highest:
        raise RealtimeError(f"{name} must be between 0 and {highest:g}, got {value}")
    return float(value)


class Stylizer:
    """A generator on a device plus the current style target, strength and colour mode.

    `strength` up to 1 blends the stylised image with the photo in pixel space (0 = photo, 1 = the style as
    trained), which behaves the same for every style and costs nothing extra per frame; above 1, up to
    `MAX_STRENGTH`, the style target is pushed past the painting's (`bolder`): bolder colours and strokes.
    `stroke` keeps brush strokes in proportion to the picture (`realtime.runtimes.strokes`): pictures larger
    than the stroke's painting size take a second, smaller generator pass. A style picture's `palette`
    recolours the output to the painting's colours (`realtime.imaging.palette`), unless `match_palette` is
    off or `preserve_color` keeps the photo's.

    `optimize` picks the generator path: None = the device's default (a CPU runtime, `cpu_runtime`: OpenVINO
    or onnxruntime, which measured faster than PyTorch there; PyTorch's fast path on CUDA, several times
    eager), False = always eager PyTorch fp32 (the reference), True or `FastSettings` = PyTorch's fast path.
    `on_build(message)` hears which CPU runtime runs and when the fast path compiles for a new working size
    (seconds, once per size), so a UI can say so; `warm_up` pays that cost up front.

    Frames are the fast way in and out (`__call__`, `stylize_frames`): on a CPU runtime everything per frame
    happens inside the runtime, with PyTorch idle.
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
        self.target: Tensor | None = None
        self.palette: Palette | None = None
        self.match_palette = True
        self._bolder: Tensor | None = None
        self._bolder_key: tuple | None = None
        self.strength = 1.0
        self.stroke = DEFAULT_STROKE
        self.preserve_color = False

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

    @property
    def strength(self) -> float:
        return self._strength

    @strength.setter
    def strength(self, value: float) -> None:
        self._strength = _in_range("strength", value, MAX_STRENGTH)

    @property
    def stroke(self) -> float:
        return self._stroke

    @stroke.setter
    def stroke(self, value: float) -> None:
        self._stroke = _in_range("stroke", value, MAX_STROKE)

    def _target_for(self, target: Tensor | None) -> Tensor:
        """The target the generator gets: the style's own, or pushed further for a strength above 1 (kept
        until the target or the strength changes, so frames pay nothing for it)."""
        if target is None:
            raise RealtimeError("no style selected")
        if self._strength <= 1.0:
            return target
        key = (id(target), target._version, self._strength)
        if self._bolder_key != key:
            self._bolder, self._bolder_key = bolder(target, self.styles.neutral, self._strength), key
        return self._bolder

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

    def set_style(self, specs: Sequence[StyleSpec | str]) -> None:
        """Blend one or more styles into the current target and palette (cached, so re-selecting is free)."""
        parsed = StyleSpec.parse_all(specs)
        self.target, self.palette = self.styles.blend(parsed), self.styles.blend_palette(parsed)

    def _palettes_for(
        self, count: int, target: Tensor | None, palette: Palette | Sequence[Palette | None] | None
    ) -> list[Palette | None] | None:
        """One palette per sample, or None when no sample is recoloured."""
        if target is None:
            palette = self.palette
        if not self.match_palette or self.preserve_color or palette is None:
            return None
        palettes = [palette] * count if isinstance(palette, Palette) else list(palette)
        return palettes if any(p is not None for p in palettes) else None

    @torch.inference_mode()
    def stylize_tensor(
        self,
        content: Tensor,
        target: Tensor | None = None,
        palette: Palette | Sequence[Palette | None] | None = None,
    ) -> Tensor:
        """B×3×H×W float (0–255) on this device → same shape; any H and W (padded, then cropped back).

        `target` and `palette` override the current style for this call: a C×C target for all samples, or
        B×C×C (one per sample), which lets a batch of video frames straddle a style change; a palette for all,
        or one per sample (None: the generator's own colours).
        """
        palettes = self._palettes_for(len(content), target, palette)
        target = self._target_for(self.target if target is None else target)
        out = self._generate(content, target)
        paint = paint_size(*content.shape[-2:], self._stroke)
        if paint is not None:
            out = add_strokes(self._generate(resize(content, paint), target), out)
        if palettes is not None:
            out = recolor_tensor(out, palettes)
        if self.preserve_color:
            out = keep_colors(out, content)
        if self._strength < 1.0:
            out = torch.lerp(content, out, self._strength)
        return out.clamp(0, 255)

    def _generate(self, content: Tensor, target: Tensor) -> Tensor:
        h, w = content.shape[-2:]
        if self.fast is not None:
            return self.fast(content, target)
        return self.model(pad_for_generator(content), target)[..., :h, :w]

    def warm_up(self, height: int, width: int, batch: int = 1) -> float:
        """Pay the fast path's compile/capture for a working size now (e.g. before the first live frame),
        and for the smaller size its strokes are painted at, if any.

        Returns the seconds spent: 0 when that size is ready already or the path is eager.
        """
        if self.fast is None:
            return 0.0
        sizes = [(height, width), paint_size(height, width, self._stroke)]
        return sum(self.fast.prepare(batch, *size) for size in sizes if size is not None)

    def stylize_frames(
        self,
        frames: np.ndarray,
        target: Tensor | None = None,
        palette: Palette | Sequence[Palette | None] | None = None,
    ) -> np.ndarray:
        """B×H×W×3 uint8 RGB frames → stylised frames of the same shape (`target`, `palette` as in `stylize_tensor`)."""
        if not isinstance(self.fast, CpuGenerator):
            content = frames_to_tensor(list(frames), self.device)
            return np.stack(tensor_to_frames(self.stylize_tensor(content, target, palette)))
        palettes = self._palettes_for(len(frames), target, palette)
        target = self._target_for(self.target if target is None else target).numpy()
        strength = min(self._strength, 1.0)
        # The runtime blends with the photo itself, unless the palette must come between.
        settings = (strength, self.preserve_color) if palettes is None else (1.0, False)
        out = self.fast.frames(frames, target, *settings)
        paint = paint_size(*frames.shape[1:3], self._stroke)
        if paint is not None:
            small = np.stack([resize_frame(frame, paint) for frame in frames])
            out = add_stroke_frames(self.fast.frames(small, target, *settings), out)
        if palettes is None:
            return out
        out = recolor_frames(out, palettes)
        if strength < 1.0:
            out = np.stack([cv2.addWeighted(o, strength, f, 1.0 - strength, 0.0) for o, f in zip(out, frames)])
        return out

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 RGB → stylised frame of the same size."""
        return self.stylize_frames(frame[None])[0]
