"""How images meet the networks during training: autocast dtype and memory layout, chosen once per run."""

from __future__ import annotations

from contextlib import AbstractContextManager

import torch
from torch import Tensor

from realtime.perceptual.losses import STYLE_LAYERS, style_grams
from realtime.perceptual.vgg import VGGFeatures


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for a --precision; "auto" is bf16 on CUDA and plain float32 (None) elsewhere."""
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" else "fp32"
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}[precision]


class Precision:
    """The step, the style targets and validation all run under the same autocast and layout."""

    def __init__(self, precision: str, device: torch.device) -> None:
        self.device = device
        self.amp_dtype = autocast_dtype(precision, device)
        # channels_last is oneDNN's (CPUs with AMX) and cuDNN's fast layout, for bf16 above all.
        self.memory_format = torch.channels_last

    def autocast(self) -> AbstractContextManager:
        return torch.autocast(
            self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None
        )

    def input(self, images: Tensor) -> Tensor:
        """uint8 or float images (0–255) as the float tensors the networks take, on the device."""
        return images.to(self.device).float().contiguous(memory_format=self.memory_format)

    def describe(self) -> str:
        return "fp32" if self.amp_dtype is None else str(self.amp_dtype).replace("torch.", "")


@torch.no_grad()
def vgg_grams(vgg: VGGFeatures, images: Tensor, precision: Precision, chunk: int = 16) -> dict[str, Tensor]:
    """VGG Gram targets of style images (0–255), computed once: the loss network never changes."""
    parts = []
    for start in range(0, len(images), chunk):
        with precision.autocast():
            features = vgg(precision.input(images[start : start + chunk]), STYLE_LAYERS)
        parts.append(style_grams(features))
    return {layer: torch.cat([p[layer] for p in parts]) for layer in STYLE_LAYERS}
