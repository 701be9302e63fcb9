#!/usr/bin/env bash
# DiCoR's training stages in order, with mmrrsis' tools:
#   1 coarse model (LAVT + VMSF), weight snapshots
#   2 prompt bank from the snapshots (tools/misc/build_prompt_bank.py)
#   3 refiner, offline from the bank
#   4 localization guide on the frozen coarse model, from the bank
#   5 joint tuning (LVMSF, guided words), the refiner inside
#   6 test of the full model
# Usage:
#   bash tools/misc/dicor_pipeline.sh synthetic        # CPU, generated data
#   bash tools/misc/dicor_pipeline.sh refsegrs [GPUS]  # the paper's settings
#   bash tools/misc/dicor_pipeline.sh rrsisd [GPUS]    # the same on RRSIS-D
#   bash tools/misc/dicor_pipeline.sh risbench [GPUS]  # and on RISBench
#     (these two read the datainfo JSON lines, as DiCoR's loader does)
# Environment: WORK (work_dirs/dicor_<set>): one folder per stage under it;
# FROM (1): the first step to run (a stopped pipeline continues with
# FROM=<step>; a stopped training continues with its own --resume);
# PYTHON (python). Extra arguments after GPUS go to every train.py call.
set -euo pipefail
SET=${1:-synthetic}
GPUS=${2:-1}
EXTRA=("${@:3}")
WORK=${WORK:-work_dirs/dicor_${SET}}
FROM=${FROM:-1}
PYTHON=${PYTHON:-python}
cd "$(dirname "$0")/../.."
C=configs/dicor
case "$SET" in
  synthetic)
    COARSE=$C/dicor-coarse_swin-mini_1xb8-10e_synthetic-128x128.py
    REFINER=$C/dicor-refiner_swin-mini_1xb16-10e_synthetic-128x128.py
    GUIDE=$C/dicor-guide_swin-mini_1xb8-10e_synthetic-128x128.py
    JOINT=$C/dicor-joint_swin-mini_1xb8-4e_synthetic-128x128.py
    FULL=$C/dicor_swin-mini_synthetic-128x128.py ;;
  refsegrs|rrsisd|risbench)
    COARSE=$C/dicor-coarse_swin-b_1xb8-40e_${SET}-480x480.py
    REFINER=$C/dicor-refiner_swin-b_1xb16-40e_${SET}-480x480.py
    GUIDE=$C/dicor-guide_swin-b_1xb8-40e_${SET}-480x480.py
    JOINT=$C/dicor-joint_swin-b_1xb8-10e_${SET}-480x480.py
    FULL=$C/dicor_swin-b_${SET}-480x480.py ;;
  *) echo "unknown set '$SET' (synthetic, refsegrs, rrsisd, risbench)" >&2
     exit 2 ;;
esac

train() {  # CONFIG WORK_DIR [--cfg-options ...]
  local config=$1 dir=$2; shift 2
  if [ "$GPUS" -gt 1 ]; then
    bash tools/dist_train.sh "$config" "$GPUS" --work-dir "$dir" "$@" \
      ${EXTRA[@]+"${EXTRA[@]}"}
  else
    "$PYTHON" tools/train.py "$config" --work-dir "$dir" "$@" \
      ${EXTRA[@]+"${EXTRA[@]}"}
  fi
}

TIMES=()
step() {  # NUMBER NAME COMMAND...
  local number=$1 name=$2; shift 2
  if [ "$number" -lt "$FROM" ]; then return; fi
  echo "=== step $number: $name"
  local start=$(date +%s)
  "$@"
  TIMES+=("step $number $name: $(( $(date +%s) - start )) s")
}

last() { cat "$1/last_checkpoint"; }  # the newest checkpoint of a run

step 1 coarse train "$COARSE" "$WORK/coarse"
step 2 prompt-bank "$PYTHON" tools/misc/build_prompt_bank.py "$COARSE" \
  "$WORK/coarse"
step 3 refiner train "$REFINER" "$WORK/refiner" --cfg-options \
  load_from="$WORK/coarse/best.pth" \
  train_dataloader.dataset.bank_dir="$WORK/coarse/prompt_bank"
step 4 guide train "$GUIDE" "$WORK/guide" --cfg-options \
  load_from="$WORK/coarse/best.pth" \
  train_dataloader.dataset.bank_dir="$WORK/coarse/prompt_bank"
# the reference hands the guide's last epoch on
step 5 joint train "$JOINT" "$WORK/joint" --cfg-options \
  load_from="$(last "$WORK/guide" 2>/dev/null || echo missing)" \
  model.refiner.init_cfg.checkpoint="$WORK/refiner/best.pth"
step 6 test "$PYTHON" tools/test.py "$FULL" "$WORK/joint/best.pth" \
  --work-dir "$WORK/test"
printf '%s\n' "${TIMES[@]}"
