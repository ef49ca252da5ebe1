"""What the student is held to: the teacher's pixels, edges, palette and trunk features, and its texture statistics.

Pixels alone teach the layout and the palette but average strokes away: where the student cannot tell where
a stroke falls, the blur between candidates is the pixel loss's best answer, and a soft, pale picture
results. The texture term asks for the teacher's Gram matrices instead, which do not care where a stroke
falls, only that the strokes are there. It is measured as the benchmarks measure a picture (the layer
ratio): per VGG layer, the student's Gram distance to the teacher's picture over the photo's own, so every
layer and every painting counts alike whatever the size of its Grams.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from realtime.perceptual.losses import style_grams
from realtime.perceptual.vgg import VGGFeatures


def pixel_loss(output: Tensor, picture: Tensor) -> Tensor:
    """Mean absolute difference on the 0–1 scale."""
    return (output - picture).abs().mean() / 255.0


def edge_loss(output: Tensor, picture: Tensor) -> Tensor:
    """Mean absolute difference of neighbouring-pixel differences (0–1 scale): a stroke's edges weigh as much
    as its flat inside, of which a picture has far more."""
    total = torch.zeros((), device=output.device)
    for dim in (-1, -2):
        total = total + (output.diff(dim=dim) - picture.diff(dim=dim)).abs().mean()
    return total / 255.0


def palette_loss(output: Tensor, picture: Tensor) -> Tensor:
    """Per sample, the absolute difference of the colours' means and covariances (0–1 scale): what tells one
    style's picture from another's most plainly, and does not care where a stroke falls."""
    total = torch.zeros((), device=output.device)
    flat_out, flat_pic = (images.flatten(2) / 255.0 for images in (output, picture))
    mean_out, mean_pic = flat_out.mean(dim=2, keepdim=True), flat_pic.mean(dim=2, keepdim=True)
    total = total + (mean_out - mean_pic).abs().mean()
    centred_out, centred_pic = flat_out - mean_out, flat_pic - mean_pic
    size = flat_out.shape[2]
    cov_out = centred_out @ centred_out.transpose(1, 2) / size
    cov_pic = centred_pic @ centred_pic.transpose(1, 2) / size
    return total + (cov_out - cov_pic).abs().mean() * 10.0


class FeatureLoss(nn.Module):
    """The student's trunk features, through a learnt 1×1 projection to the teacher's width, against the
    teacher's (its features where the style has been applied), relative to their energy.

    Pixels and texture statistics reach the student's conditioning only through every layer after it; held to
    them alone, a student drifted to one picture for every style (its pictures alike in candy and in Starry
    Night), even started from a generator that followed its targets. The teacher's trunk tells it, at the
    place the style enters, what each style does to the features.
    """

    def __init__(self, student_channels: int, teacher_channels: int) -> None:
        super().__init__()
        self.projection = nn.Conv2d(student_channels, teacher_channels, 1)

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        return (self.projection(student) - teacher).square().mean() / teacher.square().mean().clamp_min(1e-12)


class TextureLoss:
    """The mean over samples and `layers` of ‖G(output) − G(picture)‖² / ‖G(photo) − G(picture)‖²."""

    def __init__(self, vgg: VGGFeatures, layers: tuple[str, ...]) -> None:
        self.vgg = vgg
        self.layers = layers

    @torch.no_grad()
    def reference(self, picture: Tensor, photo: Tensor) -> dict[str, tuple[Tensor, Tensor]]:
        """Per layer, the teacher's Grams and the photo's distance to them: what an output is scored against."""
        grams = style_grams(self.vgg(torch.cat([picture, photo]), self.layers))
        reference = {}
        for layer, gram in grams.items():
            target, photo_gram = gram.chunk(2)
            reference[layer] = (target, (photo_gram - target).square().mean(dim=(1, 2)).clamp_min(1e-12))
        return reference

    def __call__(self, output: Tensor, reference: dict[str, tuple[Tensor, Tensor]]) -> Tensor:
        grams = style_grams(self.vgg(output, self.layers))
        ratios = [
            (gram - reference[layer][0]).square().mean(dim=(1, 2)) / reference[layer][1]
            for layer, gram in grams.items()
        ]
        return torch.stack(ratios).mean()
