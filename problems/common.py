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
    if args.method in ("tbptt", "all") and args.truncate > args.steps:
        parser.error(
            f"--truncate {args.truncate} exceeds --steps {args.steps} (tbptt needs K <= T)"
        )


def base_parser(description, out_default):
    """A :class:`Parser` with --method, --forward, --backend, --seed, --dtype, --out,
    --no-plots, --quiet."""
    parser = Parser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        "--method",
        default="all",
        choices=METHODS + ["all"],
        help="gradient method; 'all' runs the paper's five on the same seed",
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
    parser.add_argument("--seed", type=integer(0), default=0)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path(out_default),
        help="folder for results.json and the PNG plots",
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def selected_methods(name, forward="plain"):
    """The methods a run trains: the paper's five for 'all' (those that can use an
    Anderson forward pass when ``forward`` is 'anderson')."""
    names = list(rbptk.PAPER_METHODS) if name == "all" else [name]
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
    model and SIMD flags, cores, Python, NumPy, and the CUDA device when the
    GPU backend is in use."""
    line = (
        f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()}, "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )
    if rbptk.get_backend() == "gpu":
        import cupy

        name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        line += f", {name}, CuPy {cupy.__version__}"
    return line


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, pathlib.Path):
        return str(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_results(out, results):
    """Write ``results`` (plus date and machine) to out/results.json; return the path."""
    out.mkdir(parents=True, exist_ok=True)
    results = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(), **results}
    path = out / "results.json"
    path.write_text(json.dumps(_jsonable(results), indent=2))
    return path


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


def budget(method, K):
    """--truncate as rbptk.gradient names it: TBPTT's ``truncate``, the adjoint
    solve's ``maxiter`` (BPTT: neither)."""
    if spec(method).trajectory:
        return {"truncate": K} if method == "tbptt" else {}
    return {"maxiter": K}


def gradient(args, method, dynamics, h0, params, loss_grad, **kw):
    """rbptk.gradient with the program's --steps, --truncate and --forward, and
    strict=False: a program counts each status instead of stopping at the first
    failure. Other keywords (inputs, seed, track_memory) pass through."""
    return rbptk.gradient(
        dynamics,
        h0,
        params,
        loss_grad,
        method=method,
        steps=args.steps,
        **budget(method, args.truncate),
        forward=args.forward,
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
    """Print the two tables of :func:`diagnostics`; ``where`` names the parameters."""
    print(f"\nForward pass to tolerance 1e-6 ({where}):\n")
    print(format_table(diag["forward_study"], FORWARD_COLUMNS))
    print(f"\nGradient agreement with BPTT (T = {steps}, K = {truncate}):\n")
    print(format_table(diag["agreement"], AGREEMENT_COLUMNS))


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
