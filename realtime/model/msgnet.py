"""MSG-Net, the multi-style generative network of Zhang & Dana (2017), written as the paper's figure.

Images enter and leave the generator as float RGB in the 0–255 range (the reference convention);
`realtime.imaging.frames` is the one place that converts to and from uint8 frames.

The style lives outside the network: `encode_style` turns a style image into a Gram-matrix target,
and `forward` takes that target as an argument, so one generator serves any number of styles and a
batch may carry a different style per sample.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from realtime.model.gram import gram_matrix

EXPANSION = 4
PAPER_OUTPUT_FAN_IN = 16 * EXPANSION * 7 * 7


class ConvLayer(nn.Sequential):
    """Reflection padding then convolution: no zero borders for the network to learn around."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReflectionPad2d(kernel_size // 2),
            nn.Conv2d(in_ch, out_ch, kernel_size, stride),
        )


class UpsampleConvLayer(nn.Sequential):
    """Nearest upsampling then convolution, which avoids the checkerboard of transposed convolutions."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, upsample: int) -> None:
        super().__init__(
            nn.Upsample(scale_factor=upsample, mode="nearest"),
            ConvLayer(in_ch, out_ch, kernel_size),
        )


def _pre_activation(channels: int) -> list[nn.Module]:
    return [nn.InstanceNorm2d(channels), nn.ReLU(inplace=True)]


class Bottleneck(nn.Module):
    """Pre-activation bottleneck residual block (1×1 → 3×3 → 1×1), optionally strided."""

    def __init__(self, in_ch: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out_ch = planes * EXPANSION
        self.residual = nn.Conv2d(in_ch, out_ch, 1, stride) if stride != 1 or in_ch != out_ch else nn.Identity()
        self.block = nn.Sequential(
            *_pre_activation(in_ch),
            nn.Conv2d(in_ch, planes, 1),
            *_pre_activation(planes),
            ConvLayer(planes, planes, 3, stride),
            *_pre_activation(planes),
            nn.Conv2d(planes, out_ch, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.residual(x) + self.block(x)


class UpBottleneck(nn.Module):
    """The decoder's bottleneck: the same block with a 2× upsampling convolution in place of stride."""

    def __init__(self, in_ch: int, planes: int, upsample: int = 2) -> None:
        super().__init__()
        out_ch = planes * EXPANSION
        # The paper upsamples, then applies the 1×1 shortcut convolution; a per-pixel linear map
        # commutes with nearest upsampling, so convolving first gives the same output at a quarter
        # of the cost (it is the largest convolution at full resolution in the light model).
        self.residual = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1), nn.Upsample(scale_factor=upsample, mode="nearest"))
        self.block = nn.Sequential(
            *_pre_activation(in_ch),
            nn.Conv2d(in_ch, planes, 1),
            *_pre_activation(planes),
            UpsampleConvLayer(planes, planes, 3, upsample),
            *_pre_activation(planes),
            nn.Conv2d(planes, out_ch, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.residual(x) + self.block(x)


class Gain(nn.Module):
    """A constant factor on the output layer, set so a narrow layer moves pixels as fast as the paper's.

    The generator speaks 0–255 from an output convolution whose weights Adam moves by about the learning
    rate per step, so the pixel change per step grows with the layer's fan-in. The paper's 64×7×7 fan-in
    learns the output range in a few dozen steps; the light model's 16×3×3 is 22 times smaller and took
    thousands (content loss barely moved in 120 steps without this). Scaling by the fan-in ratio gives
    every shape the paper's pace, and is 1 (a no-op) for the paper's shape.
    """

    def __init__(self, gain: float) -> None:
        super().__init__()
        self.gain = gain

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gain if self.gain != 1.0 else x


class Inspiration(nn.Module):
    """Matches the content features' second-order statistics to a style target.

    out = (W·G)ᵀ · F, with G the style's Gram matrix and W a learned C×C weight; G has batch 1
    (one style for all samples) or the batch size of F (a style per sample).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(1, channels, channels).uniform_(0.0, 0.02))

    def forward(self, features: Tensor, target: Tensor) -> Tensor:
        b, c, h, w = features.shape
        if target.dim() == 2:
            target = target.unsqueeze(0)
        transform = torch.matmul(self.weight, target).transpose(1, 2)
        flat = features.reshape(b, c, h * w)
        return torch.matmul(transform, flat).reshape(b, c, h, w)


class StyleHead(nn.Module):
    """A learned correction of the encoder's features of a style picture, before their Gram target is taken.

    A generator trained on a few styles maps the encoder's target of a painting it never saw to something of
    its own; fitting that target per painting (`realtime.perceptual.refine`) closes the gap but needs a VGG and
    seconds. The head learns the correction once, over many paintings, with the generator frozen
    (`realtime train --style-head`). Per pixel and residual, its last layer zero at the start: an untrained
    head changes nothing.
    """

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.net = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, 1))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, features: Tensor) -> Tensor:
        return features + self.net(features)


class MSGNet(nn.Module):
    """Siamese encoder → Inspiration → residual blocks → upsampling decoder.

    `ngf` and `n_blocks` are the paper's; `width` (channels at full resolution, halved and quartered
    as the bottleneck planes around it) and `out_kernel` are 64 and 7 in the paper and smaller in the
    light model, where the full-resolution layers are most of a CPU frame's time. `unshuffle` 2 takes those
    layers away (the fast model): the frame enters as 2×2 pixel blocks stacked as channels (space-to-depth),
    so the first convolution (`out_kernel` wide) already works at half resolution with `width` channels, one
    bottleneck reaches the quarter-resolution trunk, and the decoder's last convolution paints 2×2 blocks
    that a pixel shuffle lays back out: every pixel is still painted, by a network that never runs at full
    resolution. `style_head` is the hidden width of a `StyleHead` on the style path (0: none); the frame path
    is the same with or without one.
    """

    def __init__(
        self,
        ngf: int = 128,
        n_blocks: int = 6,
        width: int = 64,
        out_kernel: int = 7,
        style_head: int = 0,
        unshuffle: int = 0,
    ) -> None:
        super().__init__()
        if width % 4 or out_kernel % 2 == 0:
            raise ValueError(f"width must be a multiple of 4 and out_kernel odd, got {width} and {out_kernel}")
        if unshuffle not in (0, 2):
            raise ValueError(f"unshuffle must be 0 or 2, got {unshuffle}")
        self.ngf = ngf
        self.n_blocks = n_blocks
        self.width = width
        self.out_kernel = out_kernel
        self.unshuffle = unshuffle
        trunk = ngf * EXPANSION
        # Layers are made in the order they run, so that a seed gives the paper's shape the same start as ever.
        if unshuffle:
            stem = [nn.PixelUnshuffle(2), ConvLayer(12, width, out_kernel), nn.InstanceNorm2d(width)]
            down = [nn.ReLU(inplace=True), Bottleneck(width, ngf, stride=2)]
        else:
            stem = [ConvLayer(3, width, 7), nn.InstanceNorm2d(width)]
            down = [
                nn.ReLU(inplace=True),
                Bottleneck(width, width // 2, stride=2),
                Bottleneck(width // 2 * EXPANSION, ngf, stride=2),
            ]
        self.encoder = nn.Sequential(*stem, *down)
        self.style_head = StyleHead(trunk, style_head) if style_head else None
        self.inspiration = Inspiration(trunk)
        blocks = [Bottleneck(trunk, ngf) for _ in range(n_blocks)]
        if unshuffle:
            up, out_channels, last = [UpBottleneck(trunk, width // 4)], 12, [nn.PixelShuffle(2)]
        else:
            up = [UpBottleneck(trunk, width // 2), UpBottleneck(width // 2 * EXPANSION, width // 4)]
            out_channels, last = 3, []
        self.decoder = nn.Sequential(
            *blocks,
            *up,
            *_pre_activation(width),
            ConvLayer(width, out_channels, out_kernel),
            Gain(PAPER_OUTPUT_FAN_IN / (width * out_kernel**2)),
            *last,
        )
        self._output_index = len(self.decoder) - 2 - len(last)
        # Start at mid-grey rather than black: the output range is 0–255.
        nn.init.constant_(self.output_conv.bias, 127.5 / self.output_gain)

    @property
    def output_conv(self) -> nn.Conv2d:
        return self.decoder[self._output_index][1]

    @property
    def output_gain(self) -> float:
        return self.decoder[self._output_index + 1].gain

    @property
    def shape(self) -> dict[str, int]:
        """The constructor arguments, as weights files and checkpoints record them."""
        return {
            "ngf": self.ngf,
            "n_blocks": self.n_blocks,
            "width": self.width,
            "out_kernel": self.out_kernel,
            "unshuffle": self.unshuffle,
        }

    @property
    def target_channels(self) -> int:
        return self.ngf * EXPANSION

    @property
    def style_head_width(self) -> int:
        """The style head's hidden width; 0 without one."""
        return self.style_head.hidden if self.style_head is not None else 0

    def encode_style(self, style: Tensor, head: bool = True) -> Tensor:
        """Gram target (B×C×C) of a style image batch, from the same encoder the content goes through, and
        the style head where there is one, unless `head` is False: the built-in styles' bank keeps the
        targets the generator trained with, which follow those paintings more closely than a head's
        (docs/models/msgnet21-painterly.md)."""
        features = self.encoder(style)
        if head and self.style_head is not None:
            features = self.style_head(features)
        return gram_matrix(features)

    def trunk(self, content: Tensor, target: Tensor) -> Tensor:
        """The quarter-resolution features after the residual blocks: where the style has been applied."""
        return self.decoder[: self.n_blocks](self.inspiration(self.encoder(content), target))

    def paint(self, features: Tensor) -> Tensor:
        """`trunk`'s features → the picture."""
        return self.decoder[self.n_blocks :](features)

    def forward(self, content: Tensor, target: Tensor) -> Tensor:
        return self.paint(self.trunk(content, target))
