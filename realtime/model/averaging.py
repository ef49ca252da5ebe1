"""Weight-space averages of generators fine-tuned from one another (WiSE-FT, Wortsman et al. 2022).

A fine-tune and the weights it started from sit in one basin of the loss, so a weighted average of the
two keeps much of what each is good at: here the 21-style model's built-ins and the many-style fine-tune's
grip on paintings it never saw. The style bank is recomputed from the averaged encoder, because targets
are only meaningful to the encoder that made them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from realtime.atomic import check_output_folder
from realtime.errors import RealtimeError
from realtime.imaging.images import image_files
from realtime.model.msgnet import MSGNet
from realtime.model.style_spec import DEFAULT_STYLE_SIZE, number_suffix
from realtime.model.targets import StyleBank, StyleTargets
from realtime.model.weights import Weights, load_weights, save_weights


def parse_part(text: str) -> tuple[str, float]:
    """`PATH[:FRACTION]` (fraction 1 when left out; fractions are normalised over all parts)."""
    path, fraction = number_suffix(text, ":", "the fraction", "above 0", lambda value: value > 0)
    return path, 1.0 if fraction is None else fraction


@torch.no_grad()
def average_weights(
    parts: Sequence[tuple[Weights, float]], styles: str | Path, style_size: int = DEFAULT_STYLE_SIZE
) -> Weights:
    """The fraction-weighted average of same-shaped generators, with a style bank from `styles`' images.

    The VGG Grams Gatys uses for built-ins do not depend on the generator and are kept from the first
    part; all parts must agree on them and on the style names.
    """
    if len(parts) < 2:
        raise RealtimeError("averaging needs at least two weights files")
    first = parts[0][0]
    for weights, _ in parts[1:]:
        if weights.model.shape != first.model.shape:
            raise RealtimeError(
                f"{weights.source} is an MSG-Net of another shape than {first.source}: {weights.model.shape} vs {first.model.shape}"
            )
        if weights.bank.names() != first.bank.names():
            raise RealtimeError(f"{weights.source} has other built-in styles than {first.source}")
        if weights.vgg_bank_info != first.vgg_bank_info:
            raise RealtimeError(
                f"{weights.source} has its styles' VGG Grams from another VGG or size than {first.source}"
            )
    total = sum(fraction for _, fraction in parts)
    states = [(weights.model.state_dict(), fraction / total) for weights, fraction in parts]
    averaged = {name: sum(state[name].float() * share for state, share in states) for name in states[0][0]}
    model = MSGNet(**first.model.shape)
    model.load_state_dict(averaged)
    model.eval().requires_grad_(False)
    paths = {path.stem: path for path in image_files(styles, "style")}
    missing = [name for name in first.bank.names() if name not in paths]
    if missing:
        raise RealtimeError(f"the style folder {styles} has no image for the built-in styles {', '.join(missing)}")
    targets = StyleTargets(model, StyleBank(), torch.device("cpu"), style_size)
    bank = StyleBank({name: targets.target(str(paths[name])) for name in first.bank.names()})
    training = {
        "trained": any(weights.training.get("trained", False) for weights, _ in parts),
        "average_of": [
            {"file": Path(weights.source).name, "fraction": round(share, 6), "training": weights.training}
            for (weights, _), (_, share) in zip(parts, states)
        ],
        "holdout_styles": sorted({name for weights, _ in parts for name in weights.training.get("holdout_styles", [])}),
    }
    return Weights(model, bank, training, "averaged", dict(first.vgg_bank), dict(first.vgg_bank_info))


def write_average(
    parts: Sequence[str], styles: str | Path, out: str | Path, style_size: int = DEFAULT_STYLE_SIZE
) -> Weights:
    """Load `PATH[:FRACTION]` parts, average them and write the weights file atomically."""
    check_output_folder(out)
    loaded = [(load_weights(path), fraction) for path, fraction in map(parse_part, parts)]
    weights = average_weights(loaded, styles, style_size)
    weights.source = str(out)
    save_weights(weights, out)
    return weights
