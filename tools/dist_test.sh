#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py options]
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
source "$(dirname "$0")/_launch.sh"
torchrun_tool "$GPUS" test.py "$CONFIG" "$CHECKPOINT" "${@:4}"
