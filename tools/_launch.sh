# Sourced by the launcher scripts. Chooses the interpreter ($PYTHON wins; otherwise the
# project's .venv when it exists; otherwise `python` on PATH), puts the repo on
# PYTHONPATH, and defines `torchrun_tool NPROC SCRIPT ARGS...`, which starts NPROC
# processes on this node with torch.distributed.run (NNODES, NODE_RANK, MASTER_ADDR,
# PORT as in the other OpenMMLab projects).
_EOFM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$_EOFM_ROOT/.venv/bin/python" ]; then
    PYTHON="$_EOFM_ROOT/.venv/bin/python"
  else
    PYTHON=python
  fi
fi
export PYTHONPATH="$_EOFM_ROOT${PYTHONPATH:+:$PYTHONPATH}"

torchrun_tool() {
  local nproc=$1 script=$2
  shift 2
  "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$nproc" \
    --master_port="${PORT:-29500}" \
    "$_EOFM_ROOT/tools/$script" "$@" --launcher pytorch
}

# `srun_tool PARTITION JOB_NAME SCRIPT ARGS...`: one task per GPU under SLURM
# (GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS as in the other OpenMMLab projects).
srun_tool() {
  local partition=$1 job=$2 script=$3
  shift 3
  set -x
  srun -p "$partition" \
    --job-name="$job" \
    --gres=gpu:"${GPUS_PER_NODE:-8}" \
    --ntasks="${GPUS:-8}" \
    --ntasks-per-node="${GPUS_PER_NODE:-8}" \
    --cpus-per-task="${CPUS_PER_TASK:-5}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS:-} \
    "$PYTHON" -u "$_EOFM_ROOT/tools/$script" "$@" --launcher=slurm
}
