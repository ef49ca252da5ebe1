"""The generator as an ONNX graph that takes and gives uint8 frames, for the CPU runtimes.

Everything a frame needs besides the generator (bytes to floats, the strength blend, preserve-colour,
clamping, rounding back to bytes, the channel layout) is inside the graph, so it runs in the runtime's
own thread pool. Done in PyTorch around the runtime call instead, each of those small operations woke
PyTorch's pool, whose threads then fought the runtime's for the same cores. The export happens once per
generator, in memory, with the style target, strength and colour mode as inputs: changing any of them
is a new input, never a new export, and one graph serves every frame size. The export takes about 2 s of
the full model's start-up on a 2-core CPU, so the graph is kept on disk (`cached_frame_graph`).
"""

from __future__ import annotations

import hashlib
import inspect
import io
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from realtime.cache import cache_folder, prune, read_checked, tensor_digest, write_checked
from realtime.imaging.color import keep_colors
from realtime.model.msgnet import MSGNet

OPSET = 17
INPUTS = ("frames", "target", "strength", "keep_colors")
# The shapes traced at export; batch, height, width and the number of styles stay dynamic.
_EXPORT_SIDE = 64
GRAPH_CACHE_BYTES = 512 * 2**20  # about 50 full-model graphs


class FrameGraph(nn.Module):
    """uint8 B×H×W×3 frames (sides a multiple of 4), an S×C×C target (S = 1 or B), the strength (1,) and
    a 0/1 preserve-colour switch (1,) → stylised uint8 B×H×W×3 frames."""

    def __init__(self, model: MSGNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: Tensor, target: Tensor, strength: Tensor, keep: Tensor) -> Tensor:
        content = frames.permute(0, 3, 1, 2).float()
        out = self.model(content, target)
        out = out + keep * (keep_colors(out, content) - out)
        out = content + (out - content) * strength
        return out.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)


def export_frame_graph(model: MSGNet) -> bytes:
    """The generator wrapped in `FrameGraph`, as ONNX bytes."""
    channels = model.target_channels
    example = (
        torch.zeros(1, _EXPORT_SIDE, _EXPORT_SIDE, 3, dtype=torch.uint8),
        torch.rand(1, channels, channels) * 1e-3,
        torch.ones(1),
        torch.zeros(1),
    )
    dynamic = {"frames": {0: "batch", 1: "height", 2: "width"}, "target": {0: "styles"}}
    dynamic["stylized"] = dynamic["frames"]
    return onnx_bytes(FrameGraph(model), example, INPUTS, ("stylized",), dynamic)


def onnx_bytes(
    module: nn.Module,
    example: tuple[Tensor, ...],
    inputs: Sequence[str],
    outputs: Sequence[str],
    dynamic_axes: dict[str, dict[int, str]],
) -> bytes:
    """`module` in inference mode, traced on `example`, as ONNX bytes at `OPSET`."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode(False):
        # The exporter warns that instance norm is exported in inference mode, which is what we want.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            example,
            buffer,
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            dynamo=False,
        )
    return buffer.getvalue()


def cached_frame_graph(model: MSGNet) -> bytes:
    """`export_frame_graph`, kept on disk under a key of everything the graph depends on: the weights, the
    code that builds it and the exporter's version, so a changed one is a new graph, never a stale one."""
    sources = b"".join(Path(inspect.getfile(part)).read_bytes() for part in (FrameGraph, MSGNet, keep_colors))
    dtype = str(next(model.parameters()).dtype)  # the digest below sees values, not their precision
    code = hashlib.sha256(sources + f"{torch.__version__} {dtype}".encode()).hexdigest()[:16]
    folder = cache_folder("graphs")
    key = f"{tensor_digest(*model.state_dict().values())}-{code}"
    graph = read_checked(folder, key)
    if graph is None:
        graph = export_frame_graph(model)
        write_checked(folder, key, graph, "the exported generator")
        prune(folder, GRAPH_CACHE_BYTES)
    return graph
