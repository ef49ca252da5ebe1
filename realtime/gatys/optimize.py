"""Gatys, Ecker & Bethge (2016): style transfer by optimising the pixels of one image.

Far slower than MSG-Net's single forward pass, but it reaches a much lower style loss for any
painting without training: the gallery-quality snapshot, and the yardstick MSG-Net is measured by.
A render runs coarse to fine: each level starts from the previous one's result, upscaled, so the
large structures settle where steps are cheap.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from threading import Event

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from realtime.errors import RealtimeError
from realtime.gatys.grams import StyleGrams
from realtime.gatys.network import LossNetwork
from realtime.gatys.objective import LossTerms, objective
from realtime.gatys.settings import COARSEST_SIDE, MIN_LEVEL_SIDE, MIN_PHOTO_SIDE, GatysSettings
from realtime.gatys.solver import optimise_level
from realtime.imaging.color import keep_colors
from realtime.imaging.frames import fit_long_side, frame_to_tensor, resize, tensor_to_frame
from realtime.model.style_spec import StyleSpec
from realtime.model.weights import Weights


@dataclass(frozen=True)
class GatysProgress:
    """Reported after every optimiser iteration: `done` of `total` iterations over all levels."""

    done: int
    total: int
    level: int
    levels: int
    loss: float

    @property
    def fraction(self) -> float:
        return self.done / self.total


@dataclass
class GatysResult:
    frame: np.ndarray
    loss: LossTerms
    steps: int
    interrupted: bool
    seconds: float
    # Best total loss after each iteration, one list per level (levels are not comparable).
    history: list[list[float]] = field(default_factory=list)


class Gatys:
    """Renders a photo in the style of weighted style Grams on one device."""

    def __init__(
        self,
        network: LossNetwork,
        settings: GatysSettings | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        self.settings = settings or GatysSettings()
        self.settings.check(network)
        self.device = torch.device(device)
        self.network = network
        self.vgg = network.vgg.to(self.device)

    def styles(self, specs: Sequence[StyleSpec | str], weights: Weights | None = None) -> StyleGrams:
        """The render's targets from style images, samples or built-in style names (those need `weights`)."""
        return StyleGrams.from_specs(specs, self.network, self.settings.style_layers, weights, self.settings.style_size)

    def render(
        self,
        content: np.ndarray,
        styles: StyleGrams,
        init: str | np.ndarray = "content",
        *,
        progress: bool = False,
        stop: Event | None = None,
        callback: Callable[[GatysProgress], None] | None = None,
    ) -> GatysResult:
        """Optimise an image of the content's size (long side capped at `settings.size`).

        `init` is "content", "noise" or an RGB frame to start from (e.g. MSG-Net's stylisation).
        Ctrl-C, a set `stop` event or a KeyboardInterrupt from `callback` ends the render early with
        the best image so far (`interrupted` is then True).
        """
        start = time.perf_counter()
        s = self.settings
        photo = frame_to_tensor(fit_long_side(content, s.size), self.device)
        if min(photo.shape[-2:]) < MIN_PHOTO_SIDE:
            raise RealtimeError(
                f"the photo is {photo.shape[-1]}×{photo.shape[-2]}; Gatys needs {MIN_PHOTO_SIDE} px a side"
            )
        sizes = self.level_sizes(photo.shape[-2:])
        image = self._initial_image(init, photo, sizes[0])
        total = s.steps * len(sizes)
        history: list[list[float]] = []
        interrupted, done = False, 0
        bar = tqdm(total=total, desc="gatys", unit="step", disable=not progress, leave=False)
        try:
            for level, size in enumerate(sizes):
                image = resize(image, size)
                level_photo = resize(photo, size)
                targets = styles.at(max(photo.shape[-2:]), max(size), self.device)
                losses: list[float] = []
                history.append(losses)

                def report(loss: float, level: int = level, losses: list[float] = losses) -> None:
                    nonlocal done
                    done += 1
                    losses.append(loss)
                    bar.set_postfix(level=f"{level + 1}/{len(sizes)}", loss=f"{loss:.4g}", refresh=False)
                    bar.update(1)
                    if callback is not None:
                        callback(GatysProgress(done, total, level, len(sizes), loss))

                level_objective = objective(self.vgg, s, level_photo, targets)
                image, interrupted = optimise_level(image, level_objective, s, report, stop)
                if interrupted:
                    break
        except KeyboardInterrupt:  # between levels: keep the last finished one
            interrupted = True
        finally:
            bar.close()
        image = resize(image, photo.shape[-2:])
        terms = self.evaluate_tensor(image, photo, styles)
        if s.preserve_color:
            image = keep_colors(image, photo).clamp(0, 255)
        return GatysResult(tensor_to_frame(image), terms, done, interrupted, time.perf_counter() - start, history)

    def evaluate(self, image: np.ndarray, content: np.ndarray, styles: StyleGrams) -> LossTerms:
        """The objective for any image of the content's size (e.g. MSG-Net's output), for comparisons."""
        photo = frame_to_tensor(fit_long_side(content, self.settings.size), self.device)
        candidate = frame_to_tensor(fit_long_side(image, self.settings.size), self.device)
        if candidate.shape != photo.shape:
            raise RealtimeError(
                f"image is {candidate.shape[-1]}×{candidate.shape[-2]}, content {photo.shape[-1]}×{photo.shape[-2]}"
            )
        return self.evaluate_tensor(candidate, photo, styles)

    @torch.no_grad()
    def evaluate_tensor(self, image: Tensor, photo: Tensor, styles: StyleGrams) -> LossTerms:
        """The objective's terms for an image tensor at the photo tensor's full size."""
        targets = styles.at(max(photo.shape[-2:]), max(photo.shape[-2:]), self.device)
        return LossTerms(*(float(t) for t in objective(self.vgg, self.settings, photo, targets)(image)))

    def level_sizes(self, full: Sequence[int]) -> list[tuple[int, int]]:
        """(height, width) of each coarse-to-fine level for a photo of `full` size, coarsest first."""
        h, w = int(full[0]), int(full[1])
        levels = self.settings.levels or 1 + max(0, int(math.log2(max(h, w) / COARSEST_SIDE)))
        sizes = [(h, w)]
        while len(sizes) < levels and min(sizes[0]) // 2 >= MIN_LEVEL_SIDE:
            sizes.insert(0, (round(sizes[0][0] / 2), round(sizes[0][1] / 2)))
        return sizes

    def _initial_image(self, init: str | np.ndarray, photo: Tensor, size: tuple[int, int]) -> Tensor:
        if isinstance(init, np.ndarray):
            start = frame_to_tensor(init, self.device)
        elif init == "content":
            start = photo
        elif init == "noise":
            generator = torch.Generator().manual_seed(self.settings.seed)
            start = (torch.rand(1, 3, *size, generator=generator) * 255).to(self.device)
        else:
            raise RealtimeError(
                f"unknown init '{init}'; use content, noise or an image (msgnet is resolved by render_still)"
            )
        return resize(start, size)
