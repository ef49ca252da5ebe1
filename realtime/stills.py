"""Stylising still images: which inputs go to which outputs, the methods (MSG-Net, WCT, Gatys), one file through one."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.atomic import refuse_overwrite
from realtime.device import resolve_device
from realtime.errors import RealtimeError
from realtime.gatys.network import LossNetwork
from realtime.gatys.optimize import Gatys
from realtime.gatys.render_file import installed_weights
from realtime.gatys.settings import GatysSettings
from realtime.imaging.frames import fit_long_side
from realtime.imaging.images import (
    DEFAULT_IMAGE_SIZE,
    IMAGE_SUFFIXES,
    SAMPLE_PREFIX,
    STDIO,
    check_output_path,
    is_image_source,
    read_image,
    write_image,
)
from realtime.imaging.limits import working_side
from realtime.model.style_spec import StyleSpec
from realtime.perceptual.vgg import torchvision_vgg16_cached
from realtime.wct.settings import WCTSettings
from realtime.wct.stylize import WCT

# A still-image method: H×W×3 uint8 RGB in, stylised frame of the same size out (a Stylizer, a WCT, a Gatys render).
Render = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Job:
    source: str
    output: str


@dataclass(frozen=True)
class Result:
    source: str
    output: str
    width: int
    height: int
    downscaled: bool
    seconds: float


def plan_jobs(inputs: list[str], output: str) -> list[Job]:
    """Pair inputs with outputs: one input → `output` is a file (or `-`); otherwise `output` is a folder.

    Folders given as inputs contribute every image file directly inside them.
    """
    sources: list[str] = []
    for item in inputs:
        path = Path(item)
        if item != STDIO and not item.startswith(SAMPLE_PREFIX) and path.is_dir():
            found = sorted(str(p) for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not found:
                raise RealtimeError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {path}")
            sources.extend(found)
        elif item == STDIO or item.startswith(SAMPLE_PREFIX) or path.is_file():
            sources.append(item)
        else:
            raise RealtimeError(f"no such file: {path}")
    if sources.count(STDIO) > 1:
        raise RealtimeError("standard input (-) can be read only once")

    single_file = len(inputs) == 1 and sources == inputs and not Path(output).is_dir()
    if single_file:
        jobs = [Job(sources[0], output)]
    else:
        if output == STDIO:
            raise RealtimeError("several images cannot all go to standard output; give a folder to -o")
        folder = Path(output)
        if folder.exists() and not folder.is_dir():
            raise RealtimeError(f"several inputs need a folder for -o, but {folder} is a file")
        if not folder.exists() and folder.suffix.lower() in IMAGE_SUFFIXES:
            raise RealtimeError(f"several inputs need a folder for -o, but {folder} is named as an image file")
        jobs = [Job(src, str(folder / _output_name(src))) for src in sources]

    outputs = [job.output for job in jobs if job.output != STDIO]
    if len(set(outputs)) != len(outputs):
        raise RealtimeError("two inputs have the same file name and would overwrite each other's output")
    if not single_file:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RealtimeError(f"cannot create the output folder {folder}: {exc.strerror}") from None
    for job in jobs:
        check_output_path(job.output)
        if job.source != STDIO:
            refuse_overwrite(job.output, [job.source])
    return jobs


def _output_name(source: str) -> str:
    if source == STDIO:
        return "stdin.png"
    if source.startswith(SAMPLE_PREFIX):
        return source[len(SAMPLE_PREFIX) :] + ".png"
    return Path(source).name


def stylize_file(render: Render, job: Job, max_side: int = DEFAULT_IMAGE_SIZE, strength: float = 1.0) -> Result:
    """Read, downscale to `max_side` (long side, 0 = the input's own up to 8K), stylise, blend with the photo
    by `strength` (for methods that do not blend themselves), write atomically."""
    start = time.perf_counter()
    side = working_side(max_side)
    frame = read_image(job.source, side)
    work = fit_long_side(frame, side)
    out = render(work)
    if strength != 1.0:
        out = np.clip(work + strength * (out.astype(np.float32) - work) + 0.5, 0, 255).astype(np.uint8)
    write_image(out, job.output)
    h, w = out.shape[:2]
    return Result(job.source, job.output, w, h, work is not frame, time.perf_counter() - start)


def choose_method(method: str, specs: Sequence[StyleSpec], vgg: str | None = None, msgnet_asked: bool = False) -> str:
    """`auto`: WCT when every style is a picture (a file or sample:NAME) and a VGG16 is at hand (--vgg, or
    torchvision's already downloaded), since it follows paintings MSG-Net never trained on far more closely
    (docs/benchmarks.md); MSG-Net for built-in styles, when MSG-Net's own options are given (`msgnet_asked`:
    --refine, --weights, --model) and where WCT would need a download."""
    if method != "auto":
        return method
    if msgnet_asked or not all(is_image_source(spec.source) for spec in specs):
        return "msgnet"
    return "wct" if vgg is not None or torchvision_vgg16_cached() else "msgnet"


def load_wct(
    specs: Sequence[StyleSpec],
    settings: WCTSettings,
    decoders: str | None = None,
    vgg: str | None = None,
    device: str = "auto",
) -> WCT:
    """WCT with its paintings' statistics computed (once each, cached for every still after)."""
    wct = WCT.load(decoders, vgg, device, settings)
    wct.set_style(specs)
    return wct


def load_gatys(
    specs: Sequence[StyleSpec],
    settings: GatysSettings,
    vgg: str | None = None,
    device: str = "auto",
    weights: str | None = None,
) -> Render:
    """A Gatys render per still, the style targets computed once (`realtime gatys`' optimiser and its loss
    network). Ctrl-C stops at once: `realtime image` writes whole renders only, and the command `realtime
    gatys` is the one that keeps an interrupted render's best image."""
    network = LossNetwork.load(vgg)
    gatys = Gatys(network, settings, resolve_device(device))
    needs_weights = not all(is_image_source(spec.source) for spec in specs)
    styles = gatys.styles(specs, installed_weights(weights) if needs_weights else None)

    def render(frame: np.ndarray) -> np.ndarray:
        result = gatys.render(frame, styles, progress=True)
        if result.interrupted:
            raise KeyboardInterrupt
        return result.frame

    return render
