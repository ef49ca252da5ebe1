"""The generator at hardware speed: half precision, channels_last, torch.compile and a CUDA graph per size.

Profiled on an H100, eager MSG-Net spends its time in the memory-bound ops around the convolutions
(instance norm, reflection padding, upsampling, layout changes), and fp16 alone made it slower.
Compiling fuses those ops into the convolutions' neighbours; a CUDA graph per working size removes the
launch gaps and the host work per frame. Inputs and the style target live in static device buffers, so
a replay allocates nothing and a style switch is a copy into the target buffer, never a rebuild.

`Stylizer` uses `FastGenerator` by default on CUDA (several times the eager fp32 speed, with pixels a
fraction of a grey level apart: `realtime bench`, docs/benchmarks.md) and when asked (`optimize=True`).
On CPU the same code runs eagerly (any dtype, channels_last, no compile, no graphs) when asked for
explicitly, which is how its numerics are tested.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import torch
from torch import Tensor

from realtime.errors import RealtimeError
from realtime.imaging.frames import pad_for_generator
from realtime.model.msgnet import MSGNet
from realtime.runtimes.settings import COMPILE_MODES, DTYPES
from realtime.runtimes.tracing import GATE

_SELF_GRAPHING_MODES = ("reduce-overhead", "max-autotune")
# Built sizes kept at once: each holds its activations' memory pool, which is large at video resolutions.
MAX_CACHED_SIZES = 3


@dataclass(frozen=True)
class FastSettings:
    """How the fast path runs; `FastSettings.for_device` gives the defaults."""

    dtype: str = "fp16"
    channels_last: bool = True
    compile: str = "default"
    cuda_graph: bool = True
    # None: the first working size compiles specialised, a second one compiles with dynamic shapes that
    # serve every later size (dynamo's automatic dynamic), so resizing or a folder of stills compiles
    # twice, not per size. False: specialised per size (what the bench times); True: dynamic from the start.
    dynamic: bool | None = None

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise RealtimeError(f"unknown dtype '{self.dtype}'; use {', '.join(DTYPES)}")
        if self.compile not in COMPILE_MODES:
            raise RealtimeError(f"unknown compile mode '{self.compile}'; use {', '.join(COMPILE_MODES)}")

    @classmethod
    def for_device(cls, device: torch.device) -> FastSettings | None:
        """The full set on CUDA; None (the plain eager fp32 path) otherwise."""
        return cls() if torch.device(device).type == "cuda" else None

    @classmethod
    def compiled_for(cls, device: torch.device) -> FastSettings:
        """What `--compile` asks for: the CUDA set, or on a CPU torch.compile in bf16 where oneDNN runs it
        natively (AVX512/AMX, where it outruns onnxruntime) and fp32 elsewhere."""
        if torch.device(device).type == "cuda":
            return cls()
        try:
            bf16 = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            bf16 = False
        return cls("bf16" if bf16 else "fp32", channels_last=True, compile="default", cuda_graph=False, dynamic=False)

    def describe(self) -> str:
        parts = [self.dtype, "channels_last" if self.channels_last else "contiguous"]
        parts.append("eager" if self.compile == "none" else f"compile={self.compile}")
        if self.compile != "none" and self.dynamic is not None:
            parts.append("dynamic shapes" if self.dynamic else "static shapes")
        if self.cuda_graph:
            parts.append("CUDA graph")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def resolve_settings(optimize: bool | FastSettings | None, device: torch.device) -> FastSettings | None:
    """`None` = the device's default, `False` = off, `True` = the CUDA settings (eager ones on CPU)."""
    if optimize is None:
        return FastSettings.for_device(device)
    if optimize is False:
        return None
    if optimize is True:
        return FastSettings() if device.type == "cuda" else FastSettings(compile="none", cuda_graph=False)
    return optimize


@dataclass
class _Built:
    """One working size: static buffers, and the graph that reads and writes them (None = call directly)."""

    content: Tensor
    target: Tensor
    output: Tensor | None = None
    graph: torch.cuda.CUDAGraph | None = None


class FastGenerator:
    """A reduced-precision copy of an MSG-Net for inference, called like `model(pad(content), target)` cropped.

    `on_build(message)` hears about each new working size before and after its compile/capture,
    which is paid once per size (and kept for `MAX_CACHED_SIZES` sizes).
    The returned tensor may be a buffer that the next call overwrites: use it before calling again.
    The weights are a copy taken at construction; later changes to the fp32 model are not seen.
    """

    def __init__(
        self,
        model: MSGNet,
        device: torch.device | str,
        settings: FastSettings,
        on_build: Callable[[str], None] | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.on_build = on_build
        cuda = self.device.type == "cuda"
        if settings.cuda_graph and (not cuda or settings.compile in _SELF_GRAPHING_MODES):
            settings = replace(settings, cuda_graph=False)
        self.settings = settings
        self._dtype = getattr(torch, DTYPES[settings.dtype])
        self._format = torch.channels_last if settings.channels_last else torch.contiguous_format
        self.model = copy.deepcopy(model).to(self.device, self._dtype).eval().requires_grad_(False)
        self.model.to(memory_format=self._format)
        # The style transform W·G is tiny and sensitive: kept in fp32, rounded once per frame.
        self._inspiration_weight = model.inspiration.weight.detach().to(self.device, torch.float32)
        self._channels = model.target_channels
        self._run: Callable[[Tensor, Tensor], Tensor] = self._forward
        if settings.compile != "none":
            self._run = torch.compile(self._forward, mode=settings.compile, dynamic=settings.dynamic)
        self._built: OrderedDict[tuple[int, int], _Built] = OrderedDict()

    def _forward(self, content: Tensor, target: Tensor) -> Tensor:
        h, w = content.shape[-2:]
        x = pad_for_generator(content).to(self._dtype).contiguous(memory_format=self._format)
        features = self.model.encoder(x)
        b, c, fh, fw = features.shape
        # Inspiration, computed on channel-last rows: out = F·(W·G), a view of the features when channels_last.
        transform = torch.matmul(self._inspiration_weight, target).to(self._dtype)
        rows = features.permute(0, 2, 3, 1).reshape(b, fh * fw, c)
        mixed = torch.matmul(rows, transform).reshape(b, fh, fw, c).permute(0, 3, 1, 2)
        out = self.model.decoder(mixed.contiguous(memory_format=self._format))
        return out[..., :h, :w].float()

    @property
    def sizes(self) -> list[tuple[int, int, int]]:
        """Built (batch, height, width) working sizes, oldest first."""
        return [(b.content.shape[0], h, w) for (h, w), b in self._built.items()]

    @torch.inference_mode()
    def prepare(self, batch: int, height: int, width: int) -> float:
        """Build (compile, warm up, capture) for a working size now; seconds spent, 0 when already built."""
        built = self._built.get((height, width))
        if built is not None and built.content.shape[0] >= batch:
            self._built.move_to_end((height, width))
            return 0.0
        return self._build(batch, height, width)

    @torch.inference_mode()
    def __call__(self, content: Tensor, target: Tensor) -> Tensor:
        """B×3×H×W float (0–255) and a C×C or B×C×C fp32 target → B×3×H×W float32 (0–255, not clamped)."""
        b, _, h, w = content.shape
        self.prepare(b, h, w)
        built = self._built[(h, w)]
        built.content[:b].copy_(content)
        built.target[:b].copy_(target if target.dim() == 3 else target.expand(b, -1, -1))
        if built.graph is None:
            if self.settings.compile in _SELF_GRAPHING_MODES:
                torch.compiler.cudagraph_mark_step_begin()  # the last call's outputs are consumed by now
            return self._run(built.content, built.target)[:b]
        built.graph.replay()
        return built.output[:b]

    def _build(self, batch: int, height: int, width: int) -> float:
        self._built.pop((height, width), None)
        while len(self._built) >= MAX_CACHED_SIZES:
            self._built.popitem(last=False)
        heavy = self.settings.compile != "none" or self.settings.cuda_graph
        size = f"{width}×{height}" + (f" (batch {batch})" if batch > 1 else "")
        if heavy and self.on_build:
            self.on_build(f"preparing the fast generator for {size}: {self.settings.describe()} (once per size)…")
        began = time.perf_counter()
        c = self._channels
        # Never zeros: a real frame's statistics, so warm-up and capture see representative values.
        content = torch.rand(batch, 3, height, width, device=self.device) * 255
        target = torch.rand(batch, c, c, device=self.device) * 1e-3
        built = _Built(content, target)
        with GATE.build():
            if heavy:
                self._warm_up(built)
            if self.settings.cuda_graph:
                self._capture(built, size)
        self._built[(height, width)] = built
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        seconds = time.perf_counter() - began
        if heavy and self.on_build:
            self.on_build(f"fast generator ready for {size} in {seconds:.1f} s")
        return seconds

    def _warm_up(self, built: _Built) -> None:
        """Compile and autotune outside any capture; a failing compile falls back to the eager fast path."""
        try:
            self._side_stream_runs(built, runs=3)
        except Exception as exc:  # torch.compile failures come in many types
            if self._run == self._forward:
                raise
            warnings.warn(
                f"torch.compile failed ({type(exc).__name__}: {exc}); running the fast path eagerly", stacklevel=3
            )
            self._run = self._forward
            self._side_stream_runs(built, runs=1)

    def _side_stream_runs(self, built: _Built, runs: int) -> None:
        if self.device.type != "cuda":
            for _ in range(runs):
                self._run(built.content, built.target)
            return
        stream = torch.cuda.Stream(self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(stream):
            for _ in range(runs):
                self._run(built.content, built.target)
        torch.cuda.current_stream(self.device).wait_stream(stream)

    def _capture(self, built: _Built, size: str) -> None:
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):  # decode/encode threads may run
                built.output = self._run(built.content, built.target)
        except Exception as exc:  # noqa: BLE001 — capture errors come from any op that syncs or allocates on the host
            warnings.warn(f"CUDA graph capture failed at {size} ({exc}); running without a graph", stacklevel=3)
            built.output = None
            return
        built.graph = graph
