# Sourced by the launcher scripts: the interpreter to use. $PYTHON wins; otherwise the
# project's .venv when it exists; otherwise `python` on PATH.
_EOFM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$_EOFM_ROOT/.venv/bin/python" ]; then
    PYTHON="$_EOFM_ROOT/.venv/bin/python"
  else
    PYTHON=python
  fi
fi
export PYTHONPATH="$_EOFM_ROOT${PYTHONPATH:+:$PYTHONPATH}"
