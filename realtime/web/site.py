"""`export_site`: the page, the generator's graphs, the styles and onnxruntime-web, as one folder any static
host serves.

Everything the page needs is in the folder, onnxruntime-web included (vendored from the npm registry at
`ONNXRUNTIME_WEB`; `scripts/vendor_onnxruntime_web.sh`), so a viewer's browser fetches nothing from anywhere
else. The page reads `site.json` for what the Python side knows: the styles, their palettes, and the numbers
the desktop app uses (working sizes, strength, palette limits), so the two paint alike.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from realtime.atomic import atomic_folder
from realtime.errors import RealtimeError
from realtime.imaging.images import read_image
from realtime.imaging.palette import MAX_GAIN, RIDGE, SAMPLE_PIXELS
from realtime.live.settings import DEFAULT_WORKING_SIZE, MAX_CPU_WORKING_SIZE, SIZE_STEPS
from realtime.model.msgnet import MSGNet
from realtime.model.style_spec import DEFAULT_STYLE_SIZE
from realtime.model.targets import BOLDER_REACH, StyleTargets
from realtime.model.thumbnails import THUMBNAIL_SIDE, builtin_preview, thumbnail_jpeg
from realtime.model.weights import Weights, find_weights, load_weights, resolve_weights, shipped_weights_path
from realtime.runtimes.settings import MAX_STRENGTH
from realtime.web.graphs import export_page_graphs

PAGE = Path(__file__).with_name("page")
ONNXRUNTIME_WEB = "1.22.0"
VENDORED = Path(__file__).with_name("vendor") / "onnxruntime-web"
# The API with both backends, and the JSEP build of the runtime that runs both (scripts/vendor_onnxruntime_web.sh).
ONNXRUNTIME_FILES = (
    "ort.webgpu.min.mjs",
    "ort-wasm-simd-threaded.jsep.mjs",
    "ort-wasm-simd-threaded.jsep.wasm",
    "NOTICE",
)
MANIFEST = "site.json"
FORMAT = "realtime-site"
VERSION = 1
# The frame rate the page holds by changing its working size: in a page the generator is nearly all of a frame
# (no stabiliser or upsampler beside it), and below about 15 fps a webcam picture stops feeling live.
PAGE_FPS = 15.0
# Threads in WASM need a cross-origin isolated page: `realtime serve --client-side` sends these headers, and the
# site carries them in `_headers` for hosts that read that file (Netlify, Cloudflare Pages).
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}


@dataclass(frozen=True)
class SiteReport:
    """What `export_site` wrote: the folder and its bytes by part."""

    path: Path
    sizes: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.sizes.values())


def export_site(
    weights: Weights,
    out: str | Path,
    styles: Sequence[Path] = (),
    style_size: int = DEFAULT_STYLE_SIZE,
    progress: bool = False,
) -> SiteReport:
    """Write the site for `weights` into the folder `out`, whole or not at all.

    `styles`: style pictures offered after the built-in ones, their targets and palettes computed here. `out`
    may be new, empty, or a site exported before (replaced); anything else is refused, never overwritten.
    """
    out = Path(out)
    _check_replaceable(out)
    missing = [name for name in ONNXRUNTIME_FILES if not (VENDORED / name).is_file()]
    if missing:
        raise RealtimeError(f"this install lacks onnxruntime-web's {', '.join(missing)}; reinstall realtime")
    model = copy.deepcopy(weights.model).cpu().float().eval()  # the caller's model stays on its device and dtype
    targets = StyleTargets(model, weights.bank, torch.device("cpu"), style_size)
    entries = [(name, "builtin", name) for name in weights.bank.names()]
    entries += [(path.stem, "picture", str(path)) for path in styles]
    if not entries:
        raise RealtimeError("these weights have no built-in styles; pass style pictures with --styles")
    with atomic_folder(out) as folder:
        sizes = {"page": _copy(PAGE, folder), "onnxruntime-web": _copy(VENDORED, folder / "ort")}
        generator, encoder = export_page_graphs(model)
        sizes["model"] = _write(folder / "model" / "generator.onnx", generator)
        sizes["model"] += _write(folder / "model" / "encoder.onnx", encoder)
        listed, matrices, sizes["styles"] = [], [], 0
        for index, (label, kind, source) in enumerate(tqdm(entries, desc="styles", unit="style", disable=not progress)):
            matrices.append(targets.target(source).numpy())
            thumbnail = _thumbnail(model, targets, kind, source)
            sizes["styles"] += _write(folder / "styles" / f"{index:02d}.jpg", thumbnail)
            palette = targets.palette(source)
            listed.append(
                {
                    "name": label,
                    "kind": kind,
                    "thumbnail": f"styles/{index:02d}.jpg",
                    "palette": None
                    if palette is None
                    else {"mean": _floats(palette.mean), "moment": _floats(palette.moment)},
                }
            )
        sizes["styles"] += _write(folder / "styles" / "targets.bin", np.stack(matrices).astype("<f4").tobytes())
        manifest = _manifest(weights, listed, style_size)
        sizes["page"] += _write(folder / MANIFEST, json.dumps(manifest, indent=1).encode())
        headers = "".join(f"  {key}: {value}\n" for key, value in ISOLATION_HEADERS.items())
        sizes["page"] += _write(folder / "_headers", f"/*\n{headers}".encode())
    return SiteReport(out, sizes)


def site_weights(weights: str | Path | None = None, model: str | None = None) -> Weights:
    """The weights a site runs: a weights file (or a shipped file's name), else the shipped `model` (or the one
    nearest in cost, with a warning, while that one does not ship), else the fast model where it ships and the
    light one where not (a viewer's device is unknown here: the small models run on any)."""
    if weights is not None:
        return load_weights(find_weights(weights))
    if model is None:
        model = "fast" if shipped_weights_path("fast") is not None else "light"
    return resolve_weights(None, model)


def _manifest(weights: Weights, styles: list[dict], style_size: int) -> dict:
    start = DEFAULT_WORKING_SIZE["cpu"]
    name = Path(weights.source).stem  # the weights file's name: what `--weights` takes
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": {"name": name, "shape": weights.model.shape, "channels": weights.model.target_channels},
        "generator": "model/generator.onnx",
        "encoder": "model/encoder.onnx",
        "targets": "styles/targets.bin",
        "styles": styles,
        "style_size": style_size,
        "max_strength": MAX_STRENGTH,
        "bolder_reach": BOLDER_REACH,
        "working_sizes": [size for size in SIZE_STEPS if size <= MAX_CPU_WORKING_SIZE],
        "start_size": start,
        "frame_budget_ms": 1000.0 / PAGE_FPS,
        "palette": {"sample_pixels": SAMPLE_PIXELS, "max_gain": MAX_GAIN, "ridge": RIDGE},
        "onnxruntime_web": ONNXRUNTIME_WEB,
    }


def _check_replaceable(out: Path) -> None:
    """`out` is new, an empty folder, or a site exported before and nothing else; else a one-line refusal.

    The whole folder is replaced, so a site kept with files of its own (a git checkout, a CNAME) is refused
    rather than stripped of them."""
    if out.is_symlink():
        raise RealtimeError(f"{out} is a link; give the folder it points to")
    if not out.exists():
        return
    if not out.is_dir():
        raise RealtimeError(f"{out} is a file; export-web writes a folder")
    here = Path.cwd().resolve()
    if here == out.resolve() or out.resolve() in here.parents:
        raise RealtimeError(f"{out} holds the current folder; export into another folder")
    names = {entry.name for entry in out.iterdir()}
    if not names:
        return
    try:
        earlier = json.loads((out / MANIFEST).read_text(encoding="utf-8")).get("format")
    except (OSError, ValueError, AttributeError):
        earlier = None
    if earlier != FORMAT:
        raise RealtimeError(
            f"{out} is a folder that holds other files; give a new or empty folder, or a site exported before"
        )
    extra = sorted(names - _written_names())
    if extra:
        raise RealtimeError(
            f"{out} holds files an export does not write ({', '.join(extra[:3])}); export elsewhere and copy the site in"
        )


def _written_names() -> set[str]:
    """The names an export writes at the top of its folder."""
    page = {path.name for path in PAGE.iterdir() if path.is_file() and not path.name.startswith(("_", "."))}
    return page | {MANIFEST, "_headers", "model", "ort", "styles"}


def _thumbnail(model: MSGNet, targets: StyleTargets, kind: str, source: str) -> bytes:
    if kind == "builtin":
        return thumbnail_jpeg(builtin_preview(model, targets.target(source)))
    return thumbnail_jpeg(read_image(source, THUMBNAIL_SIDE))


def _floats(array: np.ndarray) -> list:
    return np.round(np.asarray(array, dtype=np.float64), 4).tolist()


def _copy(source: Path, destination: Path) -> int:
    """Copy the files of `source` (one level) into `destination`; their bytes."""
    destination.mkdir(parents=True, exist_ok=True)
    total = 0
    for path in sorted(source.iterdir()):
        if path.is_file() and not path.name.startswith(("_", ".")):
            total += shutil.copyfile(path, destination / path.name).stat().st_size
    return total


def _write(path: Path, data: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)
