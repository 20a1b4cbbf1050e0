#!/usr/bin/env bash
# For a session lent a GPU machine: the GPU tests, then the GPU benchmark
# (method against method on CuPy, and CuPy against PyTorch CUDA autograd),
# sized to finish in under 8 minutes. Needs a CUDA device, rbptk's runtime
# dependencies with CuPy (pip install -e ".[gpu]"), the test extra
# (pip install -e ".[test]") and, for the peer rows, PyTorch with CUDA.
# Runs from the repository root without installing (PYTHONPATH); PYTHON picks
# the interpreter (default python3), OUT the results folder (default results).
# Stops at once, with a one-line reason, when something it needs is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OUT=${OUT:-results}
stage() { echo "== gpu_check: $*"; }

stage "looking for CuPy and a CUDA device"
"$PY" - <<'PY' || exit 1
import sys
try:
    import cupy
    n = cupy.cuda.runtime.getDeviceCount()
except Exception as err:  # ImportError, or a CUDA error
    sys.exit(f"gpu_check: stopped: CuPy cannot reach a CUDA device ({type(err).__name__}: {err})")
if n == 0:
    sys.exit("gpu_check: stopped: CuPy sees no CUDA device on this machine")
name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
print(f"CuPy {cupy.__version__}, {n} device(s), device 0: {name}")
PY
stage "looking for the test extra"
"$PY" - <<'PY' || exit 1
import importlib.util, sys
missing = [m for m in ("pytest", "hypothesis", "array_api_strict") if not importlib.util.find_spec(m)]
if missing:
    sys.exit(f"gpu_check: stopped: the test extra is missing ({', '.join(missing)}): "
             'pip install -e ".[test]"')
PY
stage "GPU tests (pytest -m gpu)"
tests=0
timeout 260 "$PY" -m pytest -m gpu -q -rs -p no:cacheprovider || tests=$?
stage "GPU benchmark: methods and peers on hopfield, gnn-cora, gnn-pubmed"
timeout 300 "$PY" -m benchmarks --backend gpu --only methods,peers \
  --cases hopfield,gnn-cora,gnn-pubmed --repeats 5 --out "$OUT/bench_gpu"
stage "done: results in $OUT/bench_gpu; GPU tests exit code $tests"
exit "$tests"
