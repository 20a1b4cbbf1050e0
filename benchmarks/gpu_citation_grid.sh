#!/usr/bin/env bash
# The citation grids with 5 seeds on a GPU, one process per (method, dataset,
# seed), PARALLEL at a time (default 12): the GPU code is launch-bound, so
# separate processes keep it busy. SETTING=contractive (default) runs the
# default-length contractive grid into $W/citation-<dataset>-gpu; SETTING=reference
# runs the reference setting's full 2000 epochs into
# $W/citation-<dataset>-reference-full-gpu (W default docs/records), seed by
# seed so that every method has as many seeds as possible when the time runs
# out. Finished runs are skipped; a run cut short resumes from its checkpoint
# (every 50 epochs, under OUT/checkpoints: copy them back with the records).
# After LIMIT seconds (default 330) no new run starts (runs in flight finish;
# each record is written atomically). Afterwards `python -m problems.report
# $W/citation-cora-gpu` (any machine) prints the tables. Run from the
# repository root on a machine with CuPy and a CUDA device.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1
PY=${PYTHON:-python3} W=${W:-docs/records} PARALLEL=${PARALLEL:-12} LIMIT=${LIMIT:-330}
SETTING=${SETTING:-contractive}
case "$SETTING" in
  contractive) FLAGS="" SUFFIX="gpu" ;;
  reference) FLAGS="--setting reference --full" SUFFIX="reference-full-gpu" ;;
  *) echo "gpu_citation_grid: SETTING must be contractive or reference, got $SETTING" >&2; exit 2 ;;
esac
LOGS=$(mktemp -d) start=$(date +%s)
echo "gpu_citation_grid: setting $SETTING, each run's output in $LOGS"
for s in 0 1 2 3 4; do for m in neumann bptt tbptt cg rbp; do for ds in cora pubmed; do
  echo "$m $ds $s"; done; done; done |
  timeout "$LIMIT" xargs -P "$PARALLEL" -L 1 sh -c '  # $0 python, $1 W, $2 start, $3 logs, $4 flags, $5 suffix, $6-$8 the line
    "$0" -m problems.citation --backend gpu $4 --dataset "$7" --method "$6" --seeds "$8-$8" \
      --quiet --no-plots --out "$1/citation-$7-$5" > "$3/$6-$7-$8.txt" 2>&1
    echo "$6 $7 $8 rc=$? $(( $(date +%s) - $2 ))s"' "$PY" "$W" "$start" "$LOGS" "$FLAGS" "$SUFFIX"
for ds in cora pubmed; do  # grid.json of the whole 5-seed grid, for the report
  timeout 25 "$PY" -m problems.citation --backend gpu $FLAGS --dataset "$ds" --seeds 5 --quiet \
    --no-plots --out "$W/citation-$ds-$SUFFIX" > /dev/null 2>&1
done
