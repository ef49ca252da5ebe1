"""Validation: held-out photos in trained and unseen styles, scored by the yardsticks the benchmarks use."""

from __future__ import annotations

import torch
from torch import Tensor

from realtime.imaging.frames import frame_to_tensor, pad_for_generator
from realtime.model.msgnet import MSGNet
from realtime.perceptual.layers import CONTENT_LAYER, STYLE_LAYERS
from realtime.perceptual.losses import content_loss
from realtime.perceptual.quality import content_change, layer_distances, style_distance, sum_layers
from realtime.perceptual.vgg import VGGFeatures
from realtime.training.config import TrainConfig
from realtime.training.data import TrainingData, ValidationStyle
from realtime.training.precision import Precision, vgg_grams


class Validation:
    """Mean losses and quality yardsticks of a generator on the run's held-out photos, per style group.

    Each style's input image and VGG Grams are prepared once; `style`, `content` and `loss` are training's
    terms (the ratios with --loss ratio), weighed as training weighs them, so validation and training losses
    read alike, while `ratio` stays the benchmarks' unweighted yardstick.
    """

    def __init__(self, data: TrainingData, vgg: VGGFeatures, precision: Precision, config: TrainConfig) -> None:
        self.photos = data.val_photos
        self.vgg = vgg
        self.precision = precision
        self.weights = config.content_weight, config.style_weight
        self.ratio_loss = config.loss == "ratio"
        self.layer_weights = config.layer_weights()
        self.styles = [self._prepare(style) for style in data.val_styles]

    def __bool__(self) -> bool:
        return bool(self.styles)

    def _prepare(self, style: ValidationStyle) -> tuple[str, Tensor, dict[str, Tensor]]:
        image = frame_to_tensor(style.frame, self.precision.device)
        return style.group, pad_for_generator(image), vgg_grams(self.vgg, image, self.precision)

    @torch.no_grad()
    def __call__(self, model: MSGNet) -> dict[str, dict[str, float]]:
        """{group: {style, content, ratio, content_change, loss}} for groups "trained" and "unseen"."""
        autocast, photos = self.precision.autocast, self.precision.input(self.photos)
        with autocast():
            reference = self.vgg(photos, STYLE_LAYERS)
        sums: dict[str, dict[str, float]] = {}
        for group, image, grams in self.styles:
            with autocast():
                output = model(photos, model.encode_style(self.precision.input(image)))
                features = self.vgg(output, STYLE_LAYERS)
            layers = layer_distances(features, grams)
            change = content_change(features[CONTENT_LAYER], reference[CONTENT_LAYER]).mean()
            style = sum_layers(layers, self.layer_weights)
            if self.ratio_loss:
                style = style / style_distance(reference, grams, self.layer_weights).clamp_min(1e-12)
            scores = {
                "style": style.mean(),
                "content": change
                if self.ratio_loss
                else content_loss(features[CONTENT_LAYER], reference[CONTENT_LAYER]),
                "ratio": (sum_layers(layers) / style_distance(reference, grams).clamp_min(1e-12)).mean(),
                "content_change": change,
            }
            totals = sums.setdefault(group, {"n": 0.0})
            totals["n"] += 1
            for key, value in scores.items():
                totals[key] = totals.get(key, 0.0) + float(value)
        results = {}
        for group, totals in sums.items():
            n = totals.pop("n")
            means = {key: value / n for key, value in totals.items()}
            means["loss"] = self.weights[0] * means["content"] + self.weights[1] * means["style"]
            results[group] = means
        return results
