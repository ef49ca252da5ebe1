"""The loss network of a Gatys render: a VGG trunk, and what it is, so Gram targets can be checked against it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from realtime.errors import RealtimeError
from realtime.gatys.settings import POOLS
from realtime.perceptual.layers import ARCHITECTURES
from realtime.perceptual.vgg import VGGFeatures, missing_vgg, read_state_dict


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
        raise missing_vgg(arch.upper() if arch else "VGG19 or VGG16", "the download failed")

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
