#!/usr/bin/env bash
# Scene inference on a SLURM cluster (see dist_infer_scene.sh).
#   bash tools/slurm_infer_scene.sh PARTITION JOB_NAME CONFIG CHECKPOINT \
#       SCENE [SCENE ...] TEXT [TEXT ...] [infer_scene.py options]
# Environment: TASKS (4), TASKS_PER_NODE (4), CPUS_PER_TASK (5), GPUS_PER_NODE
# (0: CPUs only), SRUN_ARGS.
set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
TASKS=${TASKS:-4}
TASKS_PER_NODE=${TASKS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GPUS_PER_NODE=${GPUS_PER_NODE:-0}
SRUN_ARGS=${SRUN_ARGS:-""}
PY_ARGS=("${@:5}")
GRES=()
if [ "$GPUS_PER_NODE" -gt 0 ]; then
    GRES=(--gres=gpu:"$GPUS_PER_NODE")
fi

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    "${GRES[@]}" \
    --ntasks="$TASKS" \
    --ntasks-per-node="$TASKS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    python -u "$(dirname "$0")/infer_scene.py" \
    --model "$CONFIG" "$CHECKPOINT" \
    --launcher=slurm "${PY_ARGS[@]}"
