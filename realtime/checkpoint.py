"""Training checkpoints on disk: written atomically, read without running code.

A checkpoint is a `torch.save`d dict of tensors and plain values, read back with `weights_only=True`, so
a damaged or foreign file is a one-line error rather than a traceback or code run on load.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from realtime.atomic import atomic_output
from realtime.errors import RealtimeError


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write `state` to `path`, replacing the previous checkpoint only once the new one is whole."""
    target = Path(path)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with atomic_output(target) as tmp:
        tmp.write_bytes(buffer.getbuffer())
    return target


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint onto the CPU; any problem is one RealtimeError naming the file."""
    target = Path(path)
    if not target.is_file():
        raise RealtimeError(f"checkpoint not found: {target}")
    try:
        state = torch.load(io.BytesIO(target.read_bytes()), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - truncated zip, refused pickle, not a torch file…
        raise RealtimeError(
            f"{target} is not a readable checkpoint (truncated or not a torch file): {type(exc).__name__}"
        ) from None
    if not isinstance(state, dict):
        raise RealtimeError(f"{target} is not a training checkpoint")
    return state
