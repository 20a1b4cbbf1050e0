"""Hot loops, one dispatching function per kernel: numba for NumPy arrays, CuPy
kernels for CuPy arrays, the plain-array reference for any other namespace."""

from __future__ import annotations

import numpy as np

from ..backend import get_namespace
from . import reference

__all__ = ["adam_update", "symmetrize_zero_diagonal"]


def _implementation(name, *arrays):
    """The kernel ``name`` for the arrays' namespace: cpu (numba), gpu (CuPy) or reference."""
    xp = get_namespace(*arrays)
    if xp is np:
        from . import cpu as module
    elif xp.__name__ == "cupy":
        from . import gpu as module
    else:
        module = reference
    return getattr(module, name)


def symmetrize_zero_diagonal(P):
    """W = P + P^T with W_ii = 0. P: square (N, N), float32 or float64."""
    return _implementation("symmetrize_zero_diagonal", P)(P)


def adam_update(p, g, m, v, lr, b1, b2, c1, c2, eps):
    """Fused Adam step; updates ``m`` and ``v`` in place and returns the new ``p``.
    All four arrays share shape and dtype (C-contiguous on the CPU)."""
    return _implementation("adam_update", p, g)(p, g, m, v, lr, b1, b2, c1, c2, eps)
