#!/usr/bin/env bash
# Train the shipped 21-style MSG-Net on a lent H100 in device calls of at most 10 minutes (issue 3).
#
# Here (no GPU), once:   scripts/train_h100.sh prepare        # data, VGG, 8 unseen paintings into .train/ (~36 MiB; WikiArt 12 more)
# Device call 1:         scripts/train_h100.sh bench && MINUTES=6.5 scripts/train_h100.sh train
# Device calls 2, 3, …:  scripts/train_h100.sh train          # resumes, trains MINUTES (default 8.5), checkpoints
# Last call, once done:  scripts/train_h100.sh quality        # quality table (with Gatys) and contact sheet into $OUT
#     run(command="bash scripts/...", carry=[".train/data", ".train/vgg", ".train/run"], timeout_s=600)
#     (.train/run holds the checkpoint once a call has made one; carrying it also covers a machine gone cold)
# Here, after every call: scripts/train_h100.sh fetch FILES_AT  # the call's $OUT files into .train/run/
# Here, at the end:       scripts/train_h100.sh export [OUT]     # weights/msgnet21.safetensors from the checkpoint
#
# A train call writes 4 files to $OUT, all under 16 MiB: the checkpoint manifest ckpt.pt, its two parts (model in
# float32, Adam moments in bf16: --compact-checkpoint) and the JSON log ckpt.log.json. The weights file (~17 MB)
# is exported here, on the CPU, because files from $OUT are capped at 16 MiB; the device exports its own copy
# into .train/run/ only to benchmark it. Environment: STEPS, MINUTES, TRAIN_ARGS (more `realtime train` options),
# BENCH_ARGS, GATYS_STEPS, DEVICE=cpu (rehearse a call here with tiny TRAIN_ARGS).
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED=${SHARED:-../shared}
TRAIN=.train
RUN=${RUN:-$TRAIN/run}  # another RUN keeps a second run (e.g. the many-style fine-tune) apart
VGG=vgg16_hed_relu4_3.pth
STEPS=${STEPS:-20000}       # × batch 16 = 320k images, the paper's budget; raise it while held-out losses fall
MINUTES=${MINUTES:-8.5}     # training time per call; startup, compilation and the last checkpoint fit in the rest
PYTHON=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}      # DEVICE=cpu rehearses a call on a machine without a GPU (with tiny TRAIN_ARGS)

pyav_stub() {
    # The GPU image has no PyAV, and its wheel (33 MiB) does not fit beside the data in a call. `realtime train`
    # never opens a video; this stub only satisfies the names the video modules import at load time.
    "$PYTHON" -c "import av" 2>/dev/null && return
    local stub=/tmp/pyav-stub
    mkdir -p "$stub/av/video"
    : >"$stub/av/__init__.py"
    : >"$stub/av/video/__init__.py"
    echo "ColorPrimaries = ColorRange = Colorspace = ColorTrc = None" >"$stub/av/video/reformatter.py"
    export PYTHONPATH="$stub${PYTHONPATH:+:$PYTHONPATH}"
}

preflight() {
    : "${OUT:?run this on the device machine, where \$OUT is set}"
    export PYTHONUNBUFFERED=1 DEVICE
    pyav_stub
    "$PYTHON" - <<'EOF'
import os, torch, realtime.cli  # fails here, in seconds, rather than after data loading
if os.environ["DEVICE"] != "cpu":
    assert torch.cuda.is_available(), "no CUDA device"
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, CUDA {torch.version.cuda}", flush=True)
EOF
    for path in "$TRAIN/data/content_train" "$TRAIN/data/styles21" "$TRAIN/vgg/$VGG"; do
        [ -e "$path" ] || { echo "missing $path: run 'scripts/train_h100.sh prepare' here and carry .train/data and .train/vgg" >&2; exit 2; }
    done
}

case "${1:-}" in
prepare)
    mkdir -p "$TRAIN/data" "$TRAIN/vgg"
    for folder in content_train styles21; do
        rm -rf "${TRAIN:?}/data/$folder"
        cp -r "$SHARED/data/$folder" "$TRAIN/data/$folder"
    done
    # Paintings the 21-style model never sees, for the unseen-style rows of the quality table.
    rm -rf "$TRAIN/data/unseen" && mkdir -p "$TRAIN/data/unseen"
    ls "$SHARED/data/styles_wikiart" | awk 'NR % 125 == 1' | head -8 | while read -r name; do
        cp "$SHARED/data/styles_wikiart/$name" "$TRAIN/data/unseen/"
    done
    cp "$SHARED/vgg/$VGG" "$TRAIN/vgg/$VGG"
    # The 1000 WikiArt paintings for a many-style run; outside .train/data so the 21-style calls need not carry them.
    rm -rf "$TRAIN/wikiart" && cp -r "$SHARED/data/styles_wikiart" "$TRAIN/wikiart"
    du -sh "$TRAIN/data" "$TRAIN/vgg" "$TRAIN/wikiart"
    if [ -f "$RUN/ckpt.pt" ]; then
        echo "note: $RUN/ckpt.pt exists and 'train' will resume it; delete $RUN to start a new run" >&2
    fi
    ;;
bench)
    preflight
    "$PYTHON" benchmarks/bench_train.py --device "$DEVICE" --vgg "$TRAIN/vgg/$VGG" --json "$OUT/bench_train.json" ${BENCH_ARGS:-}
    ;;
train)
    preflight
    resume=()
    mkdir -p "$RUN"
    [ -f "$RUN/ckpt.pt" ] && resume=(--resume "$RUN/ckpt.pt")
    status=0
    "$PYTHON" -m realtime train \
        --content "$TRAIN/data/content_train" --styles "$TRAIN/data/styles21" --vgg "$TRAIN/vgg/$VGG" \
        --checkpoint "$OUT/ckpt.pt" "${resume[@]}" --steps "$STEPS" --time-limit "$MINUTES" --out "$RUN/msgnet21.safetensors" \
        --model full --compact-checkpoint --part-mb 15 --device "$DEVICE" ${TRAIN_ARGS:-} || status=$?
    if [ -f "$OUT/ckpt.pt" ]; then  # keep this machine's copy for the next call while it stays warm
        rm -f "$RUN"/ckpt.* && cp "$OUT"/ckpt.* "$RUN"/
    fi
    ls -la "$OUT"
    exit "$status"
    ;;
quality)
    preflight
    weights=$RUN/msgnet21.safetensors  # exported afresh: the checkpoint may be newer than an earlier export
    "$PYTHON" -m realtime train --export "$RUN/ckpt.pt" --styles "$TRAIN/data/styles21" --vgg "$TRAIN/vgg/$VGG" \
        --out "$weights" --device "$DEVICE"
    "$PYTHON" benchmarks/bench_quality.py --weights "$weights" --unseen "$TRAIN/data/unseen" --vgg "$TRAIN/vgg/$VGG" \
        --gatys-steps "${GATYS_STEPS:-300}" --device "$DEVICE" --json "$OUT/quality.json" ${QUALITY_ARGS:-} | tee "$OUT/quality.md"
    "$PYTHON" scripts/contact_sheet.py --weights "$weights" --styles "$TRAIN/data/styles21" --device "$DEVICE" \
        -o "$OUT/contact_sheet.jpg"
    ;;
fetch)
    from=${2:?usage: scripts/train_h100.sh fetch FILES_AT}
    [ -f "$from/ckpt.pt" ] || { echo "no ckpt.pt in $from" >&2; exit 2; }
    mkdir -p "$RUN" && rm -f "$RUN"/ckpt.* && cp "$from"/ckpt.* "$RUN"/
    "${LOCAL_PYTHON:-.venv/bin/python}" - "$RUN/ckpt.log.json" <<'EOF'
import json, sys
log = json.load(open(sys.argv[1]))
last = next((row for row in reversed(log["history"]) if row.get("val")), {})
print(f"{log['status']}: step {log['step']} of {log['steps']}, {log['images_seen']} images, "
      f"{log['train_seconds'] / 60:.1f} min of training; last validation at step {last.get('step')}: {last.get('val')}")
EOF
    ;;
export)
    "${LOCAL_PYTHON:-.venv/bin/python}" -m realtime train --export "$RUN/ckpt.pt" --styles "$SHARED/data/styles21" \
        --vgg "$SHARED/vgg/$VGG" --out "${2:-weights/msgnet21.safetensors}"
    ;;
*)
    sed -n '2,21p' "$0" >&2
    exit 2
    ;;
esac
