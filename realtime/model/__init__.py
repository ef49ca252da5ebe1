"""The MSG-Net generator, its weights file and its style targets. Imports nothing from the app layers."""
