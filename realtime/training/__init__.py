"""Training generators: data, the loop, checkpoints and export to a weights file."""
