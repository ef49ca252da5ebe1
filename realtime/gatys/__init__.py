"""Gatys et al.'s optimisation: a still rendered by L-BFGS or Adam over VGG features."""
