#!/usr/bin/env bash
# Every GPU measurement the project still waits for, as ONE device call (15 minutes of device time a
# session, 64 MiB a call: docs/development.md). Each check is time-boxed and logs as it goes, so a call cut
# short still returns what it measured; a rerun names only the checks that failed.
#
# Here, once:   SHARED=DIR scripts/gpu_check.sh prepare  # .gpu/: PyAV for the device's Python, the VGG, one painting
#                                                # from DIR; sets aside the two weights files no check uses
# The call:     run(command="bash scripts/gpu_check.sh", carry=[".gpu"], timeout_s=540)
#               run(command="DEADLINE=170 bash scripts/gpu_check.sh gatys", carry=[".gpu"], timeout_s=200)  # a rerun, at once
# Here, after:  scripts/gpu_check.sh restore     # the set-aside weights back into weights/
# Rehearse:     OUT=/tmp/gpu-out DEVICE=cpu SMOKE=1 PYTHON=.venv/bin/python scripts/gpu_check.sh  # toy sizes
#
# Checks, in priority order (the default runs them all):
#   bench    eager fp32 vs the fast path at 480/720/1080 (targets: 720p ≤ 5 ms, 1080p ≤ 10 ms, ≥ 5×)
#   live     the live loop on a 720p 30 fps source (target: keeps up, ≤ 1.5 frames latency)
#   video    `realtime video` end to end at 720p and 1080p, decode/generator/encode shares (≥ 3× at 1080p30)
#   gatys    seconds for 512 and 1024 px at 300 steps (≤ 5 s at 512), loss vs MSG-Net, live fps meanwhile
#   train    training images/s, the naive step next to ours (≥ 350 img/s)
#   profile  where the fast path's time goes at 1080p
#   app      the README's `realtime demo`, then `realtime live --record` on its output, on the GPU
#   refine   seconds to fit a painting's target (`--refine`)
#   wct      a 1024 px WCT still on CUDA: the full-size float32 pipeline next to the app's (bf16, coarse levels)
# Output in $OUT: gpu_check.log (everything), gatys.json, train.json, live-record.mp4.
set -uo pipefail
cd "$(dirname "$0")/.."

GPU=.gpu
ASIDE=.gpu-aside
SET_ASIDE=(weights/msgnet21-light.safetensors weights/msgnet21-wikiart.safetensors)
SHARED=${SHARED:-}          # prepare: the folder holding vgg/vgg16_hed_relu4_3.pth and data/styles21/
VGG=$GPU/vgg16_hed_relu4_3.pth
PAINTING=$GPU/starry_night.jpg
WEIGHTS=weights/msgnet21.safetensors
PYTHON=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
SMOKE=${SMOKE:-}            # set: toy sizes, so a CPU rehearses every command in a few minutes
DEADLINE=${DEADLINE:-510}   # seconds from the start; no check runs past it (the call's timeout_s is 540)
CHECKS=(bench live video gatys train profile app refine wct)

started=$SECONDS
failed=0
declare -A outcome

prepare() {
    local python=${LOCAL_PYTHON:-.venv/bin/python} build
    [ -n "$SHARED" ] || { echo "set SHARED to the folder holding vgg/vgg16_hed_relu4_3.pth and data/styles21/"; exit 2; }
    mkdir -p "$GPU" "$ASIDE"
    cp "$SHARED/vgg/vgg16_hed_relu4_3.pth" "$VGG"
    cp "$SHARED/data/styles21/starry_night.jpg" "$PAINTING"
    if [ ! -f "$GPU/av-site.tar.xz" ]; then
        # The device has no PyAV. Its wheel is 34 MiB; installed and xz-packed it is 24 MiB, which is what
        # lets it travel beside the VGG in one call. abi3: the same build serves the device's Python 3.12.
        build=$(mktemp -d)
        "$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
            --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d "$build" \
            "av==$("$python" -c 'import av; print(av.__version__)')"
        "$python" -m pip install -q --no-deps --no-compile --target "$build/site" "$build"/av-*.whl
        tar -cJf "$GPU/av-site.tar.xz" -C "$build/site" .
        rm -rf "$build"
    fi
    for file in "${SET_ASIDE[@]}"; do
        [ -f "$file" ] && mv "$file" "$ASIDE/"
    done
    echo "set aside until 'scripts/gpu_check.sh restore': ${SET_ASIDE[*]}"
    echo "travels: $(travel_mib) MiB of the 64 a call carries"
}

travel_mib() {
    { git ls-files -z | xargs -0 stat -c %s 2>/dev/null; find "$GPU" -type f -exec stat -c %s {} +; } |
        awk '{ total += $1 } END { printf "%.1f", total / 1048576 }'
}

restore() {
    for file in "${SET_ASIDE[@]}"; do
        [ -f "$ASIDE/$(basename "$file")" ] && mv "$ASIDE/$(basename "$file")" "$file"
    done
    git status --short weights/
}

preflight() {
    : "${OUT:?run this on the device machine, where \$OUT is set (or set OUT to rehearse)}"
    mkdir -p "$OUT"
    exec > >(tee -a "$OUT/gpu_check.log") 2>&1
    export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
    if ! "$PYTHON" -c "import av" 2>/dev/null; then
        [ -f "$GPU/av-site.tar.xz" ] || { echo "no PyAV and no $GPU/av-site.tar.xz: run 'scripts/gpu_check.sh prepare' here and carry $GPU"; exit 2; }
        mkdir -p /tmp/av-site && tar -xJf "$GPU/av-site.tar.xz" -C /tmp/av-site
        export PYTHONPATH="$PYTHONPATH:/tmp/av-site"
    fi
    for path in "$VGG" "$PAINTING" "$WEIGHTS"; do
        [ -e "$path" ] || { echo "missing $path: run 'scripts/gpu_check.sh prepare' here and carry $GPU"; exit 2; }
    done
    "$PYTHON" - <<'EOF' || exit 2
import importlib, os, pkgutil, platform, av, torch
import realtime
# Every module, as the commands import theirs only when they run: a missing package fails here, in
# seconds, not inside a check.
for module in pkgutil.walk_packages(realtime.__path__, "realtime."):
    if module.name != "realtime.__main__":  # that one runs the command
        importlib.import_module(module.name)
print(f"python {platform.python_version()}, torch {torch.__version__}, PyAV {av.__version__}", end="")
if os.environ.get("DEVICE", "cuda") != "cpu":
    assert torch.cuda.is_available(), "no CUDA device"
    print(f", {torch.cuda.get_device_name()}, CUDA {torch.version.cuda}", end="")
print(flush=True)
EOF
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
    export DEVICE
}

# check NAME LIMIT COMMAND...: runs COMMAND for at most LIMIT seconds and never past the deadline.
check() {
    local name=$1 limit=$2 left=$((DEADLINE - (SECONDS - started))) begun=$SECONDS rc=0
    shift 2
    if [ "$left" -lt 30 ]; then
        outcome[$name]="skipped (deadline)"
        failed=1
        return
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    echo
    echo "=== $name (at most ${limit} s): $*"
    timeout -s INT -k 10 "$limit" "$@" || rc=$?
    outcome[$name]="rc $rc in $((SECONDS - begun)) s$([ "$rc" = 124 ] && echo ' (timed out)')"
    [ "$rc" = 0 ] || failed=1
}

run_check() {
    local s=$SMOKE full=1  # ${s:+toy sizes} ${full:+real ones}
    [ -n "$s" ] && full=
    case $1 in
    bench)
        check bench 120 "$PYTHON" -m realtime bench --device "$DEVICE" --weights "$WEIGHTS" \
            ${s:+--sizes 64x48 --frames 2 --warmup 0} ${full:+--sizes 480,720,1080 --frames 30} ;;
    live)
        check live 100 "$PYTHON" benchmarks/bench_live.py --device "$DEVICE" --weights "$WEIGHTS" \
            ${s:+--size 96 --source-size 320x180 --frames 4 --warmup 1} ${full:+--frames 300} ;;
    video)
        check video 150 "$PYTHON" benchmarks/bench_video.py --device "$DEVICE" --weights "$WEIGHTS" --style candy \
            --sizes 720p ${full:+1080p} ${s:+--frames 1} ${full:+--frames 150}
        check video-io 40 "$PYTHON" benchmarks/bench_video.py --device "$DEVICE" --io-only --no-reference \
            --style candy --weights "$WEIGHTS" --sizes 720p 1080p ${s:+--frames 2} ${full:+--frames 150} ;;
    gatys)
        check gatys 150 "$PYTHON" benchmarks/bench_gatys.py --device "$DEVICE" --weights "$WEIGHTS" --vgg "$VGG" \
            --style "$PAINTING" --json "$OUT/gatys.json" \
            ${s:+--sizes 64 --steps 3 --live-size 96 --live-seconds 1} ${full:+--sizes 512 1024 --steps 300} ;;
    train)
        check train 150 "$PYTHON" benchmarks/bench_train.py --device "$DEVICE" --vgg "$VGG" --json "$OUT/train.json" \
            ${s:+--batch 2 --size 64 --ngf 32 --style-sizes 64,96 --steps 2 --repeats 1 --paths reference,realtime} ;;
    profile)
        check profile 60 "$PYTHON" -m realtime bench --device "$DEVICE" --weights "$WEIGHTS" --no-cuda-graph --profile \
            ${s:+--sizes 64x48 --frames 2 --warmup 0} ${full:+--sizes 1080 --frames 20} ;;
    app)
        local clip=${TMPDIR:-/tmp}/gpu-check-demo.mp4  # an input, not a result: kept out of $OUT
        check app-demo 60 "$PYTHON" -m realtime demo --device "$DEVICE" -o "$clip" ${s:+--seconds 1 --size 96}
        check app-live 60 "$PYTHON" -m realtime live --source "$clip" --device "$DEVICE" --no-window \
            --max-frames ${s:+10 --size 96}${full:+240} --record "$OUT/live-record.mp4" --style candy ;;
    refine)
        check refine 60 "$PYTHON" - "$WEIGHTS" "$DEVICE" "$VGG" ${s:+2}${full:+20} "$PAINTING" docs/example-painting.jpg <<'EOF'
import sys, time
import torch
from realtime import Stylizer
weights, device, vgg, steps, *paintings = sys.argv[1:]
stylizer = Stylizer.load(weights, device=device)
stylizer.refine_styles(int(steps), vgg=vgg, cache=False)
for painting in paintings:  # the first one also pays for cuDNN's kernel choice
    start = time.perf_counter()
    stylizer.set_style([painting])
    if stylizer.device.type == "cuda":
        torch.cuda.synchronize()
    print(f"--refine target for {painting}: {time.perf_counter() - start:.2f} s")
EOF
        ;;
    wct)
        check wct 90 "$PYTHON" benchmarks/bench_wct.py --device "$DEVICE" --vgg "$VGG" --style "$PAINTING" \
            ${s:+--size 128 --rounds 1} ${full:+--size 1024 --rounds 3} ;;
    *)
        echo "unknown check '$1'; checks: ${CHECKS[*]}" >&2
        exit 2 ;;
    esac
}

case "${1:-}" in
prepare) prepare ;;
restore) restore ;;
-h | --help | help) sed -n '2,23p' "$0" ;;
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
