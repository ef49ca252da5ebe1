#!/usr/bin/env bash
# The checks that need a CUDA GPU, run in your own checkout on a machine that has one: the CUDA tests, then the
# speed measurements docs/benchmarks.md still waits for (docs/development.md lists which check fills which
# section). Each check logs as it goes and stops after LIMIT seconds, so one that hangs does not hold up the
# rest; name checks to run only those (a rerun of the ones that failed).
#
#   scripts/gpu_check.sh install          # .venv with the package and its extras (pip, from PyPI)
#   scripts/gpu_check.sh                  # every check, in the order below
#   scripts/gpu_check.sh gatys train      # only these
#   scripts/gpu_check.sh bundle DIR       # a self-contained copy for a GPU machine without internet (below)
#   OUT=/tmp/gpu-out DEVICE=cpu SMOKE=1 scripts/gpu_check.sh   # rehearse every command on a CPU at toy sizes
#
# Checks:
#   tests    the CUDA tests of the test suite (the fast path, frame transfer, a live session on CUDA)
#   bench    eager fp32 vs the fast path at 480/720/1080 (targets: 720p ≤ 5 ms, 1080p ≤ 10 ms, ≥ 5×)
#   live     the live loop on a 720p 30 fps source (target: keeps up, ≤ 1.5 frames latency)
#   video    `realtime video` end to end at 720p and 1080p, decode/generator/encode shares (≥ 3× at 1080p30)
#   gatys    seconds for 512 and 1024 px at 300 steps (≤ 5 s at 512), loss vs MSG-Net, live fps meanwhile
#   train    training images/s, the naive step next to ours (≥ 350 img/s)
#   profile  where the fast path's time goes at 1080p
#   app      the README's `realtime demo`, then `realtime live --record` on its output, on the GPU
#   refine   seconds to fit a painting's target (`--refine`)
#   wct      a 1024 px WCT still on CUDA: the full-size float32 pipeline next to the app's (bf16, coarse levels)
#
# Settings, from the environment:
#   OUT       where results go (default gpu-results): gpu_check.log (everything), gatys.json, train.json,
#             live-record.mp4
#   VGG       a VGG16 features state dict for gatys, train, refine and wct (default: torchvision's ImageNet
#             VGG16, downloaded once; train uses random weights)
#   PAINTING  the style picture of gatys, refine and wct (default docs/example-painting.jpg)
#   PYTHON    default .venv/bin/python where it exists, else python3
#   DEVICE    default cuda;  LIMIT  seconds per check, default 900;  SMOKE  set: toy sizes and counts
#   EXTRAS    the extras install and bundle take (default test: everything the test suite uses)
#   WHEELS    install: a folder of wheels to install from instead of PyPI (what bundle writes)
#
# A GPU machine without internet: `bundle DIR` writes DIR/realtime (this checkout's files), DIR/wheels (every
# package the checks need, for the GPU machine's Python and platform: PY_VERSION, default this Python's, and
# PLATFORM, default manylinux_2_28_x86_64) and a copy of the VGG file when VGG is set. Copy DIR over; there:
#   cd DIR/realtime && WHEELS=../wheels scripts/gpu_check.sh install && VGG=../FILE scripts/gpu_check.sh
# Offline, gatys, refine and wct need VGG: torchvision's download is not there to fall back on.
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-gpu-results}
VGG=${VGG:-}
PAINTING=${PAINTING:-docs/example-painting.jpg}
WEIGHTS=weights/msgnet21.safetensors
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    [ -x .venv/bin/python ] && PYTHON=.venv/bin/python
fi
DEVICE=${DEVICE:-cuda}
LIMIT=${LIMIT:-900}
SMOKE=${SMOKE:-}
EXTRAS=${EXTRAS:-test}
CHECKS=(tests bench live video gatys train profile app refine wct)

started=$SECONDS
failed=0
declare -A outcome

install() {
    [ -x .venv/bin/python ] || python3 -m venv .venv || exit 2
    if [ -n "${WHEELS:-}" ]; then
        .venv/bin/pip install --no-index --find-links "$WHEELS" -e ".[$EXTRAS]" || exit 2
    else
        # PyPI's PyTorch for Linux x86-64 is a CUDA build; for another CUDA version, install torch and
        # torchvision from https://download.pytorch.org first.
        .venv/bin/pip install -e ".[$EXTRAS]" || exit 2
    fi
    .venv/bin/python -c "import torch; print('torch', torch.__version__, 'CUDA', torch.cuda.is_available())"
}

# What the package needs to build and run with the extras named, read from pyproject.toml.
requirements() {
    "$PYTHON" - "$EXTRAS" <<'EOF'
import re, sys
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
config = tomllib.load(open("pyproject.toml", "rb"))
project = config["project"]
wanted, seen = [e for e in sys.argv[1].split(",") if e], set()
requirements = config["build-system"]["requires"] + project["dependencies"]
while wanted:
    extra = wanted.pop()
    if extra not in seen:
        seen.add(extra)
        for requirement in project["optional-dependencies"][extra]:
            own = re.fullmatch(rf"{project['name']}\[(.*)\]", requirement)
            wanted += own.group(1).split(",") if own else []
            requirements += [] if own else [requirement]
print("\n".join(requirements))
EOF
}

bundle() {
    local dir=${1:?usage: scripts/gpu_check.sh bundle DIR} version platform
    version=${PY_VERSION:-$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}
    platform=${PLATFORM:-manylinux_2_28_x86_64}  # pip takes older manylinux wheels for it too
    mkdir -p "$dir/realtime" "$dir/wheels" || exit 2
    git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$dir/realtime" || exit 2
    mapfile -t wanted < <(requirements)
    [ ${#wanted[@]} -gt 0 ] || { echo "could not read the requirements from pyproject.toml" >&2; exit 2; }
    "$PYTHON" -m pip download -q --only-binary=:all: --python-version "$version" --implementation cp \
        --platform "$platform" -d "$dir/wheels" "${wanted[@]}" || exit 2
    [ -z "$VGG" ] || cp "$VGG" "$dir/" || exit 2
    du -sh "$dir"
    echo "there: cd $dir/realtime && WHEELS=../wheels scripts/gpu_check.sh install" \
        "${VGG:+&& VGG=../$(basename "$VGG") scripts/gpu_check.sh}"
}

preflight() {
    mkdir -p "$OUT"
    exec > >(tee -a "$OUT/gpu_check.log") 2>&1
    export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" DEVICE
    for path in "$PAINTING" "$WEIGHTS" ${VGG:+"$VGG"}; do
        [ -e "$path" ] || { echo "missing $path"; exit 2; }
    done
    "$PYTHON" - <<'EOF' || { echo "the environment is not ready: scripts/gpu_check.sh install"; exit 2; }
import importlib, importlib.util, os, pkgutil, platform, av, torch
import realtime
# Every module, as the commands import theirs only when they run: a missing package fails here, in
# seconds, not inside a check. `realtime serve` (aiortc) is an extra no check uses.
serve = importlib.util.find_spec("aiortc") is not None
for module in pkgutil.walk_packages(realtime.__path__, "realtime."):
    if module.name != "realtime.__main__" and (serve or not module.name.startswith("realtime.serving")):
        importlib.import_module(module.name)
print(f"python {platform.python_version()}, torch {torch.__version__}, PyAV {av.__version__}", end="")
if os.environ["DEVICE"] != "cpu":
    assert torch.cuda.is_available(), "no CUDA device"
    print(f", {torch.cuda.get_device_name()}, CUDA {torch.version.cuda}", end="")
print(flush=True)
EOF
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
}

# check NAME COMMAND...: runs COMMAND for at most LIMIT seconds.
check() {
    local name=$1 begun=$SECONDS rc=0
    shift
    echo
    echo "=== $name: $*"
    timeout -s INT -k 10 "$LIMIT" "$@" || rc=$?
    outcome[$name]="rc $rc in $((SECONDS - begun)) s$([ "$rc" = 124 ] && echo ' (timed out)')"
    [ "$rc" = 0 ] || failed=1
}

run_check() {
    local s=$SMOKE full=1 vgg=() # ${s:+toy sizes} ${full:+real ones}
    [ -n "$s" ] && full=
    [ -n "$VGG" ] && vgg=(--vgg "$VGG")
    case $1 in
    tests)
        check tests "$PYTHON" -m pytest -q -k cuda tests ;;  # every test named for CUDA, wherever it lives
    bench)
        check bench "$PYTHON" -m realtime bench --device "$DEVICE" --weights "$WEIGHTS" \
            ${s:+--sizes 64x48 --frames 2 --warmup 0} ${full:+--sizes 480,720,1080 --frames 30} ;;
    live)
        check live "$PYTHON" benchmarks/bench_live.py --device "$DEVICE" --weights "$WEIGHTS" \
            ${s:+--size 96 --source-size 320x180 --frames 4 --warmup 1} ${full:+--frames 300} ;;
    video)
        check video "$PYTHON" benchmarks/bench_video.py --device "$DEVICE" --weights "$WEIGHTS" --style candy \
            --sizes 720p ${full:+1080p} ${s:+--frames 1} ${full:+--frames 150}
        check video-io "$PYTHON" benchmarks/bench_video.py --device "$DEVICE" --io-only --no-reference \
            --style candy --weights "$WEIGHTS" --sizes 720p 1080p ${s:+--frames 2} ${full:+--frames 150} ;;
    gatys)
        check gatys "$PYTHON" benchmarks/bench_gatys.py --device "$DEVICE" --weights "$WEIGHTS" "${vgg[@]}" \
            --style "$PAINTING" --json "$OUT/gatys.json" \
            ${s:+--sizes 64 --steps 3 --live-size 96 --live-seconds 1} ${full:+--sizes 512 1024 --steps 300} ;;
    train)
        check train "$PYTHON" benchmarks/bench_train.py --device "$DEVICE" "${vgg[@]}" --json "$OUT/train.json" \
            ${s:+--batch 2 --size 64 --ngf 32 --style-sizes 64,96 --steps 2 --repeats 1 --paths reference,realtime} ;;
    profile)
        check profile "$PYTHON" -m realtime bench --device "$DEVICE" --weights "$WEIGHTS" --no-cuda-graph --profile \
            ${s:+--sizes 64x48 --frames 2 --warmup 0} ${full:+--sizes 1080 --frames 20} ;;
    app)
        local clip=${TMPDIR:-/tmp}/gpu-check-demo.mp4  # an input, not a result: kept out of $OUT
        check app-demo "$PYTHON" -m realtime demo --device "$DEVICE" -o "$clip" ${s:+--seconds 1 --size 96}
        check app-live "$PYTHON" -m realtime live --source "$clip" --device "$DEVICE" --no-window \
            --max-frames ${s:+10 --size 96}${full:+240} --record "$OUT/live-record.mp4" --style candy ;;
    refine)
        check refine "$PYTHON" - "$WEIGHTS" "$DEVICE" "$VGG" ${s:+2}${full:+20} "$PAINTING" <<'EOF'
import sys, tempfile, time
from pathlib import Path
import torch
from PIL import Image, ImageOps
from realtime import Stylizer
weights, device, vgg, steps, painting = sys.argv[1:]
stylizer = Stylizer.load(weights, device=device)
stylizer.refine_styles(int(steps), vgg=vgg or None, cache=False)
warmup = Path(tempfile.mkdtemp()) / "mirrored.png"  # another picture: the first also pays for cuDNN's kernel choice
ImageOps.mirror(Image.open(painting).convert("RGB")).save(warmup)
for picture in (warmup, painting):
    start = time.perf_counter()
    stylizer.set_style([str(picture)])
    if stylizer.device.type == "cuda":
        torch.cuda.synchronize()
    print(f"--refine target for {picture}: {time.perf_counter() - start:.2f} s")
EOF
        ;;
    wct)
        check wct "$PYTHON" benchmarks/bench_wct.py --device "$DEVICE" "${vgg[@]}" --style "$PAINTING" \
            ${s:+--size 128 --rounds 1} ${full:+--size 1024 --rounds 3} ;;
    esac
}

case "${1:-}" in
install) install ;;
bundle) bundle "${2:-}" ;;
-h | --help | help) sed -n '2,40p' "$0" ;;
*)
    for name in "$@"; do
        [[ " ${CHECKS[*]} " == *" $name "* ]] || { echo "unknown check '$name'; checks: ${CHECKS[*]}" >&2; exit 2; }
    done
    names=("$@")
    [ ${#names[@]} -gt 0 ] || names=("${CHECKS[@]}")
    preflight
    for name in "${names[@]}"; do
        run_check "$name"
    done
    echo
    echo "=== summary ($((SECONDS - started)) s)"
    for name in "${!outcome[@]}"; do
        echo "$name: ${outcome[$name]}"
    done | sort
    ls -la "$OUT"
    exit "$failed"
    ;;
esac
