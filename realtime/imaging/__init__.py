"""Pictures in and out: the frame representation (H×W×3 uint8 RGB ↔ tensors), image files, colour."""
