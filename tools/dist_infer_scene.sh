#!/usr/bin/env bash
# Usage: tools/dist_infer_scene.sh CONFIG CHECKPOINT SCENE NPROC [infer_scene.py options]
# NPROC processes take disjoint blocks of the scene (one per GPU with NCCL, or CPU
# processes with gloo); rank 0 writes the files, byte-identical to one process at the
# same --threads.
CONFIG=$1
CHECKPOINT=$2
SCENE=$3
NPROC=$4
source "$(dirname "$0")/_launch.sh"
torchrun_tool "$NPROC" infer_scene.py "$CONFIG" "$CHECKPOINT" "$SCENE" "${@:5}"
