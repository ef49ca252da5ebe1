"""`realtime gatys` as a function: a still read, rendered and written, with MSG-Net as an optional head start.

The one place Gatys meets the MSG-Net runtime: `--init msgnet` starts the optimiser from the
generator's stylisation, and built-in style names take their VGG targets from a weights file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from realtime.atomic import refuse_overwrite
from realtime.errors import RealtimeError
from realtime.gatys.optimize import Gatys, GatysResult
from realtime.gatys.settings import INITS
from realtime.imaging.frames import fit_long_side
from realtime.imaging.images import check_output_path, is_image_source, read_image, write_image
from realtime.model.shapes import MODELS
from realtime.model.style_spec import StyleSpec
from realtime.model.weights import Weights, load_weights, shipped_weights
from realtime.runtimes.stylizer import Stylizer


def installed_weights(path: str | Path | None = None) -> Weights | None:
    """The given weights file, else a shipped one (every model's has the built-in styles' VGG targets),
    else None while none are trained."""
    if path is not None:
        return load_weights(path)
    return next((weights for weights in map(shipped_weights, MODELS) if weights is not None), None)


def render_still(
    content: str | Path,
    output: str | Path,
    specs: Sequence[StyleSpec | str],
    gatys: Gatys,
    init: str = "content",
    weights_path: str | Path | None = None,
    progress: bool = False,
    model: str = "auto",
) -> GatysResult:
    """Read, render, write atomically (an interrupted render writes its best)."""
    if init not in INITS:
        raise RealtimeError(f"unknown init '{init}'; use one of {', '.join(INITS)}")
    check_output_path(output)
    parsed = StyleSpec.parse_all(specs)
    refuse_overwrite(output, [content])
    refuse_overwrite(output, [spec.source for spec in parsed], "the style image")
    photo = fit_long_side(read_image(content, gatys.settings.size), gatys.settings.size)
    stylizer = Stylizer.load(weights_path, str(gatys.device), model=model) if init == "msgnet" else None
    weights = stylizer.weights if stylizer is not None else None
    if weights is None and not all(is_image_source(spec.source) for spec in parsed):
        weights = installed_weights(weights_path)
    styles = gatys.styles(parsed, weights)
    start: str | np.ndarray = init
    if stylizer is not None:
        stylizer.set_style(parsed)
        start = stylizer(photo)
    result = gatys.render(photo, styles, start, progress=progress)
    write_image(result.frame, output)
    return result
