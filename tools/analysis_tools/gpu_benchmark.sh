#!/usr/bin/env bash
# Training-step and inference benchmark of the headline LGCE model (Swin-B +
# BERT-base) at 480x480, batch 8, on one CUDA GPU: float32, then mixed
# precision (fp16 with dynamic loss scaling, and bf16), each with and
# without gradient checkpointing (and with checkpointing plus the update in
# backward, fp32 and bf16), then interleaved A/B runs of the switches
# that only pay on some hardware (channels-last decoder, torch.compile).
# Random weights (--offline): nothing is downloaded. Results: one JSON and
# one log per setting in OUT_DIR, and a summary table at the end.
#
#   bash tools/analysis_tools/gpu_benchmark.sh
#   OUT_DIR=work_dirs/v100 AMP_DTYPES=fp16 bash tools/analysis_tools/gpu_benchmark.sh
#
# Settings (environment variables, defaults in brackets):
#   CONFIG [configs/lgce_swin-b.py]  SIZE [480]  BATCH [8]
#   WARMUP [3]  ITERS [10]  DEVICE [cuda]  OUT_DIR [work_dirs/gpu_benchmark]
#   AMP_DTYPES ["fp16 bf16"]  (bf16 needs Ampere or newer)
#   AB [1]       run the interleaved A/B comparisons
#   COMPILE [1]  include torch.compile in the A/B (first steps compile)
# A dry run of the script on a CPU (a tiny config, bf16 only):
#   CONFIG=configs/tiny/lgce_swin-tiny_refsegrs-64x64.py DEVICE=cpu SIZE=64 \
#   BATCH=2 WARMUP=0 ITERS=1 AMP_DTYPES=bf16 COMPILE=0 \
#   bash tools/analysis_tools/gpu_benchmark.sh
set -euo pipefail

CONFIG=${CONFIG:-configs/lgce_swin-b.py}
SIZE=${SIZE:-480}
BATCH=${BATCH:-8}
WARMUP=${WARMUP:-3}
ITERS=${ITERS:-10}
DEVICE=${DEVICE:-cuda}
OUT_DIR=${OUT_DIR:-work_dirs/gpu_benchmark}
AMP_DTYPES=${AMP_DTYPES:-fp16 bf16}
AB=${AB:-1}
COMPILE=${COMPILE:-1}
CP="model.backbone.with_cp=True model.text_encoder.with_cp=True"
SIB="optim_wrapper.type=StepInBackwardOptimWrapper"  # update in backward

cd "$(dirname "$0")/../.."
mkdir -p "$OUT_DIR"
if [[ $DEVICE == cuda* ]]; then
    python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: set DEVICE=cpu for a dry run')"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
        > "$OUT_DIR/gpu.txt" || true
fi

bench() {
    local name=$1
    shift
    echo "== $name"
    python tools/analysis_tools/benchmark.py "$CONFIG" --offline \
        --device "$DEVICE" --size "$SIZE" --batch-size "$BATCH" \
        --warmup "$WARMUP" --iters "$ITERS" --out "$OUT_DIR/$name.json" \
        "$@" > "$OUT_DIR/$name.log" 2>&1 || {
        echo "   failed (e.g. out of memory): see $OUT_DIR/$name.log"
        return 0
    }
    grep -E '^(\[.*\] )?(inference|train step)' "$OUT_DIR/$name.log" || true
}

# one setting per process: peak memory is each setting's own
bench fp32
bench fp32_cp --cfg-options $CP
bench fp32_cp_sib --cfg-options $CP $SIB
for dtype in $AMP_DTYPES; do
    bench "amp_${dtype}" --amp "$dtype"
    bench "amp_${dtype}_cp" --amp "$dtype" --cfg-options $CP
    if [[ $dtype == bf16 ]]; then  # fp16's loss scaling needs all gradients
        bench "amp_${dtype}_cp_sib" --amp "$dtype" --cfg-options $CP $SIB
    fi
done

if [[ $AB == 1 ]]; then
    first_amp=${AMP_DTYPES%% *}
    variants=(--variant fp32 amp=none
              --variant "$first_amp" "amp=$first_amp"
              --variant "${first_amp}_channels_last" "amp=$first_amp"
              model.decode_head.channels_last=True)
    if [[ $COMPILE == 1 ]]; then
        variants+=(--variant "${first_amp}_compile" "amp=$first_amp"
                   compile=backbone,decode_head)
    fi
    bench ab --no-inference "${variants[@]}"
fi

python - "$OUT_DIR" <<'PY'
import glob
import json
import os.path as osp
import sys

rows = []
for path in sorted(glob.glob(osp.join(sys.argv[1], '*.json'))):
    with open(path) as f:
        result = json.load(f)
    runs = result.get('variants') or {'': result}
    for name, run in runs.items():
        step = run.get('train_step')
        if not step:
            continue
        label = osp.basename(path)[:-5] + (f':{name}' if name else '')
        rows.append((label, step['median_step_seconds'],
                     step['images_per_second'], step['peak_memory_mb']))
print(f"{'setting':32s} {'step s':>8s} {'img/s':>8s} {'peak MiB':>9s}")
for label, seconds, ips, mem in rows:
    print(f'{label:32s} {seconds:8.3f} {ips:8.2f} {mem:9.0f}')
print('(A/B rows share one process: their peak memory is the largest)')
PY
