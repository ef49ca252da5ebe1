#!/usr/bin/env python3
"""Paint a style image procedurally, so the README's Gatys example needs no borrowed painting.

Thousands of thick, oriented brush strokes follow a swirling flow field (a sum of random vortices)
over a strong palette of deep blues, ochres and cadmium yellows: expressionist brushwork made only
by our own code, free to ship. Each stroke is a short polyline traced along the field, drawn with a
dark edge and a lighter core so it reads as paint with body rather than flat colour.

    python scripts/make_example_painting.py docs/example-painting.png [--size 512] [--seed 7] [--palette night]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from realtime.errors import RealtimeError
from realtime.imaging.images import check_output_path, write_image

# RGB palettes. night (the README's example): deep blues, ochre and cadmium yellows, a touch of
# vermilion and white. fauve: unmixed reds, greens, violets and oranges. ink: blacks and greys on paper
# with one red accent. Three bold looks unlike any training painting, for the unseen-style score.
PALETTES = {
    "night": [
        (12, 28, 74),
        (28, 60, 140),
        (48, 98, 190),
        (90, 150, 210),
        (230, 190, 60),
        (245, 215, 90),
        (200, 120, 30),
        (200, 60, 30),
        (240, 235, 210),
        (20, 70, 60),
    ],
    "fauve": [
        (220, 30, 40),
        (250, 110, 20),
        (255, 200, 30),
        (30, 160, 70),
        (10, 100, 90),
        (120, 40, 160),
        (230, 60, 150),
        (40, 80, 200),
        (250, 240, 220),
        (110, 200, 60),
    ],
    "ink": [
        (10, 10, 12),
        (35, 35, 38),
        (70, 70, 72),
        (120, 118, 112),
        (170, 166, 158),
        (215, 210, 198),
        (238, 232, 218),
        (245, 240, 228),
        (190, 30, 30),
        (25, 25, 30),
    ],
}


def flow_angle(h: int, w: int, rng: np.random.Generator, vortices: int = 7) -> np.ndarray:
    """Stroke direction at every pixel: the tangent of a sum of vortices over a gentle drift."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    vx = np.full((h, w), 0.6, np.float32)
    vy = 0.25 * np.sin(x / w * 2 * np.pi * 1.5).astype(np.float32)
    for _ in range(vortices):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        radius = rng.uniform(0.12, 0.3) * max(h, w)
        spin = rng.choice([-1.0, 1.0]) * rng.uniform(1.5, 3.0)
        dx, dy = x - cx, y - cy
        fall = np.exp(-(dx**2 + dy**2) / (2 * radius**2))
        vx += -spin * dy / radius * fall
        vy += spin * dx / radius * fall
    return np.arctan2(vy, vx)


def base_colours(h: int, w: int, rng: np.random.Generator, palette: np.ndarray) -> np.ndarray:
    """Smooth palette regions (blurred random blobs), so neighbouring strokes share a hue."""
    small = rng.integers(0, len(palette), size=(6, 6))
    region = cv2.resize(palette[small], (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(region, 0, 255)


def paint(size: int = 512, seed: int = 7, palette: str = "night") -> np.ndarray:
    """An RGB uint8 painting, `size` pixels square."""
    colours = np.array(PALETTES[palette], dtype=np.float32)
    rng = np.random.default_rng(seed)
    h = w = size
    angle = flow_angle(h, w, rng)
    regions = base_colours(h, w, rng, colours)
    canvas = cv2.GaussianBlur(regions, (0, 0), size / 20).astype(np.uint8)
    scale = size / 512
    for layer, (count, width, length) in enumerate([(2200, 9, 40), (3500, 6, 30), (2500, 3, 18)]):
        width = max(1, round(width * scale))
        length = length * scale
        for _ in range(count):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            colour = regions[int(y), int(x)]
            if rng.random() < 0.35:  # some strokes jump to another palette colour: broken colour, as in oils
                colour = 0.5 * colour + 0.5 * colours[rng.integers(len(colours))]
            colour = np.clip(colour * rng.uniform(0.8, 1.2), 0, 255)
            points = [(x, y)]
            for _ in range(6):  # trace the flow field
                a = angle[int(np.clip(y, 0, h - 1)), int(np.clip(x, 0, w - 1))]
                x += np.cos(a) * length / 6
                y += np.sin(a) * length / 6
                points.append((x, y))
            line = np.round(np.array(points)).astype(np.int32).reshape(-1, 1, 2)
            edge = tuple(float(c) for c in colour * 0.7)
            core = tuple(float(c) for c in np.clip(colour * 1.15 + 10, 0, 255))
            cv2.polylines(canvas, [line], False, edge, width + 2, cv2.LINE_AA)
            cv2.polylines(canvas, [line], False, tuple(float(c) for c in colour), width, cv2.LINE_AA)
            if width > 2 and layer < 2:
                cv2.polylines(canvas, [line], False, core, max(1, width // 3), cv2.LINE_AA)
    grain = rng.normal(0, 6, (h, w, 1)).astype(np.float32)  # canvas texture
    return np.clip(canvas.astype(np.float32) + grain, 0, 255).astype(np.uint8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="image file to write (.png or .jpg)")
    parser.add_argument("--size", type=int, default=512, help="side of the square painting (default 512)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--palette", choices=PALETTES, default="night", help="colours (default night, the README's example)"
    )
    args = parser.parse_args()
    if args.size < 64:
        parser.error("--size must be at least 64")
    try:
        check_output_path(args.output)  # before the painting, not after
        write_image(paint(args.size, args.seed, args.palette), args.output)
    except RealtimeError as exc:
        parser.error(str(exc))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
