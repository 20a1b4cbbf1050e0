"""Runs per hour of a citation grid: in-process against a Dask LocalCluster.

    python -m benchmarks.grid_throughput                  # cora, 2 methods x 4 seeds
    python -m benchmarks.grid_throughput --workers 2 --epochs 20

Runs the same grid (``problems.citation``, fresh output folders) once with
``--scheduler none`` (one process, all cores to BLAS and numba) and once with
``--scheduler local --workers N`` (N single-threaded processes, each pinned to
cores / N threads), then a second time on the finished folder (resumption:
nothing to run). Prints the table and writes a JSON record with the machine.
"""

from __future__ import annotations

import pathlib
import tempfile
import time

from problems import citation, common, runner


def timed_grid(argv):
    start = time.perf_counter()
    citation.main(argv)
    return time.perf_counter() - start


def main(argv=None):
    parser = common.Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="cora", choices=["cora", "pubmed"])
    parser.add_argument("--methods", default="tbptt,neumann")
    parser.add_argument("--seeds", default="4")
    parser.add_argument("--epochs", type=common.integer(1), default=20)
    parser.add_argument("--workers", type=common.integer(1), default=2)
    parser.add_argument(
        "--out", type=pathlib.Path, default=pathlib.Path("results/grid-throughput.json")
    )
    args = parser.parse_args(argv)
    grid = ["--dataset", args.dataset, "--method", args.methods, "--seeds", args.seeds,
            "--epochs", str(args.epochs), "--quiet", "--no-plots"]  # fmt: skip
    n_runs = len(args.methods.split(",")) * len(runner.parse_seeds(args.seeds))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in (
            ("none", []),
            (
                f"local, {args.workers} workers",
                ["--scheduler", "local", "--workers", str(args.workers)],
            ),
        ):
            out = ["--out", str(pathlib.Path(tmp) / name.split(",")[0])]
            seconds = timed_grid([*grid, *extra, *out])
            again = timed_grid([*grid, *extra, *out])
            rate = 3600 * n_runs / seconds
            rows.append({"scheduler": name, "runs": n_runs, "seconds": seconds,
                         "runs_per_hour": rate, "resume_seconds": again})  # fmt: skip
    table = common.format_table(
        rows,
        [
            ("scheduler", "scheduler", "s"),
            ("runs", "runs", "d"),
            ("seconds", "wall s", ".1f"),
            ("runs_per_hour", "runs/hour", ".0f"),
            ("resume_seconds", "2nd call s", ".2f"),
        ],
    )
    print(f"\n{args.dataset} grid: {args.methods} x seeds {args.seeds}, {args.epochs} epochs\n")
    print(table)
    common.write_record(args.out, {"config": vars(args), "rows": rows}, indent=1)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
