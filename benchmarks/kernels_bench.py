"""Kernels against library calls: numba SpMM against scipy.sparse, the numba
float32 tanh against NumPy's, with the achieved bandwidth against a measured
copy bandwidth."""

from __future__ import annotations

import numpy as np

from rbptk import kernels
from rbptk.kernels.tanh32 import tanh32

from .timing import measure


def copy_bandwidth(n_bytes=256 * 2**20, repeats=5):
    """Bytes per second of a large np.copyto (read + write counted)."""
    src = np.ones(n_bytes // 8)
    dst = np.empty_like(src)
    t = measure(lambda: np.copyto(dst, src), repeats)["median"]
    return 2 * src.nbytes / t


def spmm_rows(graphs, repeats=5):
    """numba SpMM vs scipy on each (name, A, D) graph, float32."""
    rows = []
    bandwidth = copy_bandwidth()
    for name, A, D in graphs:
        A = A.astype(np.float32).tocsr()
        X = np.random.default_rng(0).standard_normal((A.shape[1], D)).astype(np.float32)
        t_numba = measure(lambda A=A, X=X: kernels.spmm(A, X), repeats)
        t_scipy = measure(lambda A=A, X=X: A @ X, repeats)
        # bytes: CSR indices + values, gathered rows of X, the output
        moved = A.nnz * 8 + A.indptr.nbytes + A.nnz * D * 4 + A.shape[0] * D * 4
        rows.append(
            {
                "kernel": f"spmm {name} (D={D})",
                "numba": t_numba,
                "scipy": t_scipy,
                "speedup": t_scipy["median"] / t_numba["median"],
                "GBps": moved / t_numba["median"] / 1e9,
                "of_copy": moved / t_numba["median"] / bandwidth,
            }
        )
    return rows, bandwidth


def tanh_rows(graphs, bandwidth, repeats=5):
    """tanh32 vs np.tanh in place on a GRU gate block (n, 3D) of each graph."""
    rows = []
    for name, A, D in graphs:
        x = np.random.default_rng(1).standard_normal((A.shape[0], 3 * D)).astype(np.float32)
        out = np.empty_like(x)
        t_numba = measure(lambda x=x, out=out: tanh32(x, out), repeats)
        t_numpy = measure(lambda x=x, out=out: np.tanh(x, out=out), repeats)
        moved = 2 * x.nbytes
        rows.append(
            {
                "kernel": f"tanh32 {name} gates ({x.shape[0]} x {x.shape[1]})",
                "numba": t_numba,
                "scipy": t_numpy,  # the library call: np.tanh here
                "speedup": t_numpy["median"] / t_numba["median"],
                "GBps": moved / t_numba["median"] / 1e9,
                "of_copy": moved / t_numba["median"] / bandwidth,
            }
        )
    return rows
