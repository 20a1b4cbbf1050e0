#!/usr/bin/env bash
# For a session lent a GPU machine: the GPU tests, then the GPU benchmark
# (method against method on CuPy), sized to finish in under 8 minutes.
# Needs CuPy installed (pip install -e ".[test,problems,gpu]") and a CUDA device.
# UNVERIFIED: written in a session without a GPU; run it and record the result.
set -euo pipefail
cd "$(dirname "$0")/.."
python -c "import rbptk; rbptk.set_backend('gpu'); print('CUDA device visible')"
timeout 180 python -m pytest -m gpu -q -p no:cacheprovider
timeout 300 python -m benchmarks --backend gpu --only methods --cases hopfield,gnn-cora,gnn-pubmed \
  --repeats 5 --out "${OUT:-results}/bench_gpu"
