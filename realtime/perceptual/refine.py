"""Refining a painting's style target: a few gradient steps on the target, generator and VGG frozen.

A generator trained on its set of styles follows the encoder's target for a painting it never saw only
partway, sometimes not at all (`benchmarks/bench_quality.py` scores this). The target is just a C×C
matrix, so it can be fitted directly: training's objective (VGG Gram distance to the painting plus
content loss) on a few generic photos, optimised over the target alone. A few tens of steps close most
of the gap without retraining, also on photos it never fitted: the target carries over to other content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor
from tqdm import tqdm

from realtime.cache import cache_folder, keep, tensor_digest
from realtime.imaging.frames import center_crop, frames_to_tensor, pad_for_generator
from realtime.imaging.images import is_image_source, read_image
from realtime.model.msgnet import MSGNet
from realtime.perceptual.losses import CONTENT_LAYER, STYLE_LAYERS, content_loss, style_grams, style_loss
from realtime.perceptual.settings import DEFAULT_REFINE_STEPS, RefineSettings
from realtime.perceptual.vgg import VGGFeatures, torchvision_vgg16_cached


def default_refine_steps(vgg: str | Path | None, sources: Sequence[str]) -> int:
    """Refinement where a one-off fit pays for itself (a video file, a live session that shows the encoder's
    target meanwhile): `DEFAULT_REFINE_STEPS` when a style is a picture and a VGG16 is at hand (a local file,
    or torchvision's already downloaded, so nothing downloads unasked), else 0. The fitted target follows a
    painting the generator never saw about 5× more closely (docs/benchmarks.md) for 10–20 s of fitting per
    painting on a CPU, once (cached)."""
    if not any(is_image_source(source) for source in sources):
        return 0
    return DEFAULT_REFINE_STEPS if vgg is not None or torchvision_vgg16_cached() else 0


def default_cache_dir() -> Path:
    """Where fitted targets are kept between runs."""
    return cache_folder("refined")


class TargetRefiner:
    """Fits style targets for one generator with one VGG loss network (VGG16, the one training used).

    With a `cache_dir`, fitted targets are kept on disk, keyed by the style picture, its encoder target
    (which stands for the generator's weights), the VGG and the settings: a painting is fitted once,
    not once per run or per live session.
    """

    def __init__(
        self,
        model: MSGNet,
        vgg: VGGFeatures,
        settings: RefineSettings,
        device: torch.device | str,
        progress: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        self.model = model
        self.progress = progress  # a progress bar on stderr per fitted target
        self.vgg = vgg.to(device)
        self.settings = settings
        self.device = torch.device(device)
        self.cache_dir = cache_dir
        frames = [center_crop(read_image(p), settings.size) for p in settings.photos]
        self.photos = pad_for_generator(frames_to_tensor(frames, self.device))
        with torch.no_grad():
            self.photo_features = self.vgg(self.photos, [CONTENT_LAYER])[CONTENT_LAYER]
        # What else a fitted target depends on: the loss network and the recipe.
        recipe = tensor_digest(*self.vgg.state_dict().values()) + repr(settings) if cache_dir is not None else ""
        self._recipe = hashlib.sha256(recipe.encode()).hexdigest()[:16]

    @classmethod
    def load(
        cls,
        model: MSGNet,
        device: torch.device | str,
        vgg: str | Path | None = None,
        settings: RefineSettings | None = None,
        progress: bool = False,
        cache_dir: Path | None = None,
    ) -> TargetRefiner:
        """With `vgg` None, torchvision's ImageNet VGG16 (downloaded once), else a local features state dict."""
        return cls(model, VGGFeatures.load(vgg, "vgg16"), settings or RefineSettings(), device, progress, cache_dir)

    def __call__(self, style: Tensor, target: Tensor) -> Tensor:
        """`style` 1×3×H×W (0–255) and its encoder target C×C → the fitted C×C target (float32)."""
        if self.cache_dir is None:
            return self._fit(style, target)
        path = self.cache_dir / f"{tensor_digest(style, target)}-{self._recipe}.safetensors"
        cached = _read_cached(path, target)
        if cached is not None:
            return cached
        fitted = self._fit(style, target)
        _write_cached(path, fitted)
        return fitted

    def _fit(self, style: Tensor, target: Tensor) -> Tensor:
        settings = self.settings
        dtype = next(self.model.parameters()).dtype
        # Callers may sit in inference mode (a stylizer's forward); fitting needs autograd.
        with torch.inference_mode(False), torch.enable_grad():
            with torch.no_grad():
                grams = {k: v[0] for k, v in style_grams(self.vgg(style.float(), STYLE_LAYERS)).items()}
            # Optimise an unconstrained matrix and use its symmetric part: a Gram target stays symmetric,
            # so blends and morphs with other targets keep meaning what they mean for encoder targets.
            free = target.detach().float().clone().requires_grad_(True)
            optimizer = torch.optim.Adam([free], lr=settings.lr * float(free.detach().abs().mean().clamp_min(1e-12)))
            bar = tqdm(total=settings.steps, desc="refining style", unit="step", disable=not self.progress, leave=False)
            with bar:
                for _ in range(settings.steps):
                    fitted = (free + free.T) / 2
                    out = self.model(self.photos.to(dtype), fitted.to(dtype)).float()
                    features = self.vgg(out, STYLE_LAYERS)
                    loss = settings.content_weight * content_loss(features[CONTENT_LAYER], self.photo_features)
                    loss = loss + settings.style_weight * style_loss(features, grams)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
                    bar.update()
            return ((free + free.T) / 2).detach()


def _read_cached(path: Path, like: Tensor) -> Tensor | None:
    """A cached target, or None when there is none or it is unreadable (then it is fitted and rewritten)."""
    try:
        cached = load_file(path)["target"]
    except (OSError, SafetensorError, KeyError):
        return None
    return cached.to(like.device) if cached.shape == like.shape else None


def _write_cached(path: Path, target: Tensor) -> None:
    tensors = {"target": target.detach().float().contiguous().cpu()}
    keep(path, lambda tmp: save_file(tensors, str(tmp)), "the refined target")
