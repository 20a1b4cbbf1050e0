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


# reassoc only: the sums may be vectorised, but NaN and infinity must propagate
# (forward() detects a blow-up from ||h' - h||, the solvers from their norms).
@numba.njit(cache=True, fastmath={"reassoc"})
def _diff_sq(a, b):  # pragma: no cover - compiled
    total = 0.0
    for i in range(a.size):
        d = np.float64(a[i]) - np.float64(b[i])
        total += d * d
    return total


@numba.njit(cache=True, fastmath={"reassoc"})
def _dot(a, b):  # pragma: no cover - compiled
    total = 0.0
    for i in range(a.size):
        total += np.float64(a[i]) * np.float64(b[i])
    return total


def _flat(a):
    return np.ascontiguousarray(a).reshape(-1)


def diff_norm(a, b):
    """||a - b|| in one pass with no temporary, summed in float64."""
    return float(np.sqrt(_diff_sq(_flat(a), _flat(b))))


def vdot(a, b):
    """<a, b> in one pass with no temporary, summed in float64."""
    return float(_dot(_flat(a), _flat(b)))


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


# GRU gates: numba does the arithmetic in fused passes and NumPy the tanh in
# place (NumPy's tanh runs in SIMD; numba calls scalar libm without SVML, and an
# all-numba forward measured 4.8 ms against 0.9 ms for NumPy expressions on
# Cora, D = 64). Gate blocks live in contiguous (n, D) arrays: NumPy's loops
# over column-block views of an (n, 3D) array run row by row, 1.6x slower.


@numba.njit(cache=True)
def _gru_gate_inputs(gi, gh, b_ih, b_hh, rz, ghn):  # pragma: no cover - compiled
    n, D = ghn.shape
    for i in range(n):
        for j in range(D):
            rz[0, i, j] = 0.5 * ((gi[i, j] + b_ih[j]) + (gh[i, j] + b_hh[j]))
            k = D + j
            rz[1, i, j] = 0.5 * ((gi[i, k] + b_ih[k]) + (gh[i, k] + b_hh[k]))
            ghn[i, j] = gh[i, 2 * D + j] + b_hh[2 * D + j]


@numba.njit(cache=True)
def _half_plus_half(x):  # pragma: no cover - compiled
    flat = x.reshape(-1)
    for k in range(flat.size):
        flat[k] = 0.5 + 0.5 * flat[k]


# Kept apart from _half_plus_half: fused, the pass ran 0.63 ms instead of
# 0.09 + 0.25 ms on Pubmed (n = 19717, D = 16), the same on Cora.
@numba.njit(cache=True)
def _gru_candidate(r, gi, b_ih, ghn, c):  # pragma: no cover - compiled
    n, D = c.shape
    for i in range(n):
        for j in range(D):
            c[i, j] = gi[i, 2 * D + j] + b_ih[2 * D + j] + r[i, j] * ghn[i, j]


@numba.njit(cache=True)
def _gru_output(c, z, h, out):  # pragma: no cover - compiled
    n, D = c.shape
    for i in range(n):
        for j in range(D):
            out[i, j] = c[i, j] + z[i, j] * (h[i, j] - c[i, j])


def gru_forward(gi, gh, b_ih, b_hh, h):
    """GRU gates in four numba passes and two in-place tanh calls
    (sigma(a) = (1 + tanh(a / 2)) / 2); see reference.gru_forward."""
    n, D = h.shape
    h = np.ascontiguousarray(h)
    rz = np.empty((2, n, D), dtype=h.dtype)
    ghn, c, out = (np.empty_like(h) for _ in range(3))
    gi, gh = np.ascontiguousarray(gi), np.ascontiguousarray(gh)
    _gru_gate_inputs(gi, gh, b_ih, b_hh, rz, ghn)
    np.tanh(rz, out=rz)
    _half_plus_half(rz)
    _gru_candidate(rz[0], gi, b_ih, ghn, c)
    np.tanh(c, out=c)
    _gru_output(c, rz[1], h, out)
    return out, rz[0], rz[1], c, ghn


@numba.njit(cache=True)
def _gru_jvp(dgi, dgh, v, h, r, z, c, ghn, out):  # pragma: no cover - compiled
    n, D = out.shape
    for i in range(n):
        for j in range(D):
            k, m = D + j, 2 * D + j
            dr = r[i, j] * (1 - r[i, j]) * (dgi[i, j] + dgh[i, j])
            dz = z[i, j] * (1 - z[i, j]) * (dgi[i, k] + dgh[i, k])
            dc = (1 - c[i, j] * c[i, j]) * (dgi[i, m] + dr * ghn[i, j] + r[i, j] * dgh[i, m])
            out[i, j] = (1 - z[i, j]) * dc + (h[i, j] - c[i, j]) * dz + z[i, j] * v[i, j]


def gru_jvp(dgi, dgh, v, h, r, z, c, ghn):
    """Tangent of the GRU output in one fused pass (see reference.gru_jvp)."""
    out = np.empty(v.shape, dtype=np.result_type(v, h))
    args = (dgi, dgh, v, h, r, z, c, ghn)
    _gru_jvp(*(np.ascontiguousarray(a) for a in args), out)
    return out


@numba.njit(cache=True)
def _gru_vjp(u, h, r, z, c, ghn, a_gi, a_gh):  # pragma: no cover - compiled
    n, D = u.shape
    for i in range(n):
        for j in range(D):
            ac = u[i, j] * (1 - z[i, j]) * (1 - c[i, j] * c[i, j])
            ar = ac * ghn[i, j] * r[i, j] * (1 - r[i, j])
            az = u[i, j] * (h[i, j] - c[i, j]) * z[i, j] * (1 - z[i, j])
            a_gi[i, j] = ar
            a_gi[i, D + j] = az
            a_gi[i, 2 * D + j] = ac
            a_gh[i, j] = ar
            a_gh[i, D + j] = az
            a_gh[i, 2 * D + j] = ac * r[i, j]


def gru_vjp(u, h, r, z, c, ghn):
    """Gate-input cotangents in one fused pass (see reference.gru_vjp)."""
    n, D = u.shape
    dtype = np.result_type(u, h)
    a_gi, a_gh = np.empty((n, 3 * D), dtype=dtype), np.empty((n, 3 * D), dtype=dtype)
    args = (u, h, r, z, c, ghn)
    _gru_vjp(*(np.ascontiguousarray(a) for a in args), a_gi, a_gh)
    return a_gi, a_gh
