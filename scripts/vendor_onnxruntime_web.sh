#!/usr/bin/env bash
# Vendors onnxruntime-web into realtime/web/vendor/onnxruntime-web/: the files the exported page loads, taken
# from the npm registry's tarball of one pinned version, checked against the registry's sha512. The page never
# loads anything from a CDN, so an exported site works offline and on any static host.
#
#   scripts/vendor_onnxruntime_web.sh            # the pinned version (VERSION below)
#   scripts/vendor_onnxruntime_web.sh 1.23.0     # another one: then update VERSION below and ONNXRUNTIME_WEB in
#                                                # realtime/web/site.py
#
# Needs npm and node. docs/web.md says why these files and this version.
set -euo pipefail
VERSION="${1:-1.22.0}"
# ort.webgpu.min.mjs: the API with the WebGPU and WASM backends; both run on the JSEP build of the runtime.
FILES=(ort.webgpu.min.mjs ort-wasm-simd-threaded.jsep.mjs ort-wasm-simd-threaded.jsep.wasm)
cd "$(dirname "$0")/.."
DEST=realtime/web/vendor/onnxruntime-web
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

expected="$(npm view "onnxruntime-web@$VERSION" dist.integrity)"
(cd "$WORK" && npm pack --silent "onnxruntime-web@$VERSION" >/dev/null)
tarball="$WORK/onnxruntime-web-$VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | openssl base64 -A)"
if [ "$actual" != "$expected" ]; then
    echo "vendor: $tarball does not match the registry's integrity $expected" >&2
    exit 1
fi
tar -xzf "$tarball" -C "$WORK"
license="$(node -p "require('$WORK/package/package.json').license")"

rm -rf "$DEST" && mkdir -p "$DEST"
for file in "${FILES[@]}"; do
    cp "$WORK/package/dist/$file" "$DEST/$file"
done
{
    echo "onnxruntime-web $VERSION from the npm registry, $license licence, Copyright (c) Microsoft Corporation."
    echo "Tarball: https://registry.npmjs.org/onnxruntime-web/-/onnxruntime-web-$VERSION.tgz"
    echo "Integrity: $expected"
    echo "Files: ${FILES[*]}"
    echo
    echo "MIT License"
    echo
    echo "Copyright (c) Microsoft Corporation."
    echo
    echo "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated"
    echo "documentation files (the \"Software\"), to deal in the Software without restriction, including without limitation"
    echo "the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and"
    echo "to permit persons to whom the Software is furnished to do so, subject to the following conditions:"
    echo
    echo "The above copyright notice and this permission notice shall be included in all copies or substantial portions"
    echo "of the Software."
    echo
    echo "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED"
    echo "TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL"
    echo "THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF"
    echo "CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER"
    echo "DEALINGS IN THE SOFTWARE."
} >"$DEST/NOTICE"
echo "vendor: onnxruntime-web $VERSION → $DEST ($(du -sh "$DEST" | cut -f1))"
