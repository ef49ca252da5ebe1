"""Which painting each image gets and where its output goes: decided up front, the same on every machine.

An image's styles come from a hash of (seed, its path relative to the input folder), never from the order
in which images are listed or processed, so one command gives one assignment whatever the number of
workers, and a resumed job finishes exactly what the first run would have made.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from realtime.batch.settings import FORMATS, STYLE_SEPARATOR
from realtime.errors import RealtimeError
from realtime.imaging.images import image_files


def assign_styles(seed: int, source: str, styles: int, per_image: int) -> list[int]:
    """`per_image` distinct indices below `styles` for the image at relative path `source`.

    Draw j is SHA-256 of (seed, source, j) taken modulo `styles`; a repeat is skipped. Spelled out rather
    than left to `random`, whose draws may change between Python versions.
    """
    if not 1 <= per_image <= styles:
        raise RealtimeError(f"cannot give each image {per_image} different styles out of {styles}")
    picks: list[int] = []
    draw = 0
    while len(picks) < per_image:
        digest = hashlib.sha256(f"{seed}\0{source}\0{draw}".encode()).digest()
        index = int.from_bytes(digest[:8], "big") % styles
        if index not in picks:
            picks.append(index)
        draw += 1
    return picks


@dataclass(frozen=True)
class Output:
    """One stylised file: the painting (relative to the styles folder) and the file (relative to the output)."""

    style: str
    path: str


@dataclass(frozen=True)
class ImageTask:
    """One input image (relative to the input folder) and the outputs still to make from it."""

    source: str
    outputs: tuple[Output, ...]

    def to_json(self) -> str:
        return json.dumps([self.source, [[o.style, o.path] for o in self.outputs]])

    @classmethod
    def from_json(cls, text: str) -> ImageTask:
        source, outputs = json.loads(text)
        return cls(source, tuple(Output(style, path) for style, path in outputs))


@dataclass(frozen=True)
class Roots:
    """The three folders a job's relative paths hang from (absolute, so a worker anywhere finds them)."""

    inputs: Path
    outputs: Path
    styles: Path


class Plan:
    """Every input under `roots.inputs` with its `per_image` paintings and output paths, in sorted order."""

    def __init__(self, roots: Roots, seed: int, per_image: int, tasks: list[ImageTask], styles: list[str]) -> None:
        self.roots = roots
        self.seed = seed
        self.per_image = per_image
        self.tasks = tasks
        self.styles = styles

    @classmethod
    def build(
        cls,
        input_dir: str | Path,
        output_dir: str | Path,
        styles_dir: str | Path,
        per_image: int = 1,
        seed: int = 0,
        image_format: str = "same",
    ) -> Plan:
        """List both folders (recursively) and assign; with one style per image an output keeps its input's name."""
        roots = Roots(*(Path(folder).resolve() for folder in (input_dir, output_dir, styles_dir)))
        _check_folders(roots)
        if image_format not in FORMATS:
            raise RealtimeError(f"unknown output format '{image_format}'; use one of {', '.join(FORMATS)}")
        styles = _relative(image_files(roots.styles, "styles", recursive=True), roots.styles)
        names = _style_names(styles)
        sources = _relative(image_files(roots.inputs, "input", recursive=True), roots.inputs)
        if per_image > len(styles):
            raise RealtimeError(f"--per-image {per_image} asks for more styles than the {len(styles)} paintings")
        tasks, made_by = [], {}
        for source in sources:
            outputs = []
            for index in assign_styles(seed, source, len(styles), per_image):
                path = _output_path(source, names[index] if per_image > 1 else None, image_format)
                if path in made_by:
                    raise RealtimeError(f"inputs {made_by[path]} and {source} would both write {path}")
                made_by[path] = source
                outputs.append(Output(styles[index], path))
            tasks.append(ImageTask(source, tuple(outputs)))
        return cls(roots, seed, per_image, tasks, styles)

    @property
    def outputs(self) -> int:
        return len(self.tasks) * self.per_image


def _check_folders(roots: Roots) -> None:
    """Refuse trees that overlap: a rerun would list outputs as inputs, or a write could replace an input."""
    if not roots.inputs.is_dir():
        raise RealtimeError(f"input folder not found: {roots.inputs}")
    if roots.outputs.exists() and not roots.outputs.is_dir():
        raise RealtimeError(f"the output must be a folder, but {roots.outputs} is a file")
    for other, role in ((roots.inputs, "input"), (roots.styles, "styles")):
        if roots.outputs.is_relative_to(other) or other.is_relative_to(roots.outputs):
            raise RealtimeError(f"the output folder {roots.outputs} and the {role} folder {other} overlap")


def _relative(files: list[Path], root: Path) -> list[str]:
    """Posix paths relative to `root`, sorted as text: the same order on every filesystem."""
    return sorted(file.relative_to(root).as_posix() for file in files)


def _style_names(styles: list[str]) -> list[str]:
    """What output names call each painting: its path without extension, folders joined by `_`."""
    names = [str(PurePosixPath(style).with_suffix("")).replace("/", "_") for style in styles]
    first: dict[str, str] = {}
    for name, style in zip(names, styles):
        if name in first:
            raise RealtimeError(f"paintings {first[name]} and {style} would give outputs the same name; rename one")
        first[name] = style
    return names


def _output_path(source: str, style_name: str | None, image_format: str) -> str:
    path = PurePosixPath(source)
    suffix = path.suffix if image_format == "same" else f".{image_format}"
    stem = path.stem if style_name is None else f"{path.stem}{STYLE_SEPARATOR}{style_name}"
    return str(path.with_name(stem + suffix))
