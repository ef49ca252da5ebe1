"""The frame graph on OpenVINO: the CPU runtime of choice, in bf16 where the CPU computes it natively.

OpenVINO reads the in-memory ONNX export as it is. A graph compiled for fixed shapes ran faster than one
compiled for any shape, and compiling takes a fraction of a second, so the first few input shapes get
their own compiled models (a live session or a video uses one size at a time). Past those, shapes keep
changing (a folder of photos of all sizes), and one graph compiled for any shape serves the rest rather
than a compile per photo. Compiled graphs are kept on disk (OpenVINO's own model cache, checked by OpenVINO
against the graph, the settings and its version): a second start compiles in a quarter of the time.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from realtime.cache import prune, warn_unwritable

MAX_COMPILED_SHAPES = 4
COMPILED_CACHE_BYTES = 1024 * 2**20  # compiled graphs grow with every new frame size: the oldest go


def bf16_supported(core: object) -> bool:
    """Whether the CPU computes bf16 natively (AVX512-BF16 or AMX), where bf16 roughly halves the time."""
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


@cache
def _core() -> object:
    """One OpenVINO Core for the process. Each Core's CPU plugin sets an alternate signal stack for the thread
    that made it and puts back the one it found when it goes; Cores that go in another order than they came
    leave a freed stack in place, and the next Ctrl-C handler that runs on it crashes the process."""
    import openvino

    return openvino.Core()


class OpenVinoSession:
    """The graph compiled per input shape, in bf16 when `precision` is "auto" and the CPU has it; with a
    `cache_dir`, compiled graphs are kept there between runs."""

    def __init__(self, graph: bytes, threads: int, precision: str = "auto", cache_dir: Path | None = None) -> None:
        self._core = _core()
        self._model = self._core.read_model(graph, b"")
        if precision == "auto":
            precision = "bf16" if bf16_supported(self._core) else "f32"
        self.precision = precision
        self._config = {
            "INFERENCE_PRECISION_HINT": precision,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": threads,
        }
        if cache_dir is not None:
            try:
                cache_dir.mkdir(parents=True, exist_ok=True)
                prune(cache_dir, COMPILED_CACHE_BYTES)
                self._config["CACHE_DIR"] = str(cache_dir)
            except OSError as exc:
                warn_unwritable(cache_dir, exc, "compiled graphs")
        self._requests: dict[tuple[tuple[int, ...], ...], object] = {}
        self._any_shape = self._compile({})  # a graph OpenVINO refuses fails here, where the caller can fall back

    @property
    def name(self) -> str:
        return f"OpenVINO {self.precision}"

    def _compile(self, shapes: dict[str, tuple[int, ...]]) -> object:
        model = self._model
        if shapes:
            model = model.clone()
            model.reshape({name: list(shape) for name, shape in shapes.items()})
        return self._core.compile_model(model, "CPU", self._config).create_infer_request()

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        key = tuple(feeds[name].shape for name in feeds)
        request = self._requests.get(key)
        if request is None and len(self._requests) < MAX_COMPILED_SHAPES:
            request = self._requests[key] = self._compile({name: array.shape for name, array in feeds.items()})
        return (request or self._any_shape).infer(feeds)[0]
