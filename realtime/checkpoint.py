"""Training checkpoints on disk: written atomically, read without running code, optionally split.

A checkpoint is a `torch.save`d dict of tensors and plain values, read back with `weights_only=True`.
For copying through something that caps file sizes (an upload form, an e-mail attachment, a transfer tool),
`part_bytes` splits a checkpoint into numbered part files plus a small manifest at the checkpoint's own
path that lists them with their sizes and SHA-256: resuming from the manifest path works either way,
and a missing, truncated or mismatched part is a one-line error rather than a corrupt resume. Parts
carry a hash of the contents in their names, so the previous checkpoint stays intact until the new
manifest replaces it.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import torch

from realtime.atomic import atomic_output
from realtime.errors import RealtimeError

MANIFEST_FORMAT = "realtime-checkpoint-parts"


def save_checkpoint(state: dict[str, Any], path: str | Path, part_bytes: int = 0) -> list[Path]:
    """Write `state` to `path` (split into parts of at most `part_bytes` when positive); returns the files."""
    target = Path(path)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getbuffer()
    digest = hashlib.sha256(data).hexdigest()
    if part_bytes <= 0 or len(data) <= part_bytes:
        _write(target, data)
        _remove_stale_parts(target, keep=())
        return [target]
    count = -(-len(data) // part_bytes)
    names = [f"{target.name}.{digest[:12]}.part{i + 1}of{count}" for i in range(count)]
    sizes = []
    for i, name in enumerate(names):
        chunk = data[i * part_bytes : (i + 1) * part_bytes]
        _write(target.with_name(name), chunk)
        sizes.append(len(chunk))
    manifest = {"format": MANIFEST_FORMAT, "parts": names, "sizes": sizes, "sha256": digest}
    manifest_buffer = io.BytesIO()
    torch.save(manifest, manifest_buffer)
    _write(target, manifest_buffer.getbuffer())
    _remove_stale_parts(target, keep=names)
    return [target, *(target.with_name(n) for n in names)]


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint (whole or split) onto the CPU; any problem is one RealtimeError naming the file."""
    target = Path(path)
    if not target.is_file():
        raise RealtimeError(f"checkpoint not found: {target}")
    state = _load_bytes(target.read_bytes(), target)
    if state.get("format") != MANIFEST_FORMAT:
        return state
    try:
        names, sizes, digest = state["parts"], state["sizes"], state["sha256"]
    except KeyError:
        raise RealtimeError(f"{target} is a broken checkpoint manifest") from None
    chunks = []
    for name, size in zip(names, sizes):
        part = target.with_name(name)
        if not part.is_file():
            raise RealtimeError(f"checkpoint part missing: {part} (copy every {target.name}.*.part* file with it)")
        chunk = part.read_bytes()
        if len(chunk) != size:
            raise RealtimeError(f"checkpoint part {part} is truncated ({len(chunk)} of {size} bytes)")
        chunks.append(chunk)
    data = b"".join(chunks)
    if hashlib.sha256(data).hexdigest() != digest:
        raise RealtimeError(f"the parts of checkpoint {target} do not match its manifest (mixed or damaged files)")
    return _load_bytes(data, target)


def _load_bytes(data: bytes, path: Path) -> dict[str, Any]:
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - truncated zip, refused pickle, not a torch file…
        raise RealtimeError(
            f"{path} is not a readable checkpoint (truncated or not a torch file): {type(exc).__name__}"
        ) from None
    if not isinstance(state, dict):
        raise RealtimeError(f"{path} is not a training checkpoint")
    return state


def _write(path: Path, data: memoryview | bytes) -> None:
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def _remove_stale_parts(target: Path, keep: tuple[str, ...] | list[str]) -> None:
    for part in target.parent.glob(f"{target.name}.*.part*of*"):
        if part.name not in keep:
            part.unlink(missing_ok=True)
