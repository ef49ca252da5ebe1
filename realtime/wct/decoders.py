"""The decoders file: one decoder per VGG level in one safetensors file, with the VGG they invert.

safetensors stores raw tensors plus a JSON header, so loading never runs code from the file. Layout:
`<level>.<parameter>` tensors in float16 (the decoders' precision needs are far coarser), and string
metadata: `format`, `version`, `width`, JSON `channels` (of the VGG's levels), JSON `levels`, JSON `vgg` (name and fingerprint of the VGG16 the
decoders were trained with: a decoder inverts that network only), JSON `training` (recipe and scores).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from realtime.atomic import atomic_output
from realtime.errors import RealtimeError
from realtime.model.weights import find_weights, read_tagged_file
from realtime.perceptual.vgg import VGGFeatures
from realtime.wct.decoder import Decoder
from realtime.wct.settings import DEFAULT_DECODERS, LEVELS

FORMAT = "realtime-wct-decoders"
VERSION = 1


def vgg_identity(vgg: VGGFeatures, name: str) -> dict[str, str]:
    """A name for people and a fingerprint for the code: SHA-256 of the trunk's weights up to relu4_3 in
    float16, so the same network saved in float32 or float16 has one fingerprint."""
    digest = hashlib.sha256()
    last = vgg.layer_index[LEVELS[-1]] if LEVELS[-1] in vgg.layer_index else len(vgg.features) - 1
    for layer in vgg.features[: last + 1]:
        for tensor in (getattr(layer, "weight", None), getattr(layer, "bias", None)):
            if tensor is not None:
                digest.update(tensor.detach().to("cpu", torch.float16).contiguous().numpy().tobytes())
    return {"name": name, "fingerprint": digest.hexdigest()[:16]}


class OtherVGGWarning(UserWarning):
    """The decoders invert another VGG16 than the one in use: pictures come out slightly off."""


@dataclass
class DecoderSet:
    """Decoders by level, with the VGG they were trained to invert."""

    decoders: dict[str, Decoder]
    vgg: dict[str, str]
    training: dict[str, Any] = field(default_factory=dict)
    source: str = "untrained"

    @property
    def levels(self) -> list[str]:
        return [level for level in LEVELS if level in self.decoders]

    def check_vgg(self, identity: dict[str, str]) -> None:
        """Warn, in one line, when the VGG in use is not the one the decoders were trained with."""
        if identity.get("fingerprint") != self.vgg.get("fingerprint"):
            warnings.warn(
                f"the WCT decoders were trained with another VGG16 ({self.vgg.get('name', 'unknown')}) than "
                f"{identity.get('name')}; pictures may be slightly off (`realtime train-decoder` trains matching ones)",
                OtherVGGWarning,
                stacklevel=3,
            )


def save_decoders(decoder_set: DecoderSet, path: str | Path) -> None:
    """Write atomically, in float16."""
    tensors = {
        f"{level}.{name}": value.detach().to("cpu", torch.float16).contiguous()
        for level, decoder in decoder_set.decoders.items()
        for name, value in decoder.state_dict().items()
    }
    shapes = {(decoder.width, decoder.channels) for decoder in decoder_set.decoders.values()}
    if len(shapes) != 1:
        raise ValueError("a decoders file holds decoders of one width for one VGG")
    width, channels = shapes.pop()
    metadata = {
        "format": FORMAT,
        "version": str(VERSION),
        "width": str(width),
        "channels": json.dumps(list(channels)),
        "levels": json.dumps(decoder_set.levels),
        "vgg": json.dumps(decoder_set.vgg),
        "training": json.dumps(decoder_set.training),
    }
    with atomic_output(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def load_decoders(path: str | Path | None = None, device: torch.device | str = "cpu") -> DecoderSet:
    """A decoders file (a path, or a shipped file's bare name; default the shipped one); any problem is one line."""
    path = find_weights(path or DEFAULT_DECODERS)
    metadata, tensors = read_tagged_file(path, FORMAT, VERSION, "decoders", "WCT decoders")
    try:
        levels, width = json.loads(metadata["levels"]), float(metadata["width"])
        channels = tuple(int(c) for c in json.loads(metadata["channels"]))
        vgg, training = json.loads(metadata["vgg"]), json.loads(metadata.get("training", "{}"))
        decoders = {level: Decoder(level, width, channels) for level in levels}
    except (KeyError, ValueError, RealtimeError) as exc:
        raise RealtimeError(f"{path} has broken metadata: {exc}") from None
    for level, decoder in decoders.items():
        state = {k[len(level) + 1 :]: v.float() for k, v in tensors.items() if k.startswith(level + ".")}
        try:
            decoder.load_state_dict(state)
        except RuntimeError as exc:
            detail = " ".join(line.strip() for line in str(exc).strip().splitlines()[:2])
            raise RealtimeError(f"{path} does not hold a {level} decoder of width {width:g}: {detail}") from None
        decoder.to(device).eval().requires_grad_(False)
    return DecoderSet(decoders, vgg, training, str(path))
