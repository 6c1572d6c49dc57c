#!/usr/bin/env bash
# Set up eofm's project-local environment in .venv/ on a fresh machine, idempotently.
#
#   bash tools/setup_env.sh          # what `make setup` runs
#
# Environment variables:
#   EOFM_PYTHON      interpreter for the venv (default: python3.11 or python3; must be 3.11)
#   EOFM_VENV        venv folder (default: .venv in the repo)
#   EOFM_CACHE_DIR   cache for the wheels built here (default: ~/.cache/eofm)
#   EOFM_MMCV_WHEEL  a prebuilt mmcv 2.0.1 wheel with ops to install instead of building one
#   EOFM_NO_APT=1    never call apt-get (GDAL must then already be installed)
#   FORCE_CUDA=1     build mmcv's CUDA ops too (needs nvcc; default: only when a GPU is seen)
#
# A second run checks a stamp (hash of the requirement files and of this script) and returns in
# seconds when nothing changed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV=${EOFM_VENV:-$ROOT/.venv}
CACHE=${EOFM_CACHE_DIR:-$HOME/.cache/eofm}
MMCV_VERSION=2.0.1
STAMP=$VENV/.eofm-setup-stamp

log() { printf '\033[1;34m[eofm setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[eofm setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

want_stamp() {
  cat requirements/*.txt setup.py tools/setup_env.sh | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------- interpreter and venv
PY=${EOFM_PYTHON:-$(command -v python3.11 || command -v python3 || true)}
[ -n "$PY" ] || die "no python3 found; install Python 3.11 or set EOFM_PYTHON"
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$pyver" = "3.11" ] || die "eofm's pinned stack needs Python 3.11, $PY is $pyver (set EOFM_PYTHON)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(want_stamp)" ] \
   && "$VENV/bin/python" -c 'import eofm' 2>/dev/null; then
  log "environment is up to date ($VENV)"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PY" -m venv "$VENV"
fi
VPY=$VENV/bin/python
# --isolated: ignore the machine's pip configuration, which may prefer a local CPU-only torch
# wheel that has no torchvision build; take torch and torchvision as a pair from the registry.
PIP=("$VPY" -m pip --isolated --disable-pip-version-check)
CONSTRAINTS=$(mktemp)
trap 'rm -f "$CONSTRAINTS"' EXIT
# Everything later is installed under these constraints so that nothing drifts to another torch.
grep -hE '^[A-Za-z0-9_.-]+==' requirements/runtime.txt requirements/mminstall.txt > "$CONSTRAINTS"
TORCH_PIN=$(grep -E '^torch==' requirements/runtime.txt | cut -d= -f3)
TV_PIN=$(grep -E '^torchvision==' requirements/runtime.txt | cut -d= -f3)

# ---------------------------------------------------------------- torch + torchvision
if ! "$VPY" - "$TORCH_PIN" "$TV_PIN" <<'EOF' 2>/dev/null
import sys, torch, torchvision
assert torch.__version__.split('+')[0] == sys.argv[1], torch.__version__
assert torchvision.__version__.split('+')[0] == sys.argv[2], torchvision.__version__
torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)  # the C++ ops really load
EOF
then
  log "installing torch==$TORCH_PIN torchvision==$TV_PIN (about 5 GB with the CUDA libraries)"
  "${PIP[@]}" install "torch==$TORCH_PIN" "torchvision==$TV_PIN"
fi

log "installing build tools and numpy"
"${PIP[@]}" install -q -c "$CONSTRAINTS" -r requirements/build.txt numpy

# ---------------------------------------------------------------- mmcv with ops
has_mmcv_ops() {
  "$VPY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null
}
if ! has_mmcv_ops; then
  if "$VPY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null \
     || [ "${FORCE_CUDA:-0}" = "1" ]; then
    flavour=cuda
  else
    flavour=cpu
  fi
  tag=$("$VPY" -c "import sys, torch; print(f'py{sys.version_info[0]}{sys.version_info[1]}-torch{torch.__version__.split(\"+\")[0]}')")-$flavour
  wheel_dir=$CACHE/wheels/mmcv-$MMCV_VERSION-$tag
  wheel=${EOFM_MMCV_WHEEL:-}
  if [ -n "$wheel" ]; then
    [ -f "$wheel" ] || die "EOFM_MMCV_WHEEL=$wheel does not exist"
    log "using the prebuilt mmcv wheel $wheel"
  else
    wheel=$(ls "$wheel_dir"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n1 || true)
  fi
  if [ -z "$wheel" ]; then
    log "building mmcv $MMCV_VERSION with $flavour ops (once; cached in $wheel_dir)"
    log "this takes about 15-25 minutes on 2 cores; full log: $CACHE/mmcv-build.log"
    mkdir -p "$CACHE"
    build=$(mktemp -d)
    "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation \
      "mmcv==$MMCV_VERSION" -d "$build"
    tar -xzf "$build"/mmcv-$MMCV_VERSION.tar.gz -C "$build"
    src=$build/mmcv-$MMCV_VERSION
    # mmcv 2.0.1 compiles with C++14, torch 2.13's headers need C++17.
    sed -i -e 's/-std=c++14/-std=c++17/g' -e 's#/std:c++14#/std:c++17#g' "$src/setup.py"
    if grep -qE -- "(-std=|/std:)c\+\+14" "$src/setup.py"; then
      die "could not switch mmcv's setup.py to C++17"
    fi
    export MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)}
    [ "$flavour" = cuda ] && export FORCE_CUDA=1
    # ninja prints "[k/N] ..." per object: show those lines as progress, keep the rest in the log.
    (cd "$src" && "${PIP[@]}" wheel -v --no-build-isolation --no-deps . -w "$build/dist") \
      2>&1 | tee "$CACHE/mmcv-build.log" \
      | sed -unE 's#^\s*\[([0-9]+/[0-9]+)\].* -c (\S+/)?(\S+\.(cpp|cu)) -o .*#  mmcv build [\1] \3#p' \
      || die "mmcv build failed; see $CACHE/mmcv-build.log"
    built=$(ls "$build"/dist/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n1 || true)
    [ -n "$built" ] || die "mmcv build failed; see $CACHE/mmcv-build.log"
    mkdir -p "$wheel_dir"
    # Copy then rename: an interrupted copy never leaves a half wheel in the cache.
    cp "$built" "$wheel_dir/.partial" && mv "$wheel_dir/.partial" "$wheel_dir/$(basename "$built")"
    wheel=$wheel_dir/$(basename "$built")
    rm -rf "$build"
  else
    log "reusing cached mmcv wheel $wheel"
  fi
  "${PIP[@]}" install -q -c "$CONSTRAINTS" "$wheel"
  has_mmcv_ops || die "mmcv installed from $wheel but mmcv.ops does not import"
fi

# ---------------------------------------------------------------- GDAL
if ! command -v gdal-config >/dev/null 2>&1; then
  if [ "${EOFM_NO_APT:-0}" != "1" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "installing Debian's libgdal-dev"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgdal-dev gdal-bin >/dev/null
  else
    die "GDAL is missing: install libgdal-dev (Debian/Ubuntu: sudo apt-get install libgdal-dev gdal-bin), then run this again"
  fi
fi
GDAL_VERSION=$(gdal-config --version)
if ! "$VPY" -c "from osgeo import gdal; assert gdal.__version__ == '$GDAL_VERSION'" 2>/dev/null; then
  gdal_dir=$CACHE/wheels/gdal-$GDAL_VERSION-$("$VPY" -c 'import sys, numpy; print(f"py{sys.version_info[0]}{sys.version_info[1]}-numpy{numpy.__version__}")')
  gwheel=$(ls "$gdal_dir"/GDAL-*.whl "$gdal_dir"/gdal-*.whl 2>/dev/null | head -n1 || true)
  if [ -z "$gwheel" ]; then
    log "building GDAL==$GDAL_VERSION Python bindings against the system libgdal (about a minute)"
    gbuild=$(mktemp -d)
    "${PIP[@]}" wheel -q --no-build-isolation --no-deps "GDAL==$GDAL_VERSION" -w "$gbuild"
    mkdir -p "$gdal_dir"
    gbuilt=$(ls "$gbuild"/*.whl | head -n1)
    cp "$gbuilt" "$gdal_dir/.partial" && mv "$gdal_dir/.partial" "$gdal_dir/$(basename "$gbuilt")"
    gwheel=$gdal_dir/$(basename "$gbuilt")
    rm -rf "$gbuild"
  fi
  "${PIP[@]}" install -q --no-deps "$gwheel"
fi

# ---------------------------------------------------------------- OpenMMLab stack and eofm
log "installing the OpenMMLab stack, test tools and eofm (editable)"
"${PIP[@]}" install -q -c "$CONSTRAINTS" -r requirements/runtime.txt -r requirements/mminstall.txt \
  -r requirements/tests.txt
"${PIP[@]}" install -q -c "$CONSTRAINTS" --no-build-isolation --no-deps -e .

log "checking the environment"
"$VPY" -m eofm.utils.collect_env --check
want_stamp > "$STAMP"
log "done: activate with 'source $VENV/bin/activate'"
