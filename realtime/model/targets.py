"""Style targets: the Gram matrices that steer MSG-Net's Inspiration layer, and where they come from.

A target is computed once from a style image with the generator's own encoder (no retraining), so
any picture can be a style; built-in styles ship precomputed in the weights file's style bank.
Switching between known styles is a dictionary lookup, and blends are weighted sums of targets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_long_side, frame_to_tensor, pad_for_generator
from realtime.imaging.images import SAMPLE_PREFIX, SAMPLES, read_image
from realtime.imaging.palette import Palette
from realtime.model.msgnet import MSGNet
from realtime.model.style_spec import DEFAULT_STYLE_SIZE, StyleSpec, file_stamp

# Fits an image's target after encoding: (1×3×H×W style image, its C×C encoder target) → C×C target.
# Handed in from above (`realtime.perceptual.refine.TargetRefiner`), so the model layer needs no VGG.
Refiner = Callable[[Tensor, Tensor], Tensor]


def unknown_style_message(source: str, bank_names: Sequence[str]) -> str:
    """The one line for a style that is neither a built-in name nor a picture we can find."""
    path = Path(source)
    if path.is_dir():
        return f"a style is one picture, and {source} is a folder; pass an image in it"
    if "/" in source or "\\" in source or path.suffix:
        return f"style image not found: {source}"
    alternatives = f"a style image file or sample:NAME ({', '.join(SAMPLES)})"
    if not bank_names:
        return f"unknown style '{source}': no trained weights with built-in styles are in use; pass {alternatives}"
    return f"unknown style '{source}'; built-in styles: {', '.join(bank_names)}; or pass {alternatives}"


class StyleBank:
    """Built-in styles: names → C×C targets, in a fixed order (the order hotkeys and listings use)."""

    def __init__(self, targets: Mapping[str, Tensor] | None = None) -> None:
        self._targets: dict[str, Tensor] = dict(targets or {})

    def names(self) -> list[str]:
        return list(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def __len__(self) -> int:
        return len(self._targets)

    def __getitem__(self, name: str) -> Tensor:
        return self._targets[name]

    def items(self) -> Iterable[tuple[str, Tensor]]:
        return self._targets.items()

    def to(self, device: torch.device | str, dtype: torch.dtype = torch.float32) -> StyleBank:
        return StyleBank({name: t.to(device, dtype) for name, t in self._targets.items()})


class StyleTargets:
    """Resolves style specs to targets on the generator's device, caching image targets.

    Image targets are keyed by path, size and modification time, so an edited file is re-read while
    repeated switches to the same file cost nothing. With a `refiner`, image targets are fitted
    after encoding (seconds each, worth it for paintings the generator never trained on);
    built-ins are trained targets already and stay lookups.
    """

    def __init__(
        self,
        model: MSGNet,
        bank: StyleBank,
        device: torch.device,
        style_size: int = DEFAULT_STYLE_SIZE,
        refiner: Refiner | None = None,
        head: bool = True,
    ) -> None:
        self.model = model
        self.bank = bank.to(device)
        self.device = device
        self.style_size = style_size
        self.refiner = refiner
        self.head = head  # through the generator's style head, if it has one (`MSGNet.encode_style`)
        self._cache: dict[tuple, Tensor] = {}
        self._palettes: dict[tuple, Palette] = {}
        self._neutral: Tensor | None = None

    def target(self, source: str, refine: bool = True) -> Tensor:
        """C×C target for a built-in name (case-insensitive), an image path or `sample:NAME`; `refine=False`
        skips the refiner (the encoder's target, at once, while the fitted one is on its way)."""
        builtin = self._builtin_name(source)
        if builtin is not None:
            return self.bank[builtin]
        key = self._cache_key(source, refine)
        if key not in self._cache:
            picture = read_image(source, self.style_size)  # decoded once for its target and its palette
            self._palettes.setdefault(self._cache_key(source, refine=False), Palette.of(picture))
            self._cache[key] = self.encode(picture, refine)
        return self._cache[key]

    def palette(self, source: str) -> Palette | None:
        """A style picture's palette (`realtime.imaging.palette`); None for a built-in, whose colours the
        generator learnt."""
        if self._builtin_name(source) is not None:
            return None
        key = self._cache_key(source, refine=False)
        if key not in self._palettes:
            self._palettes[key] = Palette.of(read_image(source, self.style_size))
        return self._palettes[key]

    def blend_palette(self, specs: Sequence[StyleSpec]) -> Palette | None:
        """The palette of the blend `blend` makes of the same specs."""
        return Palette.mix([self.palette(spec.source) for spec in specs], [spec.weight for spec in specs])

    @property
    def neutral(self) -> Tensor | None:
        """The mean of the built-in targets: no style in particular, what `bolder` pushes away from."""
        if not len(self.bank):
            return None
        if self._neutral is None:
            self._neutral = torch.stack([target for _, target in self.bank.items()]).mean(dim=0)
        return self._neutral

    def blend(self, specs: Sequence[StyleSpec], refine: bool = True) -> Tensor:
        """Weighted average of the specs' targets; weights are normalised to sum to one."""
        if not specs:
            raise RealtimeError("no style given")
        total = sum(spec.weight for spec in specs)
        return sum(self.target(spec.source, refine) * (spec.weight / total) for spec in specs)

    def _builtin_name(self, source: str) -> str | None:
        by_lower = {name.lower(): name for name in self.bank.names()}
        return by_lower.get(source.lower())

    def _cache_key(self, source: str, refine: bool) -> tuple:
        # The refiner itself: its VGG is part of what it fits.
        recipe = (self.style_size, self.refiner if refine else None)
        if source.startswith(SAMPLE_PREFIX):
            return (source, *recipe)
        stamp = file_stamp(source)
        if stamp is None:
            raise RealtimeError(unknown_style_message(source, self.bank.names()))
        return (str(Path(source).resolve()), *stamp, *recipe)

    def encode(self, picture: np.ndarray, refine: bool = True) -> Tensor:
        """C×C target of a picture already in memory (an upload): no file, so nothing to cache by."""
        frame = fit_long_side(picture, self.style_size)
        style = pad_for_generator(frame_to_tensor(frame, self.device))
        dtype = next(self.model.parameters()).dtype
        with torch.no_grad():
            target = self.model.encode_style(style.to(dtype), self.head)[0].float()
        return self.refiner(style, target) if self.refiner and refine else target


# How far past its target strength 2 pushes a style, as a fraction of the target's distance from the neutral
# one: further, the generator met targets unlike any it trained on and painted speckles at edges.
BOLDER_REACH = 0.6


def bolder(target: Tensor, neutral: Tensor | None, strength: float) -> Tensor:
    """`target` pushed away from `neutral` for a strength above 1 (as is up to 1): the style's own
    statistics, exaggerated. Without a neutral target (weights with no built-ins) it is scaled instead."""
    if strength <= 1.0:
        return target
    reach = 1.0 + BOLDER_REACH * (strength - 1.0)
    return target * reach if neutral is None else torch.lerp(neutral, target, reach)
