"""Gatys, Ecker & Bethge (2016): style transfer by optimising the pixels of one image.

Far slower than MSG-Net's single forward pass, but it reaches a much lower style loss for any
painting without training: the gallery-quality snapshot, and the yardstick MSG-Net is measured by.

The losses are made scale-free: each layer's Gram distance is divided by the mean square of its
target Gram, and the content distance by the mean square of the photo's features. Raw magnitudes
differ by orders of magnitude between layers, VGG weights and pooling modes; normalised, the same
default weights work for all of them and per-layer weights mean shares of attention.

Pixels stay in 0–255 by construction: the optimiser works on logits and the image is
255·sigmoid(logits). Clamping between steps would move the iterate behind L-BFGS's back and
corrupt its curvature history (its line search then stalls); the sigmoid keeps the objective smooth,
so a whole level runs as one L-BFGS call with a strong-Wolfe line search and no step size to tune.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from realtime.atomic import refuse_overwrite
from realtime.errors import RealtimeError
from realtime.imaging.color import keep_colors
from realtime.imaging.frames import fit_long_side, frame_to_tensor, resize, tensor_to_frame
from realtime.imaging.images import (
    SAMPLE_PREFIX,
    check_output_path,
    read_image,
    write_image,
)
from realtime.model.msgnet import MODELS
from realtime.model.targets import StyleSpec, unknown_style_message
from realtime.model.weights import Weights, load_weights, shipped_weights
from realtime.perceptual.losses import STYLE_LAYERS, content_loss, style_grams, style_loss, total_variation
from realtime.perceptual.vgg import ARCHITECTURES, VGGFeatures, read_state_dict
from realtime.runtimes.stylizer import Stylizer

DEFAULT_SIZE = 512
DEFAULT_STEPS = 300
# Gatys et al. match content at conv4_2: deep enough that the style may repaint edges and texture.
DEFAULT_CONTENT_LAYER = "relu4_2"
DEFAULT_STYLE_WEIGHT = 100.0
DEFAULT_TV_WEIGHT = 1.0
DEFAULT_ADAM_LR = 0.05
OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise", "msgnet")
POOLS = ("max", "avg")
# Automatic coarse-to-fine starts at about this long side, and no level's short side goes below MIN_LEVEL_SIDE.
COARSEST_SIDE = 256
MIN_LEVEL_SIDE = 32
# Three poolings before relu4_x leave 2 px of a 16 px photo.
MIN_PHOTO_SIDE = 16
# Logit init keeps pixels off 0 and 255, where the sigmoid's gradient vanishes.
_PIXEL_MARGIN = 1.0


@dataclass(frozen=True)
class LossNetwork:
    """A VGG trunk plus what it is, so precomputed Gram targets can be checked against it."""

    vgg: VGGFeatures
    arch: str
    pool: str
    source: str

    @classmethod
    def load(cls, path: str | Path | None = None, arch: str | None = None, pool: str = "max") -> LossNetwork:
        """A local state dict (`arch` None: VGG16 layout, else VGG19), or torchvision's ImageNet VGG19, else VGG16."""
        if arch is not None and arch not in ARCHITECTURES:
            raise RealtimeError(f"unknown VGG '{arch}'; use one of {', '.join(ARCHITECTURES)}")
        if pool not in POOLS:
            raise RealtimeError(f"pooling must be 'max' or 'avg', got '{pool}'")
        if path is not None:
            return cls._load_file(Path(path), arch, pool)
        for candidate in (arch,) if arch else ("vgg19", "vgg16"):
            try:
                return cls(VGGFeatures.load(None, candidate, pool), candidate, pool, "torchvision")
            except RealtimeError:
                continue
        wanted = arch.upper() if arch else "VGG19 or VGG16"
        raise RealtimeError(
            f"no VGG loss network: torchvision could not download its ImageNet {wanted} weights; "
            "pass --vgg PATH, a local vgg16/vgg19 features state dict (e.g. ../shared/vgg/vgg16_hed_relu4_3.pth)"
        )

    @classmethod
    def _load_file(cls, path: Path, arch: str | None, pool: str) -> LossNetwork:
        if not path.is_file():
            raise RealtimeError(f"VGG weights not found: {path} (--vgg takes a vgg16/vgg19 features state dict)")
        state = read_state_dict(path)  # an unreadable file says so here, before the layouts are tried
        if arch is not None:
            return cls(VGGFeatures.from_state_dict(state, arch, pool, str(path)), arch, pool, str(path))
        for candidate in ARCHITECTURES:
            try:
                return cls(VGGFeatures.from_state_dict(state, candidate, pool, str(path)), candidate, pool, str(path))
            except RealtimeError:
                continue
        raise RealtimeError(f"{path} is neither a vgg16 nor a vgg19 features state dict")

    def info(self) -> dict[str, str]:
        """What a weights file's `vgg_bank_info` must say for its Gram targets to fit this network."""
        return {"network": self.arch, "pool": self.pool}

    def describe(self) -> str:
        return f"{self.arch}, {self.pool} pooling, {Path(self.source).name}, up to {self.vgg.layers[-1]}"


def parse_weight_list(text: str) -> tuple[float, ...]:
    """`0.05,0.05,0.2,0.3,0.4` → floats; non-negative, not all zero."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise RealtimeError(f"expected comma-separated numbers like 0.2,0.3,0.5, got '{text}'") from None
    if any(not math.isfinite(v) or v < 0 for v in values) or not any(values):
        raise RealtimeError(f"layer weights must be non-negative numbers, not all zero, got '{text}'")
    return values


def parse_layer_list(text: str) -> tuple[str, ...]:
    layers = tuple(part.strip() for part in text.split(",") if part.strip())
    if not layers:
        raise RealtimeError("expected comma-separated VGG layer names like relu1_2,relu2_2")
    return layers


@dataclass(frozen=True)
class GatysSettings:
    """Everything that shapes a render; weights are relative (style layer weights are normalised to sum 1)."""

    size: int = DEFAULT_SIZE
    steps: int = DEFAULT_STEPS
    optimizer: str = "lbfgs"
    style_layers: tuple[str, ...] = STYLE_LAYERS
    style_layer_weights: tuple[float, ...] | None = None
    content_layer: str = DEFAULT_CONTENT_LAYER
    content_weight: float = 1.0
    style_weight: float = DEFAULT_STYLE_WEIGHT
    tv_weight: float = DEFAULT_TV_WEIGHT
    # Coarse-to-fine levels, each twice the previous size; 0 picks enough to start near COARSEST_SIDE.
    levels: int = 0
    # Long side of style images at the final level; 0 = the render's long side. Levels scale it alike.
    style_size: int = 0
    adam_lr: float = DEFAULT_ADAM_LR
    seed: int = 0
    preserve_color: bool = False

    def check(self, network: LossNetwork) -> None:
        """Fail before any work on settings this network cannot honour."""
        if self.optimizer not in OPTIMIZERS:
            raise RealtimeError(f"unknown optimizer '{self.optimizer}'; use one of {', '.join(OPTIMIZERS)}")
        checks = [
            (self.size >= MIN_LEVEL_SIDE, f"size must be at least {MIN_LEVEL_SIDE}, got {self.size}"),
            (self.steps >= 1, f"steps must be 1 or more, got {self.steps}"),
            (min(self.levels, self.style_size) >= 0, "levels and style size must be 0 or more"),
            (
                all(math.isfinite(w) and w >= 0 for w in (self.content_weight, self.style_weight, self.tv_weight)),
                "loss weights (content, style, total variation) must be 0 or more",
            ),
            (
                self.style_weight > 0 or self.content_weight > 0,
                "style and content weights are both 0: nothing to optimise",
            ),
            (
                math.isfinite(self.adam_lr) and self.adam_lr > 0,
                f"the Adam learning rate must be above 0, got {self.adam_lr}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise RealtimeError(message)
        available = network.vgg.layers
        missing = [name for name in (*self.style_layers, self.content_layer) if name not in available]
        if missing:
            raise RealtimeError(
                f"layer(s) {', '.join(missing)} not in the loss network ({network.describe()}); "
                f"available: {', '.join(available)}"
            )
        if len(set(self.style_layers)) != len(self.style_layers):
            raise RealtimeError(f"style layers repeat: {', '.join(self.style_layers)}")
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(self.style_layers):
            raise RealtimeError(
                f"{len(self.style_layer_weights)} style layer weights for {len(self.style_layers)} style layers "
                f"({', '.join(self.style_layers)}); give one weight per layer"
            )

    def layer_weights(self) -> dict[str, float]:
        weights = self.style_layer_weights or (1.0,) * len(self.style_layers)
        total = sum(weights)
        return {name: w / total for name, w in zip(self.style_layers, weights)}


class StyleGrams:
    """The blended per-layer Gram targets of one or more weighted styles: what a render aims for.

    Style images are kept, not just their Grams, so every coarse-to-fine level measures the style at
    the same scale relative to the image; built-in styles arrive as fixed Grams from a weights file.
    Blending targets is exactly Gatys's weighted sum of per-style losses, up to a constant.
    """

    def __init__(
        self,
        network: LossNetwork,
        layers: Sequence[str],
        parts: Sequence[tuple[float, np.ndarray | Mapping[str, Tensor]]],
        style_size: int = 0,
    ) -> None:
        if not parts:
            raise RealtimeError("no style given")
        self.network = network
        self.layers = tuple(layers)
        self.style_size = style_size
        total = sum(weight for weight, _ in parts)
        self._parts = [(weight / total, source) for weight, source in parts]
        self._cache: dict[tuple, dict[str, Tensor]] = {}

    @classmethod
    def from_specs(
        cls,
        specs: Sequence[StyleSpec | str],
        network: LossNetwork,
        layers: Sequence[str] = STYLE_LAYERS,
        weights: Weights | None = None,
        style_size: int = 0,
    ) -> StyleGrams:
        """Image paths and `sample:NAME` always work; built-in names need a weights file with VGG targets."""
        parsed = [s if isinstance(s, StyleSpec) else StyleSpec.parse(s) for s in specs]
        parts: list[tuple[float, np.ndarray | Mapping[str, Tensor]]] = []
        for spec in parsed:
            if is_image_source(spec.source):
                parts.append((spec.weight, read_image(spec.source)))
            else:
                parts.append((spec.weight, builtin_grams(spec.source, weights, network, layers)))
        return cls(network, layers, parts, style_size)

    def at(self, render_side: int, level_side: int, device: torch.device) -> dict[str, Tensor]:
        """Targets for a level whose long side is `level_side` of a render whose final long side is `render_side`."""
        style_side = round((self.style_size or render_side) * level_side / render_side)
        key = (style_side, str(device))
        if key not in self._cache:
            blended: dict[str, Tensor] = {}
            for weight, source in self._parts:
                grams = self._grams(source, style_side, device)
                for name in self.layers:
                    blended[name] = blended.get(name, 0) + weight * grams[name]
            self._cache = {key: blended}
        return self._cache[key]

    @torch.no_grad()
    def _grams(
        self, source: np.ndarray | Mapping[str, Tensor], side: int, device: torch.device
    ) -> Mapping[str, Tensor]:
        if not isinstance(source, np.ndarray):
            return {name: source[name].to(device, torch.float32) for name in self.layers}
        style = frame_to_tensor(fit_long_side(source, max(side, MIN_LEVEL_SIDE)), device)
        return style_grams(self.network.vgg(style, self.layers))


def is_image_source(source: str) -> bool:
    return source.startswith(SAMPLE_PREFIX) or Path(source).is_file()


def builtin_grams(name: str, weights: Weights | None, network: LossNetwork, layers: Sequence[str]) -> dict[str, Tensor]:
    """A built-in style's VGG Gram targets, checked against the network and layers they will meet."""
    bank_names = weights.bank.names() if weights is not None else []
    by_lower = {n.lower(): n for n in bank_names}
    if weights is None or name.lower() not in by_lower:
        raise RealtimeError(unknown_style_message(name, bank_names))
    builtin = by_lower[name.lower()]
    info = weights.vgg_bank_info
    if not weights.vgg_bank:
        raise RealtimeError(
            f"built-in style '{builtin}' has no VGG targets in {weights.source} (exported without them); "
            "pass the style image instead"
        )
    theirs = {"network": info.get("network", "?"), "pool": info.get("pool", "max")}
    if theirs != network.info():
        raise RealtimeError(
            f"the built-in VGG targets in {weights.source} were computed with {theirs['network']}/{theirs['pool']} "
            f"pooling, this render uses {network.arch}/{network.pool}: use --vgg-arch {theirs['network']} "
            f"--pool {theirs['pool']}, or pass the style image"
        )
    missing = [layer for layer in layers if layer not in weights.vgg_bank]
    if missing:
        raise RealtimeError(
            f"the built-in VGG targets in {weights.source} cover {', '.join(weights.vgg_bank)} only, not "
            f"{', '.join(missing)}: choose --style-layers among them, or pass the style image"
        )
    row = bank_names.index(builtin)
    return {layer: weights.vgg_bank[layer][row] for layer in layers}


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


@dataclass(frozen=True)
class LossTerms:
    """The objective's parts, each already multiplied by its weight; `total` is their sum."""

    total: float
    style: float
    content: float
    tv: float


@dataclass
class GatysResult:
    frame: np.ndarray
    loss: LossTerms
    steps: int
    interrupted: bool
    seconds: float
    # Best total loss after each iteration, one list per level (levels are not comparable).
    history: list[list[float]] = field(default_factory=list)


class _Stopped(Exception):
    """Raised inside the optimiser's closure to leave L-BFGS between evaluations."""


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

                image, interrupted = self._optimise(image, level_photo, targets, report, stop)
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
        targets = styles.at(max(photo.shape[-2:]), max(photo.shape[-2:]), self.device)
        objective = self._objective(photo, targets)
        return LossTerms(*(float(t) for t in objective(image)))

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

    def _objective(self, photo: Tensor, targets: Mapping[str, Tensor]) -> Callable[[Tensor], Tensor]:
        """image → stacked (total, style, content, tv), each weighted; normalisers are fixed per level."""
        s = self.settings
        layers = list(dict.fromkeys((*s.style_layers, s.content_layer)))
        with torch.no_grad():
            content_target = self.vgg(photo, [s.content_layer])[s.content_layer]
        content_scale = s.content_weight / content_target.float().pow(2).mean().clamp_min(1e-12)
        gram_weights = {
            name: share * s.style_weight / targets[name].pow(2).mean().clamp_min(1e-12).item()
            for name, share in s.layer_weights().items()
        }

        def objective(image: Tensor) -> Tensor:
            features = self.vgg(image, layers)
            style = style_loss({name: features[name] for name in s.style_layers}, targets, gram_weights)
            content = content_loss(features[s.content_layer], content_target) * content_scale
            tv = total_variation(image / 255) * s.tv_weight
            return torch.stack([style + content + tv, style, content, tv])

        return objective

    def _optimise(
        self,
        image: Tensor,
        photo: Tensor,
        targets: Mapping[str, Tensor],
        report: Callable[[float], None],
        stop: Event | None,
    ) -> tuple[Tensor, bool]:
        """One level: the best image seen, and whether the render was stopped or interrupted."""
        objective = self._objective(photo, targets)
        logits = torch.logit(image.clamp(_PIXEL_MARGIN, 255 - _PIXEL_MARGIN) / 255).contiguous().requires_grad_(True)
        best = {"loss": math.inf, "logits": logits.detach().clone()}

        def loss_at_logits() -> Tensor:
            if stop is not None and stop.is_set():
                raise _Stopped
            loss = objective(torch.sigmoid(logits) * 255)[0]
            value = float(loss.detach())
            if value < best["loss"]:
                best["loss"], best["logits"] = value, logits.detach().clone()
            return loss

        steps = self.settings.steps
        try:
            if self.settings.optimizer == "lbfgs":
                self._lbfgs(logits, loss_at_logits, steps, lambda: report(best["loss"]))
            else:
                optimizer = torch.optim.Adam([logits], lr=self.settings.adam_lr)
                for _ in range(steps):
                    optimizer.zero_grad(set_to_none=True)
                    loss_at_logits().backward()
                    optimizer.step()
                    report(best["loss"])
        except (_Stopped, KeyboardInterrupt):
            return torch.sigmoid(best["logits"]).detach() * 255, True
        return torch.sigmoid(best["logits"]).detach() * 255, False

    @staticmethod
    def _lbfgs(logits: Tensor, evaluate: Callable[[], Tensor], steps: int, iteration_done: Callable[[], None]) -> None:
        """All of a level in one L-BFGS call (calling it per step would re-evaluate every iterate twice)."""
        optimizer = torch.optim.LBFGS(
            [logits],
            lr=1,
            max_iter=steps,
            max_eval=steps * 2,
            history_size=50,
            tolerance_grad=0,
            tolerance_change=0,
            line_search_fn="strong_wolfe",
        )
        state = optimizer.state[logits]
        seen = {"iterations": 0}

        def closure() -> Tensor:
            # L-BFGS counts an iteration before its line search: a higher count means the last one ended.
            while seen["iterations"] < state.get("n_iter", 0) - 1:
                seen["iterations"] += 1
                iteration_done()
            optimizer.zero_grad(set_to_none=True)
            loss = evaluate()
            loss.backward()
            return loss

        optimizer.step(closure)
        while seen["iterations"] < steps:
            seen["iterations"] += 1
            iteration_done()


def installed_weights(path: str | Path | None = None) -> Weights | None:
    """The given weights file, else a shipped one (every model's has the built-in styles' VGG targets),
    else None while none are trained."""
    if path is not None:
        return load_weights(path)
    return next((weights for weights in map(shipped_weights, MODELS) if weights is not None), None)


def render_still(
    content: str | Path,
    output: str | Path,
    specs: Sequence[StyleSpec | str],
    gatys: Gatys,
    init: str = "content",
    weights_path: str | Path | None = None,
    progress: bool = False,
    model: str = "auto",
) -> GatysResult:
    """`realtime gatys` as a function: read, render, write atomically (an interrupted render writes its best)."""
    if init not in INITS:
        raise RealtimeError(f"unknown init '{init}'; use one of {', '.join(INITS)}")
    check_output_path(output)
    parsed = [s if isinstance(s, StyleSpec) else StyleSpec.parse(s) for s in specs]
    refuse_overwrite(output, [content])
    refuse_overwrite(output, [spec.source for spec in parsed], "the style image")
    photo = fit_long_side(read_image(content, gatys.settings.size), gatys.settings.size)
    stylizer = Stylizer.load(weights_path, str(gatys.device), model=model) if init == "msgnet" else None
    weights = stylizer.weights if stylizer is not None else None
    if weights is None and not all(is_image_source(spec.source) for spec in parsed):
        weights = installed_weights(weights_path)
    styles = gatys.styles(parsed, weights)
    start: str | np.ndarray = init
    if stylizer is not None:
        stylizer.set_style(parsed)
        start = stylizer(photo)
    result = gatys.render(photo, styles, start, progress=progress)
    write_image(result.frame, output)
    return result
