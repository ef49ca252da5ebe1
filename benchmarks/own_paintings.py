"""A fixed set of "own paintings" for quality benchmarks, drawn in code so it ships with the project.

A user's own style pictures are often graphic rather than old masters: a grid of flat colours, thick
strokes, a pencil sketch, a mosaic. WikiArt thumbnails cannot be shown or shipped, so these are drawn
procedurally (OpenCV, a fixed seed: the same pictures on every machine), 512 px like the style images.

    python benchmarks/own_paintings.py OUT_DIR     # writes grid.png, strokes.png, sketch.png, mosaic.png
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

SIDE = 512


def grid(rng: np.random.Generator) -> np.ndarray:
    """Flat primaries between thick black lines, after Mondrian."""
    canvas = np.full((SIDE, SIDE, 3), (242, 238, 228), np.uint8)
    xs = np.sort(rng.choice(np.arange(40, SIDE - 40, 8), 4, replace=False))
    ys = np.sort(rng.choice(np.arange(40, SIDE - 40, 8), 4, replace=False))
    edges_x, edges_y = [0, *xs, SIDE], [0, *ys, SIDE]
    colours = [(200, 30, 30), (30, 60, 160), (240, 200, 30), (20, 20, 20)]
    for i in range(len(edges_y) - 1):
        for j in range(len(edges_x) - 1):
            if rng.random() < 0.35:
                colour = colours[rng.integers(len(colours))]
                cv2.rectangle(canvas, (edges_x[j], edges_y[i]), (edges_x[j + 1], edges_y[i + 1]), colour, -1)
    for x in xs:
        cv2.line(canvas, (int(x), 0), (int(x), SIDE), (15, 15, 15), 10)
    for y in ys:
        cv2.line(canvas, (0, int(y)), (SIDE, int(y)), (15, 15, 15), 10)
    return canvas


def strokes(rng: np.random.Generator) -> np.ndarray:
    """Thick, directional impasto strokes in a warm palette, each with a lit and a shaded edge."""
    canvas = np.full((SIDE, SIDE, 3), (120, 80, 40), np.uint8)
    palette = np.array([(230, 160, 40), (200, 70, 30), (250, 220, 120), (60, 90, 140), (140, 40, 30)])
    for _ in range(900):
        x, y = rng.integers(0, SIDE, 2)
        angle = 0.6 * np.sin(y / 60.0) + rng.normal(0, 0.25)
        length, width = rng.integers(25, 60), rng.integers(6, 13)
        dx, dy = int(length * np.cos(angle)), int(length * np.sin(angle))
        colour = np.clip(palette[rng.integers(len(palette))] + rng.normal(0, 18, 3), 0, 255)
        start, end = (int(x - dx), int(y - dy)), (int(x + dx), int(y + dy))
        cv2.line(canvas, start, end, tuple(int(c) for c in colour * 0.6), int(width) + 3, cv2.LINE_AA)
        cv2.line(canvas, start, end, tuple(int(c) for c in colour), int(width), cv2.LINE_AA)
        lit = tuple(int(min(255, c * 1.3)) for c in colour)
        cv2.line(canvas, (start[0], start[1] - 2), (end[0], end[1] - 2), lit, max(1, int(width) // 4), cv2.LINE_AA)
    return canvas


def sketch(rng: np.random.Generator) -> np.ndarray:
    """Graphite hatching on paper: grey only, dense where the drawing is dark."""
    paper = np.full((SIDE, SIDE), 236, np.float32) + rng.normal(0, 3, (SIDE, SIDE)).astype(np.float32)
    y, x = np.mgrid[0:SIDE, 0:SIDE] / SIDE
    shade = 0.5 + 0.5 * np.sin(6 * x + 3 * np.cos(4 * y))  # where hatching goes, 0–1
    for angle, threshold in ((0.8, 0.3), (-0.7, 0.6), (0.1, 0.85)):
        layer = np.zeros((SIDE, SIDE), np.float32)
        for _ in range(700):
            cx, cy = rng.integers(0, SIDE, 2)
            length = rng.integers(10, 30)
            dx, dy = int(length * np.cos(angle)), int(length * np.sin(angle))
            cv2.line(layer, (int(cx - dx), int(cy - dy)), (int(cx + dx), int(cy + dy)), 1.0, 1, cv2.LINE_AA)
        paper -= 150 * layer * (shade > threshold)
    for _ in range(6):  # a few contour lines drawn hard
        points = np.cumsum(rng.normal(0, 14, (40, 2)), axis=0) + rng.integers(80, SIDE - 80, 2)
        cv2.polylines(paper, [points.astype(np.int32)], False, 40.0, 2, cv2.LINE_AA)
    grey = np.clip(paper, 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def mosaic(rng: np.random.Generator) -> np.ndarray:
    """Irregular saturated tiles (a Voronoi tessellation) set in dark grout."""
    points = rng.integers(0, SIDE, (260, 2)).astype(np.float32)
    subdiv = cv2.Subdiv2D((0, 0, SIDE, SIDE))
    for p in points:
        subdiv.insert((float(p[0]), float(p[1])))
    facets, _ = subdiv.getVoronoiFacetList([])
    canvas = np.full((SIDE, SIDE, 3), (35, 30, 28), np.uint8)
    palette = np.array([(20, 110, 160), (230, 180, 40), (170, 40, 40), (30, 140, 90), (235, 235, 220)])
    for facet in facets:
        colour = np.clip(palette[rng.integers(len(palette))] + rng.normal(0, 20, 3), 0, 255)
        cv2.fillConvexPoly(canvas, facet.astype(np.int32), tuple(int(c) for c in colour), cv2.LINE_AA)
        cv2.polylines(canvas, [facet.astype(np.int32)], True, (35, 30, 28), 4, cv2.LINE_AA)
    return canvas


PAINTINGS: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "grid": grid,
    "strokes": strokes,
    "sketch": sketch,
    "mosaic": mosaic,
}


def own_paintings(seed: int = 0) -> dict[str, np.ndarray]:
    """name → 512×512 uint8 RGB painting, the same for the same seed."""
    return {name: draw(np.random.default_rng([seed, i])) for i, (name, draw) in enumerate(PAINTINGS.items())}


def write_own_paintings(folder: Path, seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, picture in own_paintings(seed).items():
        path = folder / f"{name}.png"
        cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for path in write_own_paintings(Path(sys.argv[1])):
        print(path)
