"""numba kernels for NumPy arrays (compiled on first use, cached on disk)."""

from __future__ import annotations

import os

# numba's OpenMP workers must sleep, not spin, between kernels: on a few cores
# their busy-waiting and OpenBLAS's starve each other (a GEMM followed by a
# parallel SpMM took 5.9 ms instead of 0.34 ms on 2 cores). libgomp reads this
# when numba first loads it; a value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numba  # noqa: E402
import numpy as np  # noqa: E402

_TILE = 64


@numba.njit(parallel=True, cache=True)
def _symmetrize_zero_diagonal(P, out):  # pragma: no cover - compiled
    n = P.shape[0]
    n_tiles = (n + _TILE - 1) // _TILE
    for ti in numba.prange(n_tiles):
        i0, i1 = ti * _TILE, min(ti * _TILE + _TILE, n)
        for tj in range(n_tiles):
            j0, j1 = tj * _TILE, min(tj * _TILE + _TILE, n)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    out[i, j] = P[i, j] + P[j, i]
        for i in range(i0, i1):
            out[i, i] = 0


def symmetrize_zero_diagonal(P):
    """W = P + P^T with a zero diagonal, in cache-sized tiles (one pass, no
    strided transpose sweep), parallel over tile rows."""
    out = np.empty_like(P)
    _symmetrize_zero_diagonal(np.ascontiguousarray(P), out)
    return out


@numba.njit(parallel=True, cache=True, fastmath=False)
def _adam_update(p, g, m, v, out, lr, b1, b2, c1, c2, eps):  # pragma: no cover - compiled
    for i in numba.prange(p.size):
        gi = g[i]
        mi = b1 * m[i] + (1 - b1) * gi
        vi = b2 * v[i] + (1 - b2) * gi * gi
        m[i] = mi
        v[i] = vi
        out[i] = p[i] - lr * (mi / c1) / (np.sqrt(vi / c2) + eps)


def adam_update(p, g, m, v, lr, b1, b2, c1, c2, eps):
    """Fused Adam step (one pass over p, g, m, v); m and v are updated in place."""
    out = np.empty_like(p)
    _adam_update(
        p.reshape(-1),
        g.reshape(-1),
        m.reshape(-1),
        v.reshape(-1),
        out.reshape(-1),
        lr,
        b1,
        b2,
        c1,
        c2,
        eps,
    )
    return out


def _spmm_rows(indptr, indices, data, X, out):  # pragma: no cover - compiled below
    n, d = out.shape
    for i in numba.prange(n):
        for j in range(d):
            out[i, j] = 0
        for k in range(indptr[i], indptr[i + 1]):
            col, a = indices[k], data[k]
            for j in range(d):
                out[i, j] += a * X[col, j]


_spmm_parallel = numba.njit(parallel=True, cache=True)(_spmm_rows)
_spmm_serial = numba.njit(cache=True)(_spmm_rows)  # prange runs as range
# Below about 1e6 multiply-adds, waking the sleeping workers costs more than the
# second core saves (Cora, D = 64: serial 0.08 ms, parallel 0.2 ms; Pubmed,
# D = 16: serial 0.49 ms, parallel 0.40 ms).
PARALLEL_SPMM_WORK = 1_000_000


def spmm(A, X):
    """A @ X for a scipy CSR matrix A (no copy of A; rows in parallel for large
    products, serial below PARALLEL_SPMM_WORK multiply-adds)."""
    X = np.ascontiguousarray(X)
    out = np.empty((A.shape[0], X.shape[1]), dtype=np.result_type(A.dtype, X.dtype))
    kernel = _spmm_parallel if A.nnz * X.shape[1] >= PARALLEL_SPMM_WORK else _spmm_serial
    kernel(A.indptr, A.indices, A.data.astype(out.dtype, copy=False), X, out)
    return out


# No fused GRU kernel here: NumPy's tanh runs in SIMD (0.04 ms for 173k float32
# values), numba's calls scalar libm without SVML, and a fused numba GRU forward
# measured 4.8 ms against 0.9 ms for the NumPy expressions (Cora, D = 64,
# 2 cores). The GRU gates dispatch to kernels.reference on the CPU.
