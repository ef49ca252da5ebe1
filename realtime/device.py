"""Turning `--device auto|cpu|cuda[:N]` into a torch device, with a clear word when CUDA is missing."""

from __future__ import annotations

import torch

from realtime.errors import RealtimeError


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks CUDA when present; asking for CUDA without it is an error, not a silent CPU run."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            why = (
                "this PyTorch has no CUDA support" if torch.version.cuda is None else "no CUDA GPU or driver was found"
            )
            raise RealtimeError(f"--device {name} was requested but {why}; use --device cpu or auto")
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise RealtimeError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) present")
        return device
    raise RealtimeError(f"unknown device '{name}'; use auto, cpu, cuda or cuda:N")


def prepare_cuda(device: torch.device) -> None:
    """Set up a CUDA device for a long run of fixed-size work (a live session, a clip, a training run).

    Sizes change rarely, so cuDNN's per-size kernel search pays for itself; CUDA events and streams
    follow the current device, so a `cuda:N` run makes N current. Nothing to do on a CPU.
    """
    if device.type != "cuda":
        return
    torch.backends.cudnn.benchmark = True
    if device.index is not None:
        torch.cuda.set_device(device)


def cpu_has_amx() -> bool:
    """Whether this CPU has Intel AMX, whose bf16 matrix units run the full generator at live speed where
    AVX512-BF16 alone does not (docs/benchmarks.md). Read from Linux's CPU flags; elsewhere False."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            return any(line.startswith("flags") and " amx_bf16" in line for line in info)
    except OSError:
        return False
