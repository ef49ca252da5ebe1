"""Video files: decoding and encoding with PyAV, frame-by-frame stylisation, temporal stabilisation."""
