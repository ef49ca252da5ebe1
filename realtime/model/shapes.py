"""The shipped generators' shapes by name: torch-free, so the command line can offer them."""

# The paper's generator, and a narrow one that runs interactively on a CPU (benchmarks/bench_cpu.py).
MODELS: dict[str, dict[str, int]] = {
    "full": {"ngf": 128, "n_blocks": 6, "width": 64, "out_kernel": 7},
    "light": {"ngf": 32, "n_blocks": 2, "width": 16, "out_kernel": 3},
}
MODEL_CHOICES = ("auto", *MODELS)
