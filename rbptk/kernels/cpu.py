"""numba kernels for NumPy arrays (compiled on first use, cached on disk)."""

from __future__ import annotations

import math
import types

import numba
import numpy as np
from numba.extending import overload

from .tanh32 import tanh_scalar


def _build(f, parallel, **options):
    """numba.njit(f) cached on disk as its own entry for each ``parallel``.

    numba's cache keys a function by its qualified name and bytecode, not by
    its compile flags, so a serial and a parallel build of one Python function
    would load each other's machine code; a renamed copy per build keeps them
    apart."""
    suffix = "_parallel" if parallel else "_serial"
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__ + suffix, f.__defaults__)
    g.__qualname__ = f.__qualname__ + suffix
    return numba.njit(parallel=parallel, cache=True, **options)(g)


def symmetrize_zero_diagonal(P):
    """W = P + P^T with a zero diagonal: NumPy's sum of P and its transposed
    view. Measured against numba loops over cache-sized tiles on 2 cores
    (2026-12-04, N = 2592, float32, medians of 20 interleaved calls): 9.1 ms
    against 15.5 ms (the tiled kernel this replaced, parallel) and 11-45 ms
    (serial tiles of 8 to 64, and a variant staging the transposed tile in a
    scratch block), the transposed reads being what costs; inside a Hopfield
    gradient the change saved 22-23 ms of 68-89 ms."""
    W = np.add(P, P.T)
    np.fill_diagonal(W, 0)
    return W


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


_spmm_parallel = _build(_spmm_rows, True)
_spmm_serial = _build(_spmm_rows, False)  # prange runs as range
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


# GRU gates in one pass over the rows: float32 through the vectorised tanh of
# tanh32 (numba has no SVML; np.tanh inside numba is scalar libm), float64
# through libm. A step writes h' alone; a linearisation also keeps r, z, c and
# gh_n + b_hh_n. Rows go to threads in blocks above PARALLEL_GATE_WORK entries.
_ROWS = 64
# From this many (n * D) entries the gate passes run in parallel. Measured on 2
# cores: alone, the step's pass took 0.7 ms serial against 0.3 ms parallel at
# Pubmed's 19717 x 16 and 0.3 against 0.2 ms at Cora's 2708 x 64 (2026-12-04,
# `python -m benchmarks --only kernels`, the "serial/parallel" rows). Inside
# Cora's forward pass, right after OpenBLAS's GEMMs, the two builds gave the
# same 100-step time while OpenBLAS's idle threads spun for 0.1 s (its default);
# with rbptk's OPENBLAS_THREAD_TIMEOUT=17 the parallel pass makes the 100 steps
# 6 % faster (112.7 and 106.2 ms against 118.4 and 113.8, medians of 12
# interleaved rounds, 2026-12-05), so Cora's size is parallel too.
PARALLEL_GATE_WORK = 100_000


def _gate_tanh(x):  # pragma: no cover - numba only
    """tanh32's approximation for float32, libm's tanh for float64."""


@overload(_gate_tanh)
def _gate_tanh_for(x):  # pragma: no cover - compiled
    if x == numba.types.float32:
        return lambda x: tanh_scalar(x)
    return lambda x: math.tanh(x)


def _gates_linearisation(gi, gh, b_ih, b_hh, h, out, r, z, c, ghn):  # pragma: no cover
    n, D = h.shape
    half = h.dtype.type(0.5)
    for block in numba.prange((n + _ROWS - 1) // _ROWS):
        for i in range(block * _ROWS, min(n, block * _ROWS + _ROWS)):
            for j in range(D):  # sigma(a) = (1 + tanh(a / 2)) / 2
                a = (gi[i, j] + b_ih[j]) + (gh[i, j] + b_hh[j])
                r[i, j] = half + half * _gate_tanh(half * a)
            for j in range(D):
                k = D + j
                a = (gi[i, k] + b_ih[k]) + (gh[i, k] + b_hh[k])
                z[i, j] = half + half * _gate_tanh(half * a)
            for j in range(D):
                k = 2 * D + j
                g = gh[i, k] + b_hh[k]
                cij = _gate_tanh(gi[i, k] + b_ih[k] + r[i, j] * g)
                ghn[i, j], c[i, j] = g, cij
                out[i, j] = cij + z[i, j] * (h[i, j] - cij)


# h' alone, with r and z of one row in scratch: a third less memory traffic
# than the linearisation's pass (one thread, loaded machine, Pubmed n = 19717,
# D = 16: 0.64 against 0.85 ms).
def _gates_step(gi, gh, b_ih, b_hh, h, out):  # pragma: no cover - compiled
    n, D = h.shape
    half = h.dtype.type(0.5)
    for block in numba.prange((n + _ROWS - 1) // _ROWS):
        rr, zz = np.empty(D, dtype=h.dtype), np.empty(D, dtype=h.dtype)
        for i in range(block * _ROWS, min(n, block * _ROWS + _ROWS)):
            for j in range(D):
                a = (gi[i, j] + b_ih[j]) + (gh[i, j] + b_hh[j])
                rr[j] = half + half * _gate_tanh(half * a)
            for j in range(D):
                k = D + j
                a = (gi[i, k] + b_ih[k]) + (gh[i, k] + b_hh[k])
                zz[j] = half + half * _gate_tanh(half * a)
            for j in range(D):
                k = 2 * D + j
                cij = _gate_tanh(gi[i, k] + b_ih[k] + rr[j] * (gh[i, k] + b_hh[k]))
                out[i, j] = cij + zz[j] * (h[i, j] - cij)


_GATES = {
    (keep, parallel): _build(f, parallel, error_model="numpy")
    for keep, f in ((True, _gates_linearisation), (False, _gates_step))
    for parallel in (False, True)
}


def gru_forward(gi, gh, b_ih, b_hh, h, keep=True):
    """GRU gates in one fused pass (reference.gru_forward): (h', r, z, c,
    gh_n + b_hh_n), or h' alone with ``keep=False``."""
    dtype = np.result_type(gi, gh, h)
    args = [np.ascontiguousarray(a, dtype=dtype) for a in (gi, gh, b_ih, b_hh, h)]
    out = [np.empty(h.shape, dtype=dtype) for _ in range(5 if keep else 1)]
    _GATES[(keep, h.size >= PARALLEL_GATE_WORK)](*args, *out)
    return tuple(out) if keep else out[0]


def _damped_tanh(a, b, z, h, out):  # pragma: no cover - compiled
    for k in numba.prange(out.size):
        out[k] = h[k] + z[k] * (_gate_tanh(a[k] + b[k]) - h[k])


_DAMPED_TANH = {p: _build(_damped_tanh, p, error_model="numpy") for p in (False, True)}


def damped_tanh(a, b, z, h):
    """h + z (tanh(a + b) - h) in one pass (see reference.damped_tanh)."""
    dtype = np.result_type(a, b, z, h)
    args = [np.ascontiguousarray(x, dtype=dtype).reshape(-1) for x in (a, b, z, h)]
    out = np.empty(h.shape, dtype=dtype)
    _DAMPED_TANH[h.size >= PARALLEL_GATE_WORK](*args, out.reshape(-1))
    return out


def _gru_jvp_rows(dgi, dgh, v, h, r, z, c, ghn, out):  # pragma: no cover - compiled
    n, D = out.shape
    for i in numba.prange(n):
        for j in range(D):
            k, m = D + j, 2 * D + j
            dr = r[i, j] * (1 - r[i, j]) * (dgi[i, j] + dgh[i, j])
            dz = z[i, j] * (1 - z[i, j]) * (dgi[i, k] + dgh[i, k])
            dc = (1 - c[i, j] * c[i, j]) * (dgi[i, m] + dr * ghn[i, j] + r[i, j] * dgh[i, m])
            out[i, j] = (1 - z[i, j]) * dc + (h[i, j] - c[i, j]) * dz + z[i, j] * v[i, j]


def _gru_vjp_rows(u, h, r, z, c, ghn, a_gi, a_gh):  # pragma: no cover - compiled
    n, D = u.shape
    for i in numba.prange(n):
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


# Serial and row-parallel builds of each pass. These go parallel from a smaller
# size than the gates: the gate-cotangent pass took 0.5 ms serial against
# 0.1 ms parallel at Cora's 2708 x 64, 2 cores, 2026-12-04 (`python -m
# benchmarks --only kernels`, the "serial/parallel" rows).
PARALLEL_PRODUCT_WORK = 50_000
_GRU_JVP = {p: _build(_gru_jvp_rows, p) for p in (False, True)}
_GRU_VJP = {p: _build(_gru_vjp_rows, p) for p in (False, True)}


def gru_jvp(dgi, dgh, v, h, r, z, c, ghn):
    """Tangent of the GRU output in one fused pass (see reference.gru_jvp)."""
    out = np.empty(v.shape, dtype=np.result_type(v, h))
    args = (dgi, dgh, v, h, r, z, c, ghn)
    _GRU_JVP[v.size >= PARALLEL_PRODUCT_WORK](*(np.ascontiguousarray(a) for a in args), out)
    return out


def gru_vjp(u, h, r, z, c, ghn):
    """Gate-input cotangents in one fused pass (see reference.gru_vjp)."""
    n, D = u.shape
    dtype = np.result_type(u, h)
    a_gi, a_gh = np.empty((n, 3 * D), dtype=dtype), np.empty((n, 3 * D), dtype=dtype)
    args = (u, h, r, z, c, ghn)
    _GRU_VJP[u.size >= PARALLEL_PRODUCT_WORK](*(np.ascontiguousarray(a) for a in args), a_gi, a_gh)
    return a_gi, a_gh
