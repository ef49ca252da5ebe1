"""The generator on onnxruntime: the CPU's fast path.

On a CPU onnxruntime runs the same fp32 MSG-Net faster than eager PyTorch, with the same pixels
(`benchmarks/bench_cpu.py`, `realtime bench --device cpu`). torch.compile in bf16 is faster alone, but
compiles for tens of seconds per frame size, needs a C++ compiler, and in the live loop, beside the
capture thread, measured slower (`benchmarks/bench_live.py`); `realtime video --compile` uses it where
it pays. The export happens once per generator, in memory (a fraction of a second), with the style
target as an input: a style switch is a new input, never a new export, and any frame size runs on the
one graph.
"""

from __future__ import annotations

import io
import time
import warnings

import numpy as np
import torch
from torch import Tensor, nn

from realtime.imaging.frames import pad_for_generator
from realtime.model.msgnet import MSGNet

OPSET = 17
# The shapes traced at export; every axis but the channels is left dynamic.
_EXPORT_SIDE = 64


class _Generator(nn.Module):
    """The traced signature: padded content B×3×H×W and a target S×C×C with S = 1 or B."""

    def __init__(self, model: MSGNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, content: Tensor, target: Tensor) -> Tensor:
        return self.model(content, target)


def export_onnx(model: MSGNet) -> bytes:
    """The generator as an ONNX model with dynamic batch, height and width."""
    channels = model.target_channels
    content = torch.rand(1, 3, _EXPORT_SIDE, _EXPORT_SIDE) * 255
    target = torch.rand(1, channels, channels) * 1e-3
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The exporter warns that instance norm is exported in inference mode, which is what we want.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Generator(model).eval(),
            (content, target),
            buffer,
            input_names=["content", "target"],
            output_names=["stylized"],
            dynamic_axes={
                "content": {0: "batch", 2: "height", 3: "width"},
                "target": {0: "styles"},
                "stylized": {0: "batch", 2: "height", 3: "width"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    return buffer.getvalue()


class OnnxGenerator:
    """An MSG-Net exported to onnxruntime, called like `model(pad(content), target)` cropped back.

    Built on first use (`prepare` pays it up front). The weights are a copy taken at export; later
    changes to the PyTorch model are not seen.
    """

    def __init__(self, model: MSGNet, threads: int | None = None) -> None:
        self.model = model
        self.threads = threads or torch.get_num_threads()
        self._session = None

    def prepare(self, batch: int = 1, height: int = 0, width: int = 0) -> float:
        """Export and open the session now; seconds spent, 0 once done (one graph serves every size)."""
        if self._session is not None:
            return 0.0
        import onnxruntime

        began = time.perf_counter()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.log_severity_level = 3
        with torch.inference_mode(False):
            graph = export_onnx(self.model.eval())
        self._session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        return time.perf_counter() - began

    def __call__(self, content: Tensor, target: Tensor) -> Tensor:
        """B×3×H×W float (0–255) and a C×C or B×C×C target on the CPU → B×3×H×W float32 (not clamped)."""
        self.prepare()
        h, w = content.shape[-2:]
        padded = np.ascontiguousarray(pad_for_generator(content).float().numpy())
        styles = target if target.dim() == 3 else target.unsqueeze(0)
        (out,) = self._session.run(None, {"content": padded, "target": np.ascontiguousarray(styles.float().numpy())})
        return torch.from_numpy(out)[..., :h, :w]
