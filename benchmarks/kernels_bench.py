"""Kernels against library calls: numba SpMM against scipy.sparse, with the
achieved bandwidth against a measured copy bandwidth."""

from __future__ import annotations

import numpy as np

from rbptk import kernels

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
