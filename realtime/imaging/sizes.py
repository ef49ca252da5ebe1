"""Frame sizes the generator takes: torch-free, so configs can be checked before anything heavy loads."""

# Two stride-2 stages: sizes must divide by 4, and the 3×3 reflection pads of the innermost
# stage need at least 2 pixels, so anything smaller than 16 is padded up to 16.
SIZE_MULTIPLE = 4
MIN_SIDE = 16


def padding(side: int, multiple: int = SIZE_MULTIPLE, min_side: int = MIN_SIDE) -> int:
    """Pixels to add to `side` so it divides by `multiple` and is at least `min_side` (the generator's by default)."""
    return max(min_side, -(-side // multiple) * multiple) - side
