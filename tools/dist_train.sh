#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NPROC [train.py options]
# NPROC processes per node: one per GPU (NCCL), or CPU processes (gloo) when no GPU is seen.
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT as in the other OpenMMLab projects.
CONFIG=$1
GPUS=$2
source "$(dirname "$0")/_launch.sh"
torchrun_tool "$GPUS" train.py "$CONFIG" "${@:3}"
