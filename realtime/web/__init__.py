"""The live demo as a static web site: the generator runs in the viewer's browser (onnxruntime-web on WebGPU or
WASM), so hosting it needs no Python and no GPU of ours. `export_site` writes it; `realtime export-web` and
`realtime serve --client-side` are the commands over it."""
