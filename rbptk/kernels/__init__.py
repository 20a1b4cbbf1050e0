"""Hot loops, one dispatching function per kernel: numba for NumPy arrays, CuPy
kernels for CuPy arrays, the plain-array reference for any other namespace."""

from __future__ import annotations

import numpy as np

from ..backend import get_namespace
from . import reference

__all__ = [
    "adam_update",
    "damped_tanh",
    "diff_norm",
    "gru_forward",
    "gru_jvp",
    "gru_vjp",
    "guarded_ratio",
    "matmul_for_spmm",
    "spmm",
    "symmetrize_zero_diagonal",
    "vdot",
]


def _implementation(name, *arrays):
    """The kernel ``name`` for the arrays' namespace: cpu (numba), gpu (CuPy) or reference."""
    xp = get_namespace(*arrays)
    if xp is np:
        from . import cpu as module
    elif xp.__name__ == "cupy":
        from . import gpu as module
    else:
        module = reference
    return getattr(module, name, None) or getattr(reference, name)


def symmetrize_zero_diagonal(P):
    """W = P + P^T with W_ii = 0. P: square (N, N), float32 or float64."""
    return _implementation("symmetrize_zero_diagonal", P)(P)


def adam_update(p, g, m, v, lr, b1, b2, c1, c2, eps):
    """Fused Adam step; updates ``m`` and ``v`` in place and returns the new ``p``.
    All four arrays share shape and dtype (C-contiguous on the CPU)."""
    return _implementation("adam_update", p, g)(p, g, m, v, lr, b1, b2, c1, c2, eps)


def diff_norm(a, b, *, host=True):
    """||a - b|| over all entries (same shapes; on the CPU one float64 pass with
    no temporary). A Python float; with ``host=False`` on a device, a 0-d array
    left there (no transfer; see :class:`rbptk._array.HostBatch`)."""
    value = _implementation("diff_norm", a, b)(a, b)
    return float(value) if host else value


def vdot(a, b, *, host=True):
    """<a, b> = sum(a * b) over all entries (same shapes; on the CPU one float64
    pass with no temporary). A Python float; with ``host=False`` on a device, a
    0-d array left there."""
    value = _implementation("vdot", a, b)(a, b)
    return float(value) if host else value


def guarded_ratio(a, b):
    """a / b where b > 0, else 0, elementwise (same shapes; on CuPy one fused
    kernel: CG's step lengths on 0-d device arrays)."""
    return _implementation("guarded_ratio", a, b)(a, b)


def matmul_for_spmm(Y, W):
    """Y @ W laid out as :func:`spmm` wants its dense operand: C order for the
    numba kernel, Fortran order for cuSPARSE (computed as (W^T Y^T)^T, which
    cuBLAS does without a copy), so that no copy happens inside the product."""
    return _implementation("matmul_for_spmm", Y, W)(Y, W)


def spmm(A, X):
    """A @ X: A sparse CSR (n, n') matching X's backend (scipy for NumPy, cupyx
    for CuPy), X dense (n', d)."""
    return _implementation("spmm", X)(A, X)


def damped_tanh(a, b, z, h):
    """h + z (tanh(a + b) - h), elementwise, arrays of one shape (one pass on the
    CPU; reference.damped_tanh)."""
    return _implementation("damped_tanh", a, b, z, h)(a, b, z, h)


def gru_forward(gi, gh, b_ih, b_hh, h, keep=True):
    """GRU gates for node rows from the bias-free gate inputs gi = m W_ih^T,
    gh = h W_hh^T: returns h', r, z, c, gh_n + b_hh_n (reference.gru_forward),
    or h' alone when not ``keep`` (a step; the CPU pass then writes only h')."""
    return _implementation("gru_forward", gi, gh, h)(gi, gh, b_ih, b_hh, h, keep)


def gru_jvp(dgi, dgh, v, h, r, z, c, ghn):
    """Tangent of the GRU output (reference.gru_jvp)."""
    return _implementation("gru_jvp", v)(dgi, dgh, v, h, r, z, c, ghn)


def gru_vjp(u, h, r, z, c, ghn):
    """Cotangents of the GRU gate inputs (reference.gru_vjp)."""
    return _implementation("gru_vjp", u)(u, h, r, z, c, ghn)
