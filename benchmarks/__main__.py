"""python -m benchmarks: method against method, the truncation sweep, kernels,
and peers (PyTorch, JAX) when the 'compare' extra is installed.

Every time is a median over --repeats runs after a warm-up (min and max kept);
memory is the peak extra memory of one gradient (tracemalloc on the CPU, the CuPy
pool on the GPU). Comparisons are measured side by side in this one run.
"""

from __future__ import annotations

import json
import pathlib

import rbptk
from problems import common

from . import cases, kernels_bench, peers, scaling, sweep
from .methods_bench import bench_methods
from .timing import copy_bandwidth, ms

SECTIONS = ("methods", "sweep", "kernels", "scaling", "peers")


def main(argv=None):
    parser = common.Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", **common.choice_list_option(SECTIONS))
    parser.add_argument("--cases", **common.choice_list_option(cases.CASES))
    parser.add_argument("--repeats", type=common.integer(1), default=5)
    parser.add_argument("--sweep-case", default="gnn-cora-contractive")
    parser.add_argument("--backend", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("results/bench"))
    parser.add_argument(
        "--show",
        type=pathlib.Path,
        metavar="RESULTS_JSON",
        help="print the tables of a saved results.json (e.g. benchmarks/records/*.json) and exit",
    )
    args = parser.parse_args(argv)
    if args.show is not None:
        show(json.loads(args.show.read_text()))
        return
    if args.repeats < 5:
        print("note: fewer than 5 repeats; figures are less reliable than the README's")
    common.setup_backend(args.backend)
    gpu = args.backend == "gpu"
    sections = set(args.only.split(","))
    needs_cases = sections & {"methods", "kernels", "peers"}
    built = {name: cases.build(name) for name in args.cases.split(",")} if needs_cases else {}
    results = {"repeats": args.repeats, "backend": args.backend}
    if "methods" in sections:
        rows = []
        for case in built.values():
            case_rows = bench_methods(case, rbptk.PAPER_METHODS, repeats=args.repeats, gpu=gpu)
            rows += case_rows
            for r in case_rows:
                print(
                    f"{case.name:10s} {r['method']:8s} total {ms(r['total'])} ms, "
                    f"{r['peak_bytes'] / 2**20:.1f} MB",
                    flush=True,
                )
        results["methods"] = rows
        print("\n" + methods_table(rows))
    if "sweep" in sections:
        case = built.get(args.sweep_case) or cases.build(args.sweep_case)
        rows = sweep.sweep(case, repeats=args.repeats, gpu=gpu)
        results["sweep"] = rows
        print("\n" + sweep_table(rows))
    if "kernels" in sections and not gpu:
        gnn = [c for c in built.values() if "A" in c.extra]
        rows = [r for c in gnn for r in kernels_bench.gnn_rows(c, args.repeats)]
        rows += [r for c in gnn for r in kernels_bench.parallel_rows(c)]
        bandwidth = copy_bandwidth()
        results["kernels"] = {"rows": rows, "copy_GBps": bandwidth / 1e9}
        print(f"\nmemory copy bandwidth {bandwidth / 1e9:.1f} GB/s\n" + kernel_table(rows))
    if "scaling" in sections and not gpu:
        results["scaling"] = scaling.scaling(repeats=args.repeats)
        print("\n" + scaling.table(results["scaling"]))
    if "peers" in sections:
        results["peers"] = peers.run(built, args.repeats, gpu)
        if results["peers"]:
            print("\n" + peers.table(results["peers"]))
    args.out.mkdir(parents=True, exist_ok=True)
    plots = sweep.plot(results["sweep"], args.out) if "sweep" in results else []
    path = common.write_results(args.out, results)
    print(f"\nwrote {path}" + "".join(f", {p}" for p in plots))


def show(results):
    """The tables of a saved run, as the run printed them."""
    print(
        f"{results['date']}, {results['machine']}, backend {results['backend']}, "
        f"medians of {results['repeats']} repeats"
    )
    if "methods" in results:
        print("\n" + methods_table(results["methods"]))
    if "sweep" in results:
        print("\n" + sweep_table(results["sweep"]))
    if "kernels" in results:
        print("\n" + kernel_table(results["kernels"]["rows"]))
    if "scaling" in results:
        print("\n" + scaling.table(results["scaling"]))
    if results.get("peers"):
        print("\n" + peers.table(results["peers"]))


def methods_table(rows):
    return common.format_table(
        [
            {
                "case": r["case"],
                "method": r["method"],
                "fwd": ms(r["forward"]),
                "back": ms(r["backward"]),
                "total": ms(r["total"]),
                "mb": r["peak_bytes"] / 2**20,
                "roof": r["roofline_ratio"],
                "status": r["status"],
            }
            for r in rows
        ],
        [
            ("case", "case", "s"),
            ("method", "method", "s"),
            ("fwd", "forward ms", "s"),
            ("back", "backward ms", "s"),
            ("total", "total ms (min-max)", "s"),
            ("mb", "peak MB", ".1f"),
            ("roof", "x roofline", ".2f"),
            ("status", "status", "s"),
        ],
    )


def sweep_table(rows):
    by_k = {}
    for r in rows:
        by_k.setdefault(r["K"], {})[r["method"]] = r
    table = []
    for K, pair in by_k.items():
        n, t = pair["neumann"], pair["tbptt"]
        table.append(
            {
                "K": K,
                "tb_total": 1e3 * t["total"]["median"],
                "ne_total": 1e3 * n["total"]["median"],
                "total_ratio": n["total"]["median"] / t["total"]["median"],
                "back_ratio": n["backward"]["median"] / t["backward"]["median"],
                "tb_mb": t["peak_bytes"] / 2**20,
                "ne_mb": n["peak_bytes"] / 2**20,
            }
        )
    return common.format_table(
        table,
        [
            ("K", "K", "d"),
            ("tb_total", "tbptt ms", ".0f"),
            ("ne_total", "neumann ms", ".0f"),
            ("total_ratio", "neumann/tbptt total", ".2f"),
            ("back_ratio", "neumann/tbptt backward", ".2f"),
            ("tb_mb", "tbptt MB", ".1f"),
            ("ne_mb", "neumann MB", ".1f"),
        ],
    )


def kernel_table(rows):
    return common.format_table(
        [
            {
                "kernel": r["kernel"],
                "numba": ms(r["numba"]),
                "scipy": ms(r["scipy"]),
                "speedup": r["speedup"],
                "gbps": r["GBps"],
                "of_copy": r["of_copy"],
            }
            for r in rows
        ],
        [
            ("kernel", "kernel", "s"),
            ("numba", "numba ms", "s"),
            ("scipy", "library ms (scipy; gates: NumPy; tanh: np.tanh)", "s"),
            ("speedup", "speed-up", ".2f"),
            ("gbps", "GB/s", ".1f"),
            ("of_copy", "of copy BW", ".2f"),
        ],
    )


if __name__ == "__main__":
    main()
