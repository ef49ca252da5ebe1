"""`realtime export-web`: the live demo as a static site whose generator runs in the viewer's browser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from realtime.cli.options import positive_int
from realtime.model.shapes import MODELS
from realtime.model.style_spec import DEFAULT_STYLE_SIZE

if TYPE_CHECKING:
    from realtime.web.site import SiteReport


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser(
        "export-web",
        help="the live demo as a static web site: the generator runs in the viewer's browser",
        description="Write a folder any static web host serves: a page that stylises the viewer's webcam in their "
        "browser (onnxruntime-web on WebGPU, or WASM where there is none), with the built-in styles and any "
        "picture the viewer drops in. Nothing runs on the host, and the page loads nothing from elsewhere. "
        "Browsers give the camera only to https:// pages and localhost (`realtime serve --client-side` shows it "
        "locally).",
    )
    export.add_argument("out", metavar="OUTDIR", help="folder to write: new, empty, or a site exported before")
    add_site_options(export)
    export.set_defaults(run=_run_export)


def add_site_options(parser: argparse.ArgumentParser) -> None:
    """What goes into a site: the generator and the styles offered (`realtime serve` has options of the same
    names, which `--client-side` hands to `build_site`)."""
    parser.add_argument(
        "--weights", help="weights file, or the name of a shipped one (msgnet21-wikiart); default: --model's"
    )
    parser.add_argument(
        "--model",
        choices=tuple(MODELS),
        help="shipped generator the page runs (default: fast where its weights ship, else light; full is the "
        "paper's, about 10 MB, and needs WebGPU to run live)",
    )
    parser.add_argument("--styles", metavar="DIR", help="folder of style pictures offered after the built-in styles")
    parser.add_argument(
        "--style-size",
        type=positive_int,
        default=DEFAULT_STYLE_SIZE,
        help=f"long side a style picture is scaled to before its target is computed (default {DEFAULT_STYLE_SIZE})",
    )


def build_site(args: argparse.Namespace, out: Path, model: str | None, progress: bool) -> SiteReport:
    """`export_site` for the options of `add_site_options`, running `model` (None: the site's default)."""
    from realtime.imaging.images import image_files
    from realtime.web.site import export_site, site_weights

    styles = image_files(args.styles, "styles") if args.styles else []
    return export_site(site_weights(args.weights, model), out, styles, args.style_size, progress)


def _run_export(args: argparse.Namespace) -> int:
    report = build_site(args, Path(args.out), args.model, progress=sys.stderr.isatty())
    parts = ", ".join(f"{part} {size / 1e6:.2f}" for part, size in report.sizes.items())
    print(
        f"realtime: wrote the site, {report.total / 1e6:.1f} MB ({parts}); serve the folder over https", file=sys.stderr
    )
    print(report.path, flush=True)
    return 0
