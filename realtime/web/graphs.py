"""The generator and its style encoder as ONNX graphs that speak a browser canvas's pixels.

A canvas hands out RGBA bytes (`getImageData`) and takes them back (`putImageData`), so the page's graphs take
and give 1×H×W×4 uint8 RGBA and the page converts nothing per pixel on its own thread. The generator's graph is
the CPU runtimes' `FrameGraph` (strength, preserve-colour and rounding inside), so the page paints the same
picture as `realtime live` on a CPU. Sides must be multiples of 4, as the generator's are: the page picks its
working sizes that way and pads style pictures itself.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from realtime.model.msgnet import MSGNet
from realtime.runtimes.export import FrameGraph, onnx_bytes

_EXPORT_SIDE = 64
_RGBA = {0: "batch", 1: "height", 2: "width"}


class PageFrameGraph(nn.Module):
    """1×H×W×4 RGBA, the target (1×C×C), strength (1,) and preserve-colour (1,) → stylised RGBA, alpha kept."""

    def __init__(self, model: MSGNet) -> None:
        super().__init__()
        self.frame = FrameGraph(model)

    def forward(self, rgba: Tensor, target: Tensor, strength: Tensor, keep: Tensor) -> Tensor:
        return torch.cat([self.frame(rgba[..., :3], target, strength, keep), rgba[..., 3:]], dim=-1)


class StyleEncoderGraph(nn.Module):
    """1×H×W×4 RGBA style picture → its 1×C×C target, through the style head where there is one (as
    `StyleTargets.encode` does for a picture)."""

    def __init__(self, model: MSGNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, rgba: Tensor) -> Tensor:
        return self.model.encode_style(rgba[..., :3].permute(0, 3, 1, 2).float())


def export_page_graphs(model: MSGNet) -> tuple[bytes, bytes]:
    """(the generator's graph, the style encoder's graph) as ONNX bytes, for float32 weights."""
    model = model.float()
    channels = model.target_channels
    rgba = torch.randint(0, 256, (1, _EXPORT_SIDE, _EXPORT_SIDE, 4), dtype=torch.uint8)
    example = (rgba, torch.rand(1, channels, channels) * 1e-3, torch.ones(1), torch.zeros(1))
    generator = onnx_bytes(
        PageFrameGraph(model),
        example,
        ("rgba", "target", "strength", "keep_colors"),
        ("stylized",),
        {"rgba": _RGBA, "stylized": _RGBA},
    )
    encoder = onnx_bytes(StyleEncoderGraph(model), (rgba,), ("rgba",), ("target",), {"rgba": _RGBA})
    return generator, encoder
