"""Kernels against library calls, with the bandwidth each achieves: the numba
SpMM against scipy.sparse, the fused GRU gate passes against NumPy expressions
(rbptk.kernels.reference), the numba float32 tanh against NumPy's.

"GB/s" counts the bytes of the pass in the roofline's model (benchmarks.cases:
every array read or written once); "of copy BW" divides by the bandwidth of a
copy moving as many bytes, so a pass that fits in cache is held to the cache."""

from __future__ import annotations

import numpy as np

from rbptk import kernels
from rbptk.kernels import reference
from rbptk.kernels.tanh32 import tanh32

from .timing import copy_bandwidth, measure


def _row(kernel, ours, library, moved, repeats):
    t_ours, t_lib = measure(ours, repeats), measure(library, repeats)
    bandwidth = copy_bandwidth(n_bytes=max(moved // 2, 4096), repeats=20)
    return {
        "kernel": kernel,
        "numba": t_ours,
        "scipy": t_lib,
        "speedup": t_lib["median"] / t_ours["median"],
        "GBps": moved / t_ours["median"] / 1e9,
        "of_copy": moved / t_ours["median"] / bandwidth,
    }


def gnn_rows(case, repeats=5):
    """The passes of one GRU graph-network case (float32), at its own sizes."""
    bytes_of = {p.name: p.bytes for phase in ("step", "adjoint") for p in case.passes[phase]}
    A = case.extra["A"].astype(np.float32).tocsr()
    n, D = case.h0.shape
    rng = np.random.default_rng(0)
    h, u = (rng.standard_normal((n, D)).astype(np.float32) for _ in range(2))
    gi, gh = (rng.standard_normal((n, 3 * D)).astype(np.float32) for _ in range(2))
    b = rng.standard_normal(3 * D).astype(np.float32)
    _, r, z, c, ghn = reference.gru_forward(gi, gh, b, b, h)
    x = np.random.default_rng(1).standard_normal((n, 3 * D)).astype(np.float32)
    out = np.empty_like(x)
    name = f"{case.name} (n={n}, D={D})"
    return [
        _row(f"spmm A h, {name}", lambda: kernels.spmm(A, h), lambda: A @ h, bytes_of["A h"],
             repeats),
        _row(f"gates (a step), {name}", lambda: kernels.gru_forward(gi, gh, b, b, h, keep=False),
             lambda: reference.gru_forward(gi, gh, b, b, h, keep=False), bytes_of["gates"],
             repeats),
        _row(f"gates and cache (a linearisation), {name}",
             lambda: kernels.gru_forward(gi, gh, b, b, h),
             lambda: reference.gru_forward(gi, gh, b, b, h), 12 * n * D * 4, repeats),
        _row(f"gate cotangents (a vjp), {name}", lambda: kernels.gru_vjp(u, h, r, z, c, ghn),
             lambda: reference.gru_vjp(u, h, r, z, c, ghn), bytes_of["gate cotangents"], repeats),
        _row(f"tanh32 vs np.tanh on ({n}, {3 * D})", lambda: tanh32(x, out),
             lambda: np.tanh(x, out=out), 2 * x.nbytes, repeats),
    ]  # fmt: skip
