"""Frame in, stylised frame out: the Stylizer and the paths that run the generator (CUDA, CPU)."""
