"""Which number format the VGG and the decoders run in: bfloat16 where the hardware has it natively."""

from __future__ import annotations

import torch


def use_bf16(precision: str, device: torch.device) -> bool:
    """bf16 convolutions when asked, or by default where the hardware runs them natively (AVX512-BF16, AMX or a
    CUDA GPU with bf16): about 1.3–1.5× the float32 speed on a CPU with AVX512-BF16 (docs/benchmarks.md)."""
    if precision != "auto":
        return precision == "bf16"
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return (
        device.type == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )
