#!/usr/bin/env bash
# Scene inference with N processes per node (torchrun): the rows of one
# scene, or a list of scenes, are split among the processes; one set of
# outputs, the same files as one process writes; each process resumes its
# own part.
#   bash tools/dist_infer_scene.sh CONFIG CHECKPOINT N SCENE [SCENE ...] \
#       TEXT [TEXT ...] [infer_scene.py options]
# Environment: NNODES (1), NODE_RANK (0), PORT (29500),
# MASTER_ADDR (127.0.0.1), THREADS (torch threads per process; 1).
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

OMP_NUM_THREADS=${THREADS:-1} \
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$(dirname "$0")/infer_scene.py" \
    --model "$CONFIG" "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
