"""The generator on a CPU runtime: uint8 frames in, uint8 frames out, nothing per frame left to PyTorch.

OpenVINO runs the exported graph in bf16 where the CPU computes bf16 natively and in fp32 elsewhere;
onnxruntime (fp32; the optional extra `realtime[onnx]`) runs it where OpenVINO is not installed or refuses
the graph. Both beat eager PyTorch on a CPU. torch.compile in bf16 can be as fast alone, but compiles for
tens of seconds per frame size and needs a C++ compiler; `realtime video --compile` uses it where that pays
(docs/benchmarks.md).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from realtime.cache import cache_folder
from realtime.errors import RealtimeError
from realtime.imaging.sizes import padding
from realtime.model.msgnet import MSGNet
from realtime.runtimes.export import cached_frame_graph
from realtime.runtimes.onnx import OnnxRuntimeSession
from realtime.runtimes.openvino import OpenVinoSession
from realtime.runtimes.settings import CPU_RUNTIMES


class CpuGenerator:
    """An MSG-Net exported once to a CPU runtime (`runtime`: auto, openvino or onnxruntime).

    Opened on first use (`prepare` pays it up front), which says through `on_build` which runtime runs,
    and why when it is not the one asked for. The weights are a copy taken at export: later changes to the
    PyTorch model are not seen.
    """

    def __init__(
        self,
        model: MSGNet,
        runtime: str = "auto",
        threads: int | None = None,
        on_build: Callable[[str], None] | None = None,
    ) -> None:
        if runtime not in CPU_RUNTIMES:
            raise RealtimeError(f"unknown CPU runtime '{runtime}'; use {', '.join(CPU_RUNTIMES)}")
        self.model = model
        self.runtime = runtime
        self.threads = threads or torch.get_num_threads()
        self.on_build = on_build
        self._session: OpenVinoSession | OnnxRuntimeSession | None = None
        self._warmed: set[tuple[int, int, int]] = set()

    @property
    def name(self) -> str:
        """What runs the graph, e.g. "OpenVINO bf16" (opens the runtime if it is not open yet)."""
        self.prepare()
        return self._session.name

    def prepare(self, batch: int = 1, height: int = 0, width: int = 0) -> float:
        """Export and open the runtime now, and when a frame size is given, run it once (OpenVINO compiles
        per shape); seconds spent, 0 when all of it was done before."""
        began = time.perf_counter()
        done = True
        if self._session is None:
            done = False
            self._session = self._open(cached_frame_graph(self.model.eval()))
            if self.on_build is not None:
                self.on_build(f"CPU runtime: {self._session.name}")
        if height and width and (batch, height, width) not in self._warmed:
            done = False
            self._warmed.add((batch, height, width))
            self.frames(np.zeros((batch, height, width, 3), np.uint8), self._blank_target())
        return 0.0 if done else time.perf_counter() - began

    def _open(self, graph: bytes) -> OpenVinoSession | OnnxRuntimeSession:
        reason = None
        if self.runtime != "onnxruntime":
            try:
                return OpenVinoSession(graph, self.threads, cache_dir=cache_folder("openvino"))
            except ImportError:
                reason = "OpenVINO is not installed (pip install openvino)"
            except Exception as exc:  # noqa: BLE001 - OpenVINO raises its own RuntimeErrors for graphs it refuses
                reason = f"OpenVINO refused the generator ({str(exc).strip().splitlines()[0][:120]})"
            if self.runtime == "openvino":
                raise RealtimeError(reason)
        try:
            session = OnnxRuntimeSession(graph, self.threads)
        except ImportError:  # an optional extra: OpenVINO covers the platforms it has wheels for
            missing = "onnxruntime, the CPU runtime's fallback, is not installed (pip install 'realtime[onnx]')"
            raise RealtimeError(f"{reason}, and {missing}" if reason else missing) from None
        if reason is not None:
            warnings.warn(f"{reason}: onnxruntime runs it instead", stacklevel=3)
        return session

    def _blank_target(self) -> np.ndarray:
        channels = self.model.target_channels
        return np.zeros((1, channels, channels), np.float32)

    def frames(
        self, frames: np.ndarray, target: np.ndarray, strength: float = 1.0, keep_colors: bool = False
    ) -> np.ndarray:
        """B×H×W×3 uint8 RGB and a C×C or B×C×C float32 target → stylised B×H×W×3 uint8 RGB, any H and W."""
        self.prepare()
        h, w = frames.shape[1:3]
        pad_h, pad_w = padding(h), padding(w)
        if pad_h or pad_w:  # on bytes, once: the generator needs sides a multiple of 4
            frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        feeds = {
            "frames": np.ascontiguousarray(frames),
            "target": np.ascontiguousarray(target if target.ndim == 3 else target[None], dtype=np.float32),
            "strength": np.array([strength], np.float32),
            "keep_colors": np.array([float(keep_colors)], np.float32),
        }
        out = self._session.run(feeds)
        return out[:, :h, :w] if pad_h or pad_w else out

    def __call__(self, content: Tensor, target: Tensor) -> Tensor:
        """For tensor callers: B×3×H×W float (0–255) on the CPU → stylised B×3×H×W float, through 8-bit
        frames (what every caller's content is made of)."""
        frames = content.detach().clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        out = self.frames(frames, target.detach().float().numpy())
        return torch.from_numpy(np.ascontiguousarray(out)).permute(0, 3, 1, 2).float()
