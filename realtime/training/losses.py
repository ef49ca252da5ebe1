"""The losses of one training step: perceptual (content, style), smoothness, and a teacher's pixels."""

from __future__ import annotations

import torch
from torch import Tensor

from realtime.model.msgnet import MSGNet
from realtime.perceptual.layers import CONTENT_LAYER, STYLE_LAYERS
from realtime.perceptual.losses import content_loss, style_loss, total_variation
from realtime.perceptual.quality import content_change, style_distance
from realtime.perceptual.vgg import VGGFeatures
from realtime.training.precision import Precision

LOSS_NAMES = ("content", "style", "tv", "teacher")


class StepLosses:
    """The LOSS_NAMES losses of the generator's output, in one method the step can torch.compile whole."""

    def __init__(
        self,
        model: MSGNet,
        vgg: VGGFeatures,
        precision: Precision,
        teacher: MSGNet | None,
        layer_weights: dict[str, float],
        ratio: bool = False,
    ) -> None:
        self.model = model
        self.vgg = vgg
        self.precision = precision
        self.teacher = teacher
        self.layer_weights = layer_weights
        self.ratio = ratio  # --loss ratio: the style ratio and the relative content change (config.LOSSES)

    def compute(
        self, content: Tensor, target: Tensor, grams: dict[str, Tensor], taught: Tensor, teacher_output: Tensor | None
    ) -> Tensor:
        """(content, style, total variation, teacher) losses; VGG runs under autocast, Gram matrices in float32.

        The teacher loss is the pixel MSE to the teacher's output over the samples `taught` marks (1.0/0.0).
        """
        with self.precision.autocast():
            output = self.model(content, target)
            with torch.no_grad():
                reference = self.vgg(content, STYLE_LAYERS if self.ratio else (CONTENT_LAYER,))
            features = self.vgg(output, STYLE_LAYERS)
        if teacher_output is None:
            teacher = torch.zeros((), device=output.device)
        else:
            per_sample = (output.float() - teacher_output.float()).square().mean(dim=(1, 2, 3))
            teacher = (per_sample * taught).sum() / taught.sum().clamp_min(1.0)
        if self.ratio:
            photo_distance = style_distance(reference, grams, self.layer_weights).clamp_min(1e-12)
            style = (style_distance(features, grams, self.layer_weights) / photo_distance).mean()
            content_term = content_change(features[CONTENT_LAYER], reference[CONTENT_LAYER]).mean()
        else:
            style = style_loss(features, grams, self.layer_weights)
            content_term = content_loss(features[CONTENT_LAYER], reference[CONTENT_LAYER])
        return torch.stack([content_term, style, total_variation(output.float()), teacher])

    @torch.no_grad()
    def teach(self, content: Tensor, styles: Tensor, group: int) -> Tensor | None:
        """The teacher's stylisation of the batch with its own targets; None without a teacher."""
        if self.teacher is None:
            return None
        with self.precision.autocast():
            return self.teacher(content, self.teacher.encode_style(styles).repeat_interleave(group, dim=0))
