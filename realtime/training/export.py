"""From a training run to the shipped weights format: generator, style bank, VGG targets and the run's record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from realtime.atomic import check_output_folder
from realtime.checkpoint import load_checkpoint
from realtime.device import resolve_device
from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_long_side, frame_to_tensor
from realtime.imaging.images import image_files, read_image
from realtime.model.msgnet import MSGNet
from realtime.model.targets import StyleBank, StyleTargets
from realtime.model.weights import Weights, save_weights
from realtime.perceptual.layers import STYLE_LAYERS
from realtime.perceptual.losses import style_grams
from realtime.perceptual.vgg import VGGFeatures
from realtime.training.config import PATH_OPTIONS, TrainConfig
from realtime.training.data import check_unique_names
from realtime.training.state import check_checkpoint


def snapshot_path(out: str | Path, step: int) -> Path:
    """Where --export-every writes the weights of `step`: beside OUT, so `--average` can take the last few."""
    out = Path(out)
    return out.with_name(f"{out.stem}.step{step}{out.suffix}")


def last_validation(history: list[dict[str, Any]]) -> dict[str, dict[str, float]] | None:
    """The newest history row's validation scores, if any row has them."""
    return next((row["val"] for row in reversed(history) if row.get("val")), None)


def training_summary(state: dict[str, Any]) -> dict[str, Any]:
    """The weights file's training metadata, from a checkpoint state: recipe, budget, held-out sets, last scores."""
    config, data = state["config"], state.get("data", {})
    return {
        "trained": True,
        "steps": state["step"],
        "finished": state["step"] >= config["steps"],
        "images_seen": state["images_seen"],
        "train_minutes": round(state["train_seconds"] / 60, 1),
        "recipe": {k: v for k, v in config.items() if k not in PATH_OPTIONS},
        "vgg": Path(config["vgg"]).name if config.get("vgg") else "torchvision VGG16 IMAGENET1K_V1",
        "init": Path(config["init"]).name if config.get("init") else None,
        "teacher": Path(config["teacher"]).name if config.get("teacher") else None,
        "content_photos": data.get("content_photos"),
        "extra_styles": data.get("extra_styles", 0),
        "holdout_styles": data.get("holdout_styles", []),
        "val_photos": data.get("val_photos", []),
        "final_val": last_validation(state["history"]),
    }


def vgg_bank_info(config: TrainConfig, style_size: int) -> dict[str, Any]:
    """What the VGG Gram targets were computed with, so Gatys mode can refuse a loss network they do not fit."""
    return {
        "network": "vgg16",
        "weights": Path(config.vgg).name if config.vgg else "torchvision IMAGENET1K_V1",
        "pool": "max",
        "style_size": style_size,
        "layers": list(STYLE_LAYERS),
        "gram": "F·Fᵀ/(C·H·W) of RGB 0–255 images normalised with the ImageNet mean and std",
    }


@torch.no_grad()
def export_weights(
    model: MSGNet,
    style_paths: list[Path],
    vgg: VGGFeatures,
    config: TrainConfig,
    out: str | Path,
    style_size: int,
    training: dict[str, Any],
    device: torch.device | str = "cpu",
) -> Weights:
    """Write the shipped weights format: generator, style bank from its own encoder (as the app computes
    targets; without the style head, as the generator trained), and the same styles' VGG Grams so Gatys
    mode can render built-in styles by name."""
    check_unique_names(style_paths, Path(style_paths[0]).parent if style_paths else ".")
    targets = StyleTargets(model, StyleBank(), torch.device(device), style_size, head=False)
    bank, vgg_grams = {}, []
    for path in style_paths:
        bank[path.stem] = targets.target(str(path)).cpu()
        frame = fit_long_side(read_image(path, style_size), style_size)
        features = vgg(frame_to_tensor(frame, device), STYLE_LAYERS)
        vgg_grams.append({layer: g[0].cpu() for layer, g in style_grams(features).items()})
    vgg_bank = {layer: torch.stack([g[layer] for g in vgg_grams]) for layer in STYLE_LAYERS}
    weights = Weights(model, StyleBank(bank), training, str(out), vgg_bank, vgg_bank_info(config, style_size))
    save_weights(weights, out)
    return weights


def export_checkpoint(
    checkpoint: str | Path,
    out: str | Path,
    styles: str | None = None,
    vgg: str | None = None,
    style_size: int | None = None,
    device: str = "auto",
) -> Weights:
    """Export a checkpoint's generator (finished or not) with the style bank of `styles` (default: its own)."""
    state = load_checkpoint(checkpoint)
    check_checkpoint(state, checkpoint)
    config = TrainConfig.from_dict(state["config"])
    config.styles = styles or config.styles
    config.vgg = vgg if vgg is not None else config.vgg
    if not config.styles or not Path(config.styles).is_dir():
        raise RealtimeError(f"style folder not found: {config.styles} (pass --styles DIR)")
    if config.vgg and not Path(config.vgg).is_file():
        raise RealtimeError(f"VGG weights not found: {config.vgg} (pass --vgg PATH)")
    check_output_folder(out)
    torch_device = resolve_device(device)
    model = MSGNet(**config.shape(), style_head=config.style_head)
    try:
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError) as exc:
        raise RealtimeError(f"{checkpoint} holds no usable generator: {str(exc).strip().splitlines()[0]}") from None
    model.to(torch_device).eval()
    return export_weights(
        model,
        image_files(config.styles, "style"),
        VGGFeatures.load(config.vgg).to(torch_device),
        config,
        out,
        style_size or config.style_size,
        training_summary(state),
        torch_device,
    )
