"""The decoders: VGG16 features of one level back to the picture they came from.

Li et al. train one decoder per level to invert the fixed encoder, and nothing else: WCT then edits the
features, and the decoder turns whatever features it gets into pixels. Here a decoder is built like the
VGG16 run backwards: the relu1_2 decoder is two convolutions to RGB, and the decoder of each deeper level is
a head that maps its features to the next shallower level's (the VGG's own channel count there, upsampled
2× where the VGG pools) followed by that level's decoder. Inside a head the convolutions have `width` × the
VGG block's channels. So a deeper decoder can start from the trained shallower one and learn its head
first: training does that, shallow levels first (`train.py`). 3×3 convolutions with reflection padding and
nearest-neighbour upsampling, as Li et al.'s.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from realtime.errors import RealtimeError
from realtime.perceptual.vgg import IMAGENET_MEAN, IMAGENET_STD, VGGFeatures
from realtime.wct.settings import DEFAULT_WIDTH, LEVELS

# VGG16's blocks up to relu4_3: their channels and convolutions; level i ends block i.
VGG16_CHANNELS = (64, 128, 256, 512)
VGG16_CONVS = (2, 2, 3, 3)


def vgg_channels(vgg: VGGFeatures) -> tuple[int, ...]:
    """The channels of each level's features in this VGG16-layout trunk (a narrow one in tests)."""
    return tuple(vgg.features[vgg.layer_index[level] - 1].out_channels for level in LEVELS)


def _conv(channels_in: int, channels_out: int, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(channels_in, channels_out, 3)]
    return [*layers, nn.ReLU(inplace=True)] if relu else layers


def _layers(level: str, width: float, channels: tuple[int, ...]) -> tuple[list[nn.Module], int]:
    """The decoder's layers for `level`, and how many of them are its own head (the rest: the shallower decoder)."""
    block = LEVELS.index(level)
    inner = max(4, round(channels[block] * width))
    head: list[nn.Module] = []
    current = channels[block]
    for _ in range(VGG16_CONVS[block] - 1):
        head += _conv(current, inner)
        current = inner
    if block == 0:
        return [*head, *_conv(current, 3, relu=False)], len(head) + 2
    head += [*_conv(current, channels[block - 1]), nn.Upsample(scale_factor=2.0)]
    rest, _ = _layers(LEVELS[block - 1], width, channels)
    return [*head, *rest], len(head)


class Decoder(nn.Module):
    """Features of `level` (B×C×H/s×W/s) → B×3×H×W float RGB 0–255.

    The output is scaled by the VGG's normalisation, so an untrained decoder starts near mid-grey and
    training learns differences.
    """

    def __init__(self, level: str, width: float = DEFAULT_WIDTH, channels: tuple[int, ...] = VGG16_CHANNELS) -> None:
        super().__init__()
        if level not in LEVELS:
            raise RealtimeError(f"unknown WCT level '{level}'; use one of {', '.join(LEVELS)}")
        self.level, self.width, self.channels = level, width, tuple(channels)
        layers, self.head_length = _layers(level, width, self.channels)
        self.body = nn.Sequential(*layers)
        # Features enter divided by their typical size (set once from photos when training starts, then saved):
        # VGG16s differ in scale (Caffe-converted ones are ~58× torchvision's), and unscaled inputs start
        # the decoder hundreds of pixel levels off, where training crawls.
        self.register_buffer("input_scale", torch.ones(()))
        # Constants, not weights: left out of the file, so float16 storage cannot round them.
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255, persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255, persistent=False)

    def start_from(self, shallower: Decoder) -> None:
        """Take the trained decoder of the next shallower level as everything after this decoder's head."""
        mine = [m for m in self.body[self.head_length :] if isinstance(m, nn.Conv2d)]
        theirs = [m for m in shallower.body if isinstance(m, nn.Conv2d)]
        if (
            self.level == LEVELS[0]
            or shallower.level != LEVELS[LEVELS.index(self.level) - 1]
            or len(mine) != len(theirs)
        ):
            raise RealtimeError(f"a {shallower.level} decoder cannot start a {self.level} decoder")
        for target, source in zip(mine, theirs):
            target.load_state_dict(source.state_dict())

    def forward(self, features: Tensor) -> Tensor:
        return self.body(features * self.input_scale) * self.std + self.mean
