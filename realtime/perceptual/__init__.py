"""The VGG loss network, perceptual losses, quality measures and target refinement."""
