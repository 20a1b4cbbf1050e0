"""Plain-array reference implementations of every kernel (the tests' ground truth)."""

from __future__ import annotations

from ..backend import get_namespace


def symmetrize_zero_diagonal(P):
    """W = P + P^T with W_ii = 0, for a square matrix P."""
    xp = get_namespace(P)
    W = P + P.T
    return W * (1 - xp.eye(W.shape[0], dtype=W.dtype))


def adam_update(p, g, m, v, lr, b1, b2, c1, c2, eps):
    """One Adam step: updates m and v in place, returns the new parameter array.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p' = p - lr (m / c1) / (sqrt(v / c2) + eps),  c1 = 1 - b1^t,  c2 = 1 - b2^t.
    """
    xp = get_namespace(p, g)
    m[...] = b1 * m + (1 - b1) * g
    v[...] = b2 * v + (1 - b2) * g * g
    return p - lr * (m / c1) / (xp.sqrt(v / c2) + eps)
