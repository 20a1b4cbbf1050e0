"""Small array helpers shared by the solvers: written once against the array API
(NumPy, CuPy and ``array_api_strict`` all accept them)."""

from __future__ import annotations

import math

import numpy as np

from . import kernels
from .backend import get_namespace


def vdot(a, b):
    """<a, b> = sum(a * b) over all entries, as a Python float (kernels.vdot:
    no temporary on the CPU, where an N x N gradient's norm would double it)."""
    return kernels.vdot(a, b)


def norm(a):
    """Euclidean norm of all entries, as a Python float."""
    return math.sqrt(vdot(a, a))


def all_finite(a):
    """True when no entry of ``a`` is NaN or infinite.

    One reduction, no temporary: a NaN or an infinity makes the sum non-finite.
    Only when the sum is not finite (it may also overflow on huge finite
    entries) are the entries tested one by one."""
    xp = get_namespace(a)
    with np.errstate(over="ignore", invalid="ignore"):  # the sum may overflow: fine
        total = float(xp.sum(a))
    if math.isfinite(total):
        return True
    return bool(xp.all(xp.isfinite(a)))


def uniform_like(a, rng):
    """Array of U[0, 1) draws with the shape, dtype and namespace of ``a``."""
    xp = get_namespace(a)
    sample = rng.random(tuple(a.shape))
    return xp.asarray(sample, dtype=a.dtype) if xp is not np else sample.astype(a.dtype)


def normal_like(a, rng):
    """Array of N(0, 1) draws with the shape, dtype and namespace of ``a``."""
    xp = get_namespace(a)
    sample = rng.standard_normal(tuple(a.shape))
    return xp.asarray(sample, dtype=a.dtype) if xp is not np else sample.astype(a.dtype)


def tree_add(acc, new):
    """acc[k] + new[k] for every key (``acc`` may be None: returns ``new``)."""
    if acc is None:
        return dict(new)
    return {k: acc[k] + new[k] for k in acc}


def tree_vdot(a, b):
    """Sum over keys of <a[k], b[k]>."""
    return sum(vdot(a[k], b[k]) for k in a)
