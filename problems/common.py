"""What every experiment program shares: CLI options, backend set-up, progress,
results files, tables and plots."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import time

import numpy as np

import rbptk

METHODS = list(rbptk.METHODS)


def base_parser(description, out_default):
    """An ArgumentParser with --method, --backend, --seed, --out, --dtype, --no-plots."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--method",
        default="all",
        choices=METHODS + ["all"],
        help="gradient method; 'all' runs every method on the same seed",
    )
    parser.add_argument(
        "--backend",
        default=os.environ.get("RBPTK_BACKEND", "cpu"),
        choices=["cpu", "gpu"],
        help="where arrays live (gpu needs CuPy + CUDA)",
    )
    parser.add_argument("--seed", type=int, default=0)
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


def selected_methods(name):
    return METHODS if name == "all" else [name]


def setup_backend(name):
    """Switch rbptk to ``name`` and return the array module (numpy or cupy).

    Exits with a message (status 2) when the GPU is asked for and unusable.
    """
    try:
        rbptk.set_backend(name)
    except rbptk.BackendError as err:
        sys.exit(f"error: {err}")
    return rbptk.backend.namespace()


def progress(iterable, total, desc, quiet=False):
    """tqdm progress bar on stderr (plain iteration when quiet or tqdm is missing)."""
    if quiet:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)


def machine():
    """One line describing this machine, for results and README tables."""
    return (
        f"{platform.machine()} {os.cpu_count()} cores, {platform.system()}, "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )


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
