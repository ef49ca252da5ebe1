"""The frozen VGG loss network shared by training and Gatys: named ReLU activations of a VGG trunk.

Weights come from torchvision's ImageNet VGG (downloaded once by torchvision, for users with a
network) or from a local state dict of `vgg16().features[:N]` / `vgg19().features[:N]` layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import torch
from torch import Tensor, nn

from realtime.errors import RealtimeError
from realtime.perceptual.layers import ARCHITECTURES

# torchvision's input convention: RGB in [0, 1], normalised with the ImageNet statistics.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _torchvision_models() -> ModuleType:
    """torchvision.models, imported on first use: importing torchvision takes ~3 s on a 2-core CPU, which live
    sessions and stills that never build a VGG should not wait for."""
    import torchvision.models

    return torchvision.models


def torchvision_vgg16_cached() -> bool:
    """Whether torchvision's ImageNet VGG16 is in torch's download cache (so using it needs no network)."""
    url = _torchvision_models().VGG16_Weights.IMAGENET1K_V1.url
    return (Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]).is_file()


def relu_names(features: nn.Sequential) -> dict[str, int]:
    """Map `relu{block}_{conv}` names to indices in a torchvision VGG `features` Sequential."""
    names, block, conv = {}, 1, 0
    for index, layer in enumerate(features):
        if isinstance(layer, nn.Conv2d):
            conv += 1
        elif isinstance(layer, nn.ReLU):
            names[f"relu{block}_{conv}"] = index
        elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
            block, conv = block + 1, 0
    return names


class VGGFeatures(nn.Module):
    """Frozen VGG trunk that returns the activations of the requested ReLU layers.

    Images go in as float RGB 0–255 (the generator's range); normalisation happens here, once.
    """

    def __init__(self, features: nn.Sequential, pool: str = "max") -> None:
        super().__init__()
        if pool not in ("max", "avg"):
            raise RealtimeError(f"pooling must be 'max' or 'avg', got '{pool}'")
        if pool == "avg":
            features = nn.Sequential(*[nn.AvgPool2d(2, 2) if isinstance(m, nn.MaxPool2d) else m for m in features])
        for module in features:
            if isinstance(module, nn.ReLU):
                module.inplace = False
        self.features = features.eval().requires_grad_(False)
        self.layer_index = relu_names(features)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255)

    @classmethod
    def load(cls, path: str | Path | None = None, arch: str = "vgg16", pool: str = "max") -> VGGFeatures:
        """A local state dict when `path` is given, else torchvision's ImageNet weights (needs a download once)."""
        if arch not in ARCHITECTURES:
            raise RealtimeError(f"unknown VGG '{arch}'; use one of {', '.join(ARCHITECTURES)}")
        if path is None:
            return cls(_download(arch), pool)
        return cls.from_state_dict(read_state_dict(Path(path)), arch, pool, str(path))

    @classmethod
    def from_state_dict(
        cls, state: dict[str, Tensor], arch: str, pool: str = "max", name: str = "the state dict"
    ) -> VGGFeatures:
        """The first layers of torchvision's `arch` features, as many as `state` holds (read_state_dict's output)."""
        depth = max(int(key.split(".")[0]) for key in state) + 2  # keep the ReLU after the last conv
        trunk = getattr(_torchvision_models(), arch)().features[:depth]
        try:
            trunk.load_state_dict({k: v.float() for k, v in state.items()})
        except RuntimeError as exc:
            # The first line only says "Error(s) in loading state_dict"; the next one says which tensor.
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            raise RealtimeError(
                f"{name} is not a {arch} features state dict ({lines[min(1, len(lines) - 1)]})"
            ) from None
        return cls(trunk, pool)

    @property
    def layers(self) -> list[str]:
        return list(self.layer_index)

    def forward(self, images: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:
        unknown = [name for name in layers if name not in self.layer_index]
        if unknown:
            raise RealtimeError(
                f"VGG layer(s) {', '.join(unknown)} not in this network; available: {', '.join(self.layers)}"
            )
        wanted = {self.layer_index[name]: name for name in layers}
        out: dict[str, Tensor] = {}
        x = (images - self.mean) / self.std
        for index, layer in enumerate(self.features[: max(wanted) + 1]):
            x = layer(x)
            if index in wanted:
                out[wanted[index]] = x
        return out


# The one line that turns torchvision's ImageNet VGG16 into a file --vgg takes, on any machine with a network.
VGG_FILE_RECIPE = (
    "python -c \"import torch, torchvision; torch.save(torchvision.models.vgg16(weights='IMAGENET1K_V1')"
    ".features.state_dict(), 'vgg16_features.pth')\""
)


def missing_vgg(wanted: str, reason: str) -> RealtimeError:
    """The one message, wherever a VGG is needed and cannot be had: what is missing, why, and the way out."""
    return RealtimeError(
        f"no {wanted} at hand: torchvision could not download its ImageNet weights ({reason}); pass --vgg PATH, a "
        f"features state dict saved once where the download works: {VGG_FILE_RECIPE}"
    )


def _download(arch: str) -> nn.Sequential:
    models = _torchvision_models()
    weights = {"vgg16": models.VGG16_Weights, "vgg19": models.VGG19_Weights}[arch]
    try:
        return getattr(models, arch)(weights=weights.IMAGENET1K_V1).features
    except Exception as exc:  # noqa: BLE001 - torchvision raises URLError, HTTPError, RuntimeError… for a failed download
        raise missing_vgg(arch.upper(), type(exc).__name__) from None


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """A VGG features state dict from disk, safely (`weights_only`); one clear line for any file that is not one."""
    if not path.is_file():
        raise RealtimeError(f"VGG weights not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - truncated zip, pickle refused by weights_only, not a torch file…
        raise RealtimeError(f"{path} is not a readable VGG state dict: {type(exc).__name__}") from None
    if not isinstance(state, dict) or not state or not all(k.split(".")[0].isdigit() for k in state):
        raise RealtimeError(f"{path} is not a VGG features state dict (expected keys like '0.weight')")
    return state
