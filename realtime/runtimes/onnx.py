"""The frame graph on onnxruntime: the CPU runtime where OpenVINO is missing or refuses the graph."""

from __future__ import annotations

import numpy as np


class OnnxRuntimeSession:
    """One onnxruntime session; it runs any frame size and batch on the one graph."""

    name = "onnxruntime fp32"

    def __init__(self, graph: bytes, threads: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return self._session.run(None, feeds)[0]
