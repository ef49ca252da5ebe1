"""Stylised image datasets: every image of a folder tree in the style of seeded random paintings.

`stylize_dataset` (in `realtime.batch.job`) is the Python API behind `realtime batch`; it is loaded on first
use, so the command line can read `realtime.batch.settings` without PyTorch.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {"BatchJob": "job", "Summary": "job", "stylize_dataset": "job"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'realtime.batch' has no attribute '{name}'")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
