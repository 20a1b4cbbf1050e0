"""What every experiment program shares: CLI options, backend set-up, progress,
results files, tables and plots."""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import platform
import sys
import time

import numpy as np

import rbptk
from rbptk.registry import spec

from . import runner

METHODS = list(rbptk.METHODS)
FORWARDS = ["plain", "anderson"]


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def integer(minimum):
    """argparse type: an integer >= ``minimum``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def number(low=None, high=None, *, low_open=False, high_open=False):
    """argparse type: a finite float in the interval [low, high] (ends open if asked)."""
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    interval = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        ok = math.isfinite(value)
        ok = ok and (low is None or (value > low if low_open else value >= low))
        ok = ok and (high is None or (value < high if high_open else value <= high))
        if not ok:
            raise argparse.ArgumentTypeError(f"must be a number in {interval}, got {text!r}")
        return value

    parse.__name__ = f"number in {interval}"
    return parse


def check_truncation(parser, args):
    """TBPTT's K cannot exceed T: refuse it at the command line."""
    if ("tbptt" in args.method or "all" in args.method) and args.truncate > args.steps:
        parser.error(
            f"--truncate {args.truncate} exceeds --steps {args.steps} (tbptt needs K <= T)"
        )


def base_parser(description, out_default, seeds="1"):
    """A :class:`Parser` with --method, --forward, --backend, --seeds, --dtype, --out,
    --no-plots, --quiet and the grid options --scheduler, --workers, --rerun,
    --checkpoint-every."""
    parser = Parser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        "--method",
        default="all",
        type=method_list,
        help="gradient method(s), comma-separated (e.g. neumann,bptt); 'all' runs the "
        f"paper's five on the same seeds; known: {', '.join(METHODS)}",
    )
    parser.add_argument(
        "--forward",
        default="plain",
        choices=FORWARDS,
        help="forward pass: plain iteration, or Anderson acceleration to the fixed point "
        "(rbp / cg / neumann / Krylov methods only)",
    )
    parser.add_argument(
        "--backend",
        default=os.environ.get("RBPTK_BACKEND", "cpu").strip().lower() or "cpu",
        choices=["cpu", "gpu"],
        help="where arrays live (gpu needs CuPy + CUDA); default from RBPTK_BACKEND",
    )
    parser.add_argument(
        "--seeds",
        type=seed_list,
        default=seed_list(seeds),
        help="seeds: a count (3: seeds 0, 1, 2), a range (2-4) or a list (0,3)",
    )
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path(out_default),
        help="folder for results.json and the PNG plots",
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    grid = parser.add_argument_group("grid (problems/runner.py; docs/scaling.md)")
    grid.add_argument(
        "--scheduler",
        default="none",
        type=scheduler_name,
        help="none: in this process, one run after another; local: a Dask LocalCluster of "
        "--workers processes; or the address of a Dask scheduler (tcp://host:8786)",
    )
    grid.add_argument(
        "--workers",
        type=integer(1),
        default=None,
        help="local scheduler: worker processes (default: cores)",
    )
    grid.add_argument(
        "--rerun", action="store_true", help="redo runs whose record exists in OUT/runs"
    )
    grid.add_argument(
        "--checkpoint-every",
        type=integer(0),
        default=50,
        help="epochs between checkpoints in OUT/checkpoints (0: none)",
    )
    return parser


def method_list(text):
    """argparse type: comma-separated method names, or 'all'."""
    names = [n.strip() for n in text.split(",")]
    unknown = [n for n in names if n not in METHODS + ["all"]]
    if unknown or not names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"must be 'all' or distinct names among {', '.join(METHODS)}, got {text!r}"
        )
    return names


def choice_list(known):
    """argparse type: comma-separated names, each one of ``known``; returns the
    text as given."""

    def parse(text):
        unknown = sorted(set(text.split(",")) - set(known))
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {', '.join(unknown)}; choose from {', '.join(known)}"
            )
        return text

    return parse


def choice_list_option(known, default=None):
    """add_argument keywords for a comma-separated subset of ``known``
    (default: all of them), checked by :func:`choice_list`."""
    return {
        "type": choice_list(known),
        "default": default or ",".join(known),
        "help": f"comma-separated, of {', '.join(known)}",
    }


def scheduler_name(text):
    """argparse type: 'none', 'local', or a Dask scheduler address (scheme://host:port)."""
    if text in ("none", "local") or ("://" in text and text.split("://", 1)[1]):
        return text
    raise argparse.ArgumentTypeError(
        f"must be none, local or a scheduler address such as tcp://host:8786, got {text!r}"
    )


def seed_list(text):
    """argparse type: seeds as a count, a range a-b or a list (runner.parse_seeds)."""
    try:
        return runner.parse_seeds(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def selected_methods(names, forward="plain"):
    """The methods a grid trains, in order: 'all' expands to the paper's five
    (those that can use an Anderson forward pass when ``forward`` is 'anderson')."""
    if isinstance(names, str):
        names = [names]
    names = list(
        dict.fromkeys(m for n in names for m in (rbptk.PAPER_METHODS if n == "all" else [n]))
    )
    if forward == "anderson":
        names = [m for m in names if not spec(m).trajectory]
        if not names:
            print(
                "error: --forward anderson needs rbp, cg, neumann or a Krylov method",
                file=sys.stderr,
            )
            sys.exit(2)
    return names


def setup_backend(name):
    """Switch rbptk to ``name`` and return the array module (numpy or cupy).

    Exits with a one-line message and status 2 when the name is unknown (e.g.
    from RBPTK_BACKEND) or the GPU is asked for and unusable.
    """
    try:
        rbptk.set_backend(name)
        return rbptk.backend.namespace()
    except (rbptk.BackendError, ValueError) as err:
        print(f"error: --backend / RBPTK_BACKEND: {err}", file=sys.stderr)
        sys.exit(2)


def progress(iterable, total, desc, quiet=False):
    """tqdm progress bar on stderr (plain iteration when quiet or tqdm is missing)."""
    if quiet:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)


SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "amx_tile")


def cpu_model():
    """CPU model name and its SIMD flags (from /proc/cpuinfo on Linux)."""
    try:
        info = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line and "\t" in line)
    name = fields.get("model name\t", "unknown CPU").strip()
    flags = set(fields.get("flags\t\t", "").split())
    simd = [f for f in SIMD_FLAGS if f in flags]
    return f"{name} ({', '.join(simd) or 'no AVX2'})"


def machine():
    """One line describing this machine, for results and README tables: CPU
    model and SIMD flags, cores, Python, NumPy, OpenBLAS's thread timeout,
    and the CUDA device when the GPU backend is in use."""
    line = (
        f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()}, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"OPENBLAS_THREAD_TIMEOUT {rbptk.openblas_thread_timeout()}"
    )
    if rbptk.get_backend() == "gpu":
        import cupy

        name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        line += f", {name}, CuPy {cupy.__version__}"
    return line


def write_record(path, results, indent=2):
    """Write ``results`` (plus date and machine) as JSON to the file ``path``,
    making its folder; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    results = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(), **results}
    path.write_text(json.dumps(runner.jsonable(results), indent=indent))
    return path


def write_results(out, results):
    """Write ``results`` (plus date and machine) to out/results.json; return the path."""
    return write_record(out / "results.json", results)


def format_table(rows, columns):
    """Markdown table from dicts: ``columns`` is a list of (key, header, format)."""
    lines = [
        "| " + " | ".join(h for _, h, _ in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for row in rows:
        cells = []
        for key, _, fmt in columns:
            value = row.get(key)
            cells.append("n/a" if value is None else format(value, fmt))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pyplot():
    """matplotlib.pyplot with the Agg backend, or None (with a note) when missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed; skipping plots (pip install 'rbptk[problems]')")
        return None
    return plt


def budget(method, args):
    """The program's budget as rbptk.gradient names it: --truncate is TBPTT's
    ``truncate`` and, unless --maxiter is set, the adjoint solve's ``maxiter``;
    --rtol the adjoint solve's ``rtol`` and --eta CG's damping, where the
    program has them and they are set (BPTT: none of these)."""
    if spec(method).trajectory:
        return {"truncate": args.truncate} if method == "tbptt" else {}
    maxiter = getattr(args, "maxiter", None) or args.truncate
    extra = {"rtol": getattr(args, "rtol", None)}
    if method == "cg":
        extra["eta"] = getattr(args, "eta", None)
    return {"maxiter": maxiter, **{k: v for k, v in extra.items() if v is not None}}


def gradient(args, method, dynamics, h0, params, loss_grad, **kw):
    """rbptk.gradient with the program's --steps, --truncate, --forward (and
    --forward-tol where the program has one), and strict=False: a program
    counts each status instead of stopping at the first failure. Other
    keywords (inputs, seed, track_memory) pass through."""
    return rbptk.gradient(
        dynamics,
        h0,
        params,
        loss_grad,
        method=method,
        steps=args.steps,
        **budget(method, args),
        forward=args.forward,
        forward_tol=getattr(args, "forward_tol", None),
        strict=False,
        **kw,
    )


AGREEMENT_METHODS = ["tbptt", "rbp", "cg", "neumann", "gmres", "bicgstab"]


def diagnostics(dynamics, h0, params, loss_grad, inputs, steps, truncate):
    """Both diagnostic tables' rows: forward steps to tolerance (plain against
    Anderson, budget 10 T) and every method's agreement with BPTT."""
    return {
        "forward_study": rbptk.diagnostics.forward_study(
            dynamics, h0, params, inputs, budget=10 * steps
        ),
        "agreement": rbptk.diagnostics.bptt_agreement(
            dynamics, h0, params, loss_grad, inputs, steps, truncate, AGREEMENT_METHODS
        ),
    }


def print_diagnostics(diag, where, steps, truncate):
    """Print the two tables of :func:`diagnostics`; ``where`` names the
    parameters. The agreement table's reference is BPTT, or what
    ``diag["agreement_reference"]`` names."""
    print(f"\nForward pass to tolerance 1e-6 ({where}):\n")
    print(format_table(diag["forward_study"], FORWARD_COLUMNS))
    reference = diag.get("agreement_reference")
    title = reference or f"BPTT (T = {steps}, K = {truncate})"
    print(f"\nGradient agreement with {title}:\n")
    columns = AGREEMENT_COLUMNS
    if reference:  # the rows of rbptk.diagnostics.implicit_agreement
        status, norm = AGREEMENT_COLUMNS[1:3]
        columns = [AGREEMENT_COLUMNS[0], status, ("iterations", "iterations", "d"), norm,
                   ("rel_diff", "rel. diff", ".2e")]  # fmt: skip
    print(format_table(diag["agreement"], columns))
    if "agreement_initial" in diag:
        print(f"\nGradient agreement with BPTT (T = {steps}, K = {truncate}) at the initial "
              "parameters of seed 0, before training:\n")  # fmt: skip
        print(format_table(diag["agreement_initial"], AGREEMENT_COLUMNS))


FORWARD_COLUMNS = [
    ("forward", "forward", "s"),
    ("steps", "steps to tol", "d"),
    ("status", "status", "s"),
    ("residual", "rel. residual", ".1e"),
]
AGREEMENT_COLUMNS = [
    ("method", "method", "s"),
    ("status", "status", "s"),
    ("grad_norm", "grad norm", ".3g"),
    ("rel_diff", "rel. diff from bptt", ".2e"),
]


def report(args, payload, heading, table, plots=(), diag=None, where="", lines=()):
    """Write out/results.json (payload plus diagnostics) and print the heading,
    the table, any extra lines, the diagnostic tables and the files written."""
    path = write_results(args.out, {"config": vars(args), **payload, **(diag or {})})
    print(f"\n{heading}\n")
    print(table)
    for line in lines:
        print(line)
    if diag:
        print_diagnostics(diag, where, args.steps, args.truncate)
    print(f"\nwrote {path}" + "".join(f", {p}" for p in plots))


# --------------------------------------------------------------------------- grids

GRID_OPTIONS = (
    "method", "seeds", "out", "no_plots", "quiet", "scheduler", "workers", "rerun",
    "checkpoint_every", "full", "study",
)  # fmt: skip


def run_config(args, exclude=()):
    """What a run's result depends on: the parsed options less the grid's own
    (method, seeds, output, scheduling) and ``exclude``."""
    return {k: v for k, v in vars(args).items() if k not in GRID_OPTIONS + tuple(exclude)}


def run_args(spec, options):
    """A namespace for one run: its config, seed and method, and ``quiet``."""
    cfg = spec["config"]
    return argparse.Namespace(
        **cfg, seed=spec["seed"], method=spec["method"], quiet=options.get("quiet", True)
    )


def use_backend(name):
    """rbptk.set_backend inside a run (raises, where the program's own check exits)."""
    rbptk.set_backend(name)
    return rbptk.backend.namespace()


def run_grid(args, specs, diagnose=()):
    """runner.run_grid with the program's grid options, after writing
    out/grid.json (what ``python -m problems.report out`` reports, finished or
    not); a one-line error and exit status 1 (some runs failed) or 2 (no Dask)
    instead of a traceback."""
    runner.write_grid(args.out, specs, study=getattr(args, "study", None))
    try:
        return runner.run_grid(
            specs,
            args.out,
            scheduler=args.scheduler,
            workers=args.workers,
            rerun=args.rerun,
            checkpoint_every=args.checkpoint_every,
            diagnose={runner.spec_hash(s) for s in diagnose},
            quiet=args.quiet,
        )
    except ImportError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except runner.GridError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)


def by_method(records):
    """{method: [records in seed order]}, methods in order of first appearance."""
    groups = {}
    for r in records:
        groups.setdefault(r["spec"]["method"], []).append(r)
    return {m: sorted(rs, key=lambda r: r["spec"]["seed"]) for m, rs in groups.items()}


def records_args(records, out):
    """The namespace a program would have parsed for these records: the first
    record's config and labels, the methods and seeds, and ``out``."""
    spec0 = records[0]["spec"]
    labels = {k: v for k, v in spec0.items() if k not in ("experiment", "config", "seed", "method")}
    return argparse.Namespace(
        **spec0["config"],
        **labels,
        method=list(by_method(records)),
        seeds=sorted({r["spec"]["seed"] for r in records}),
        out=pathlib.Path(out),
    )


def mean_metrics(records, keys):
    """Each metric's mean over the records (seeds); None where a record lacks it."""
    values = {k: [r["metrics"].get(k) for r in records] for k in keys}
    return {k: None if None in v else float(np.mean(v)) for k, v in values.items()}
