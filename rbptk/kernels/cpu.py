"""numba kernels for NumPy arrays (compiled on first use, cached on disk)."""

from __future__ import annotations

import numba
import numpy as np

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
