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

from .timing import copy_bandwidth, measure, measure_interleaved


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


def parallel_rows(case, repeats=20):
    """The serial and the parallel build of the gate step pass, the
    gate-cotangent pass and the SpMM at the case's sizes, 2 threads: where
    PARALLEL_GATE_WORK, PARALLEL_PRODUCT_WORK and PARALLEL_SPMM_WORK should lie
    ("numba ms": serial, "library ms": parallel)."""
    from rbptk.kernels import cpu

    A = case.extra["A"].astype(np.float32).tocsr()
    n, D = case.h0.shape
    rng = np.random.default_rng(0)
    h, out = rng.standard_normal((n, D)).astype(np.float32), np.empty((n, D), np.float32)
    gi, gh = (rng.standard_normal((n, 3 * D)).astype(np.float32) for _ in range(2))
    b = np.zeros(3 * D, np.float32)
    gates = [lambda p=p: cpu._GATES[(False, p)](gi, gh, b, b, h, out) for p in (False, True)]
    spmm = [lambda k=k: k(A.indptr, A.indices, A.data, h, out)
            for k in (cpu._spmm_serial, cpu._spmm_parallel)]  # fmt: skip
    r, z, c, ghn = (rng.uniform(0, 1, (n, D)).astype(np.float32) for _ in range(4))
    a_gi, a_gh = np.empty_like(gi), np.empty_like(gh)
    vjp = [lambda p=p: cpu._GRU_VJP[p](h, h, r, z, c, ghn, a_gi, a_gh) for p in (False, True)]
    rows = []
    for what, (serial, parallel), work in (
        ("gates", gates, n * D),
        ("gate cotangents", vjp, n * D),
        ("spmm", spmm, A.nnz * D),
    ):
        t_serial, t_parallel = measure_interleaved([serial, parallel], repeats)
        rows.append(
            {
                "kernel": f"{what} serial/parallel, {case.name} (work {work})",
                "numba": t_serial,
                "scipy": t_parallel,
                "speedup": t_serial["median"] / t_parallel["median"],
                "GBps": float("nan"),
                "of_copy": float("nan"),
            }
        )
    return rows


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
