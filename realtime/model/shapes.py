"""The shipped generators' shapes by name: torch-free, so the command line can offer them."""

# The paper's generator; a narrow one that runs interactively on a CPU; and the fast one, taught by the full
# one to paint like it, with no layer at full resolution (benchmarks/bench_shapes.py chose its shape).
MODELS: dict[str, dict[str, int]] = {
    "full": {"ngf": 128, "n_blocks": 6, "width": 64, "out_kernel": 7, "unshuffle": 0},
    "light": {"ngf": 32, "n_blocks": 2, "width": 16, "out_kernel": 3, "unshuffle": 0},
    "fast": {"ngf": 32, "n_blocks": 5, "width": 32, "out_kernel": 3, "unshuffle": 2},
}
# Shape keys a weights file written before they existed lacks, and the value that file means.
SHAPE_DEFAULTS = {"unshuffle": 0}
MODEL_CHOICES = ("auto", *MODELS)
