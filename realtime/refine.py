"""Refining a painting's style target: a few gradient steps on the target, generator and VGG frozen.

A generator trained on 21 styles follows the encoder's target for a painting it never saw only
partway, sometimes not at all (benchmarks/bench_quality.py on 31 unseen paintings: style-distance
ratio 1.59 on average, median 0.43; trained styles 0.017). The target is just a C×C matrix, so it
can be fitted directly: training's objective (VGG Gram distance to the painting plus content loss)
on a few generic photos, optimised over the target alone. 20 steps bring that mean ratio to 0.105
without retraining, scored on photos it never fitted: the target carries over to other content.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from tqdm import tqdm

from .datasets import center_crop
from .errors import RealtimeError
from .frames import frames_to_tensor, pad_for_generator
from .images import read_image
from .losses import CONTENT_LAYER, STYLE_LAYERS, content_loss, style_grams, style_loss
from .msgnet import MSGNet
from .vgg import VGGFeatures

# Photos the target is fitted on: scikit-image's bundled samples, so refinement works offline.
DEFAULT_PHOTOS = ("sample:astronaut", "sample:coffee")
DEFAULT_REFINE_STEPS = 20


@dataclass(frozen=True)
class RefineSettings:
    """The fitting recipe; part of a refined target's cache key."""

    steps: int = DEFAULT_REFINE_STEPS
    size: int = 192  # square crops of the photos: small is fast; the fitted target then serves any working size
    photos: tuple[str, ...] = DEFAULT_PHOTOS
    content_weight: float = 1.0  # training's weights: the refined target keeps training's balance
    style_weight: float = 5.0
    lr: float = 0.05  # Adam step, relative to the encoder target's mean magnitude

    def __post_init__(self) -> None:
        if self.steps < 0 or self.size < 16 or not self.photos or self.lr <= 0:
            raise RealtimeError("refinement needs steps ≥ 0, size ≥ 16, at least one photo and a positive rate")


class TargetRefiner:
    """Fits style targets for one generator with one VGG loss network (VGG16, the one training used)."""

    def __init__(
        self, model: MSGNet, vgg: VGGFeatures, settings: RefineSettings, device: torch.device | str, progress: bool = False
    ) -> None:
        self.model = model
        self.progress = progress  # a progress bar on stderr per fitted target
        self.vgg = vgg.to(device)
        self.settings = settings
        self.device = torch.device(device)
        frames = [center_crop(read_image(p), settings.size) for p in settings.photos]
        self.photos = pad_for_generator(frames_to_tensor(frames, self.device))
        with torch.no_grad():
            self.photo_features = self.vgg(self.photos, [CONTENT_LAYER])[CONTENT_LAYER]

    @classmethod
    def load(
        cls,
        model: MSGNet,
        device: torch.device | str,
        vgg: str | Path | None = None,
        settings: RefineSettings | None = None,
        progress: bool = False,
    ) -> TargetRefiner:
        """With `vgg` None, torchvision's ImageNet VGG16 (downloaded once), else a local features state dict."""
        return cls(model, VGGFeatures.load(vgg, "vgg16"), settings or RefineSettings(), device, progress)

    def __call__(self, style: Tensor, target: Tensor) -> Tensor:
        """`style` 1×3×H×W (0–255) and its encoder target C×C → the fitted C×C target (float32)."""
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

