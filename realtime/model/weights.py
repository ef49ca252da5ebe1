"""The weights file: generator parameters, the built-in style bank and metadata in one safetensors file.

safetensors stores raw tensors plus a JSON header, so loading a file never runs code from it.
Layout: `generator.<param>` tensors; `style_bank`, the built-in styles' MSG-Net targets; optional
`vgg_bank.<layer>` tensors, the same styles' VGG Gram matrices (Gatys mode renders built-in styles
from them, since no style images ship); string metadata (`format`, `version`, the generator's shape
`ngf`, `n_blocks`, `width`, `out_kernel`, `style_head` where the generator has one, JSON `style_names`,
JSON `vgg_bank` description, JSON `training`). Gram matrices are symmetric, so banks store only their
upper triangles (S×C(C+1)/2), in float16.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import Tensor

from realtime.atomic import atomic_output
from realtime.device import cpu_has_amx
from realtime.errors import RealtimeError
from realtime.model.msgnet import MSGNet
from realtime.model.shapes import MODELS, SHAPE_DEFAULTS
from realtime.model.targets import StyleBank

FORMAT = "realtime-msgnet"
VERSION = 1
# The shipped weights of each model in `realtime.model.shapes.MODELS`. The full model's default is the one
# trained with the style layers weighed: its built-ins repaint the photo where `msgnet21`'s filter it.
SHIPPED_FILES = {
    "full": "msgnet21-painterly.safetensors",
    "light": "msgnet21-light.safetensors",
    "fast": "msgnet21-fast.safetensors",
}
GENERATOR_PREFIX = "generator."
BANK_KEY = "style_bank"
VGG_BANK_PREFIX = "vgg_bank."


def pack_symmetric(matrices: Tensor) -> Tensor:
    """S×C×C symmetric → S×C(C+1)/2 upper triangles (half the bytes)."""
    rows, cols = torch.triu_indices(matrices.shape[-1], matrices.shape[-1])
    return matrices[:, rows, cols]


def unpack_symmetric(packed: Tensor) -> Tensor:
    """Inverse of `pack_symmetric`."""
    channels = int((math.isqrt(8 * packed.shape[-1] + 1) - 1) // 2)
    rows, cols = torch.triu_indices(channels, channels)
    full = packed.new_zeros(packed.shape[0], channels, channels)
    full[:, rows, cols] = packed
    full[:, cols, rows] = packed
    return full


@dataclass
class Weights:
    """A generator with its style bank, as stored in (or about to be written to) a weights file."""

    model: MSGNet
    bank: StyleBank = field(default_factory=StyleBank)
    training: dict[str, Any] = field(default_factory=dict)
    source: str = "untrained"
    # VGG Gram targets of the bank's styles: layer → S×C×C, rows in `bank.names()` order.
    vgg_bank: dict[str, Tensor] = field(default_factory=dict)
    # How `vgg_bank` was computed (network, pooling, style size), so Gatys can check it matches.
    vgg_bank_info: dict[str, Any] = field(default_factory=dict)


def save_weights(weights: Weights, path: str | Path, dtype: torch.dtype = torch.float16) -> None:
    """Write atomically; float16 halves the file and is far below the generator's own precision needs."""
    model = weights.model
    tensors = {
        GENERATOR_PREFIX + name: value.detach().to("cpu", dtype).contiguous()
        for name, value in model.state_dict().items()
    }
    names = weights.bank.names()
    if names:
        stacked = torch.stack([weights.bank[n].detach().float().cpu() for n in names])
        tensors[BANK_KEY] = pack_symmetric(stacked).to(dtype)
    for layer, grams in weights.vgg_bank.items():
        if grams.shape[0] != len(names):
            raise ValueError(f"vgg_bank[{layer}] has {grams.shape[0]} rows for {len(names)} styles")
        tensors[VGG_BANK_PREFIX + layer] = pack_symmetric(grams.detach().float().cpu()).to(dtype)
    metadata = {
        "format": FORMAT,
        "version": str(VERSION),
        **{key: str(value) for key, value in model.shape.items()},
        **({"style_head": str(model.style_head_width)} if model.style_head_width else {}),
        "style_names": json.dumps(names),
        "training": json.dumps(weights.training),
        "vgg_bank": json.dumps(weights.vgg_bank_info),
    }
    with atomic_output(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def find_weights(path: str | Path) -> Path:
    """`path` itself, or a bare name of a shipped file (`msgnet21-wikiart`): an installed app keeps its
    weights inside site-packages, where nobody types paths."""
    path = Path(path)
    if path.is_file():
        return path
    if path.is_dir():
        raise RealtimeError(f"expected a weights file, got a folder: {path}")
    if path.parent == Path(".") and path.name:
        shipped = {p.stem: p for p in shipped_folder().glob("*.safetensors")}
        name = path.name.removesuffix(".safetensors")
        if name in shipped:
            return shipped[name]
        names = ", ".join(sorted(shipped)) or "none"
        raise RealtimeError(f"weights file not found: {path} (shipped weights, usable by name: {names})")
    raise RealtimeError(f"weights file not found: {path}")


def read_tagged_file(path: Path, fmt: str, version: int, kind: str, title: str) -> tuple[dict, dict]:
    """(metadata, tensors) of a safetensors file whose metadata names our `fmt` and `version`; a truncated,
    foreign or newer file is one line naming it (`kind`: "weights", `title`: "MSG-Net weights")."""
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 - safe_open is not iterable
    except (SafetensorError, OSError, ValueError) as exc:
        raise RealtimeError(f"{path} is not a readable {kind} file (truncated or not safetensors): {exc}") from None
    if metadata.get("format") != fmt:
        raise RealtimeError(f"{path} is not a realtime {title} file (format '{metadata.get('format')}')")
    if metadata.get("version") != str(version):
        raise RealtimeError(
            f"{path} has {kind} format version {metadata.get('version')}; this realtime reads {version}"
        )
    return metadata, tensors


def load_weights(path: str | Path, device: torch.device | str = "cpu") -> Weights:
    """Load a weights file (a path or a shipped file's name); any problem with it is one RealtimeError line naming the file."""
    path = find_weights(path)
    metadata, tensors = read_tagged_file(path, FORMAT, VERSION, "weights", "MSG-Net weights")
    try:
        model = MSGNet(
            **{key: int({**SHAPE_DEFAULTS, **metadata}[key]) for key in MODELS["full"]},
            style_head=int(metadata.get("style_head", 0)),
        )
        names = json.loads(metadata["style_names"])
        training = json.loads(metadata.get("training", "{}"))
        vgg_bank_info = json.loads(metadata.get("vgg_bank", "{}"))
    except (KeyError, ValueError) as exc:
        raise RealtimeError(f"{path} has broken metadata: {exc}") from None
    state = {k[len(GENERATOR_PREFIX) :]: v.float() for k, v in tensors.items() if k.startswith(GENERATOR_PREFIX)}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:2])
        shape = ", ".join(f"{key}={value}" for key, value in model.shape.items())
        raise RealtimeError(f"{path} does not match an MSG-Net with {shape}: {detail}") from None
    channels = model.target_channels
    packed = tensors.get(BANK_KEY)
    if names and (packed is None or tuple(packed.shape) != (len(names), channels * (channels + 1) // 2)):
        raise RealtimeError(f"{path} has a style bank that does not match its {len(names)} style names")
    bank = StyleBank(dict(zip(names, unpack_symmetric(packed.float()))) if names else {})
    vgg_bank = {
        key[len(VGG_BANK_PREFIX) :]: unpack_symmetric(value.float())
        for key, value in tensors.items()
        if key.startswith(VGG_BANK_PREFIX)
    }
    if any(grams.shape[0] != len(names) for grams in vgg_bank.values()):
        raise RealtimeError(f"{path} has a VGG style bank that does not match its {len(names)} style names")
    model.eval().requires_grad_(False)
    return Weights(model.to(device), bank, training, str(path), vgg_bank, vgg_bank_info)


class UntrainedWeightsWarning(UserWarning):
    """Raised while no trained weights ship: outputs depend on the style but are not paintings."""


def model_for(model: str, device: torch.device | str) -> str:
    """`auto` = the full model on CUDA and on a CPU with AMX, the fast one elsewhere where it ships, else the
    light one (other CPUs run the full one too slowly for every frame; a live session times them on any CPU:
    `realtime.live.model_choice`)."""
    if model == "auto":
        if torch.device(device).type == "cuda" or cpu_has_amx():
            return "full"
        return "fast" if shipped_weights_path("fast") is not None else "light"
    if model not in MODELS:
        raise RealtimeError(f"unknown model '{model}'; use auto, {', '.join(MODELS)}")
    return model


def shipped_folder() -> Path:
    """Where the shipped weights are: wherever pip installed the package, or the source tree's weights/
    when running from a checkout nobody installed."""
    try:
        return Path(str(resources.files("realtime.shipped")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "weights"


def shipped_weights_path(model: str = "full") -> Path | None:
    """The shipped weights file of `model`; None while that model is not trained."""
    candidate = shipped_folder() / SHIPPED_FILES[model]
    return candidate if candidate.is_file() else None


def shipped_weights(model: str) -> Weights | None:
    """The shipped weights of `model`, or None while it is not trained."""
    path = shipped_weights_path(model)
    return load_weights(path) if path is not None else None


def resolve_weights(path: str | Path | None = None, model: str = "auto", device: torch.device | str = "cpu") -> Weights:
    """The given file; else the shipped weights of `model` (see `model_for`), or of the other model while
    that one is not trained yet; else an untrained placeholder of the model's shape. Both fallbacks warn."""
    if path is not None:
        return load_weights(path)
    chosen = model_for(model, device)
    shipped = shipped_weights(chosen)
    if shipped is not None:
        return shipped
    # The nearest in cost first: who asked for a small model on a CPU keeps a small one.
    nearest = {"full": ("light", "fast"), "light": ("fast", "full"), "fast": ("light", "full")}[chosen]
    others = [name for name in nearest if shipped_weights_path(name) is not None]
    if others:
        warnings.warn(
            f"no trained {chosen} model ships with this version yet: using the {others[0]} model", stacklevel=2
        )
        return shipped_weights(others[0])
    warnings.warn(
        "no trained weights ship with this version yet: using an untrained generator (seed 0);"
        " outputs follow the style image but do not look like paintings",
        UntrainedWeightsWarning,
        stacklevel=2,
    )
    return untrained_weights(**MODELS[chosen])


def untrained_weights(seed: int = 0, **shape: int) -> Weights:
    """A reproducible randomly initialised generator (the paper's shape unless given), for tests and
    until trained weights ship."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MSGNet(**shape)
    # Default init leaves the output within about ±1 of mid-grey; widen it so the placeholder's
    # dependence on content and style is visible.
    model.output_conv.weight.data.mul_(64.0 / model.output_gain)
    model.eval().requires_grad_(False)
    return Weights(model, StyleBank(), {"trained": False, "seed": seed})
