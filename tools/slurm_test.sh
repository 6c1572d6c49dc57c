#!/usr/bin/env bash
# Usage: [GPUS=8 GPUS_PER_NODE=8 CPUS_PER_TASK=5 SRUN_ARGS=...] \
#        tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
source "$(dirname "$0")/_launch.sh"
srun_tool "$1" "$2" test.py "$3" "$4" "${@:5}"
