#!/usr/bin/env bash
# The contractive citation grid with 5 seeds on a GPU, one process per
# (method, dataset, seed), PARALLEL at a time (default 12): the GPU code is
# launch-bound, so separate processes keep it busy. Records go to
# $W/citation-<dataset>-gpu/runs (default W=docs/records), resumed like any
# grid; after LIMIT seconds (default 330) no new run starts (runs in flight
# finish; each record is written atomically). Afterwards
# `python -m problems.report $W/citation-cora-gpu` (any machine) prints the
# tables. Run from the repository root on a machine with CuPy and a CUDA device.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1
PY=${PYTHON:-python3} W=${W:-docs/records} PARALLEL=${PARALLEL:-12} LIMIT=${LIMIT:-330}
LOGS=$(mktemp -d) start=$(date +%s)
echo "gpu_citation_grid: each run's output in $LOGS"
for m in neumann bptt tbptt cg rbp; do for s in 0 1 2 3 4; do for ds in cora pubmed; do
  echo "$m $ds $s"; done; done; done |
  timeout "$LIMIT" xargs -P "$PARALLEL" -L 1 sh -c '  # $0 python, $1 W, $2 start, $3 logs, $4-$6 the line
    "$0" -m problems.citation --backend gpu --dataset "$5" --method "$4" --seeds "$6-$6" \
      --quiet --no-plots --out "$1/citation-$5-gpu" > "$3/$4-$5-$6.txt" 2>&1
    echo "$4 $5 $6 rc=$? $(( $(date +%s) - $2 ))s"' "$PY" "$W" "$start" "$LOGS"
for ds in cora pubmed; do  # grid.json of the whole 5-seed grid, for the report
  timeout 25 "$PY" -m problems.citation --backend gpu --dataset "$ds" --seeds 5 --quiet \
    --no-plots --out "$W/citation-$ds-gpu" > /dev/null 2>&1
done
