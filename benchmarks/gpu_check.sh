#!/usr/bin/env bash
# For a session lent a GPU machine: the GPU tests, then the GPU benchmark
# (method against method on CuPy, and CuPy against PyTorch CUDA autograd),
# sized to finish in under 8 minutes. Needs CuPy, numba and scipy (PyTorch for
# the peer rows) and a CUDA device; runs from the repository root without
# installing (PYTHONPATH). PYTHON picks the interpreter (default python3).
# UNVERIFIED until a session with a GPU runs it: record its result in the issue.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OUT=${OUT:-results}
"$PY" -c "import rbptk; rbptk.set_backend('gpu'); print('CUDA device visible')"
timeout 150 "$PY" -m pytest -m gpu -q -rs -p no:cacheprovider
timeout 300 "$PY" -m benchmarks --backend gpu --only methods,peers \
  --cases hopfield,gnn-cora,gnn-pubmed --repeats 5 --out "$OUT/bench_gpu"
