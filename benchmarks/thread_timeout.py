"""Forward-pass time against OpenBLAS's idle-spin timeout (rbptk/_threads.py).

    python -m benchmarks.thread_timeout                        # 28 (OpenBLAS's default) and 17
    python -m benchmarks.thread_timeout --values 28,20,17,16 --rounds 7

OpenBLAS reads ``OPENBLAS_THREAD_TIMEOUT`` once, when it is loaded, so each
value runs in its own process; the values take turns within each round (a slow
phase of the machine then hits them alike). Each process times the forward pass
of every case (median of ``--calls`` calls after a warm-up); the table gives the
median over the rounds (min-max) and the ratio to the first value. Writes a
JSON record with the machine.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pathlib
import statistics
import subprocess
import sys

import rbptk  # before NumPy: its thread settings must precede OpenBLAS's loading
from problems import common

from . import cases
from .timing import measure


def child(cases_arg, calls):
    """Print {case: median forward ms} for this process's setting."""
    out = {}
    for name in cases_arg.split(","):
        c = cases.build(name)
        run = functools.partial(rbptk.forward, c.dynamics, c.h0, c.params, c.T, inputs=c.inputs)
        out[name] = 1e3 * measure(run, calls)["median"]
    print(json.dumps({"timeout": rbptk.openblas_thread_timeout(), "ms": out}))


def timeouts(text):
    """Comma-separated OpenBLAS timeout exponents, each 4 to 30 (OpenBLAS's range)."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 28,17, got {text!r}") from None
    if not values or any(not 4 <= v <= 30 for v in values):
        raise argparse.ArgumentTypeError(f"each value must be 4 to 30, got {text!r}")
    return values


def forward_times(value, args):
    """{case: forward ms} from a fresh interpreter running with this timeout."""
    env = {**os.environ, "OPENBLAS_THREAD_TIMEOUT": str(value)}
    cmd = [sys.executable, "-m", "benchmarks.thread_timeout", "--child",
           "--cases", args.cases, "--calls", str(args.calls)]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    if got["timeout"] != value:
        raise RuntimeError(f"the child ran with timeout {got['timeout']}, not {value}")
    return got["ms"]


def main(argv=None):
    parser = common.Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases", **common.choice_list_option(cases.CASES, "gnn-pubmed,gnn-cora,hopfield")
    )
    parser.add_argument(
        "--values",
        type=timeouts,
        default=[28, 17],
        help="comma-separated exponents, 4 to 30; the first is the reference of the ratios",
    )
    parser.add_argument("--rounds", type=common.integer(1), default=5)
    parser.add_argument("--calls", type=common.integer(1), default=11)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--out", type=pathlib.Path, default=pathlib.Path("results/thread-timeout.json")
    )
    args = parser.parse_args(argv)
    if args.child:
        return child(args.cases, args.calls)
    samples = {v: [] for v in args.values}
    for r in range(args.rounds):
        for v in args.values:
            samples[v].append(forward_times(v, args))
        print(f"round {r + 1} of {args.rounds} done", file=sys.stderr)
    rows = []
    for name in args.cases.split(","):
        base = statistics.median(s[name] for s in samples[args.values[0]])
        for v in args.values:
            ms = [s[name] for s in samples[v]]
            med = statistics.median(ms)
            rows.append({"case": name, "timeout": v, "ms": med, "min": min(ms), "max": max(ms),
                         "ratio": med / base})  # fmt: skip
    machine = common.machine()
    print(f"\nforward pass, {args.rounds} rounds, {machine}\n")
    print(common.format_table(rows, [
        ("case", "case", "s"), ("timeout", "OPENBLAS_THREAD_TIMEOUT", "d"),
        ("ms", "forward ms", ".1f"), ("min", "min", ".1f"), ("max", "max", ".1f"),
        ("ratio", f"/ {args.values[0]}", ".2f"),
    ]))  # fmt: skip
    common.write_record(args.out, {"config": vars(args), "rows": rows, "samples": samples},
                        indent=1)  # fmt: skip
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
