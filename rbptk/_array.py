"""Small array helpers shared by the solvers: written once against the array API
(NumPy, CuPy and ``array_api_strict`` all accept them)."""

from __future__ import annotations

import math

import numpy as np

from . import kernels
from .backend import get_namespace, to_numpy

HOST_SYNC_EVERY = 16
"""Iterations whose scalars (residuals, finiteness, CG's step lengths) a loop on
a device keeps there before bringing them to the host in one transfer."""


def vdot(a, b, *, host=True):
    """<a, b> = sum(a * b) over all entries (kernels.vdot: no temporary on the
    CPU, where an N x N gradient's norm would double it). A Python float; with
    ``host=False``, on a device a 0-d array left there."""
    return kernels.vdot(a, b, host=host)


def norm(a, *, host=True):
    """Euclidean norm of all entries, as a Python float (``host=False``: on a
    device, a 0-d array left there)."""
    if host:
        return math.sqrt(vdot(a, a))
    s = vdot(a, a, host=False)
    return math.sqrt(s) if isinstance(s, float) else get_namespace(s).sqrt(s)


def eps(a):
    """Machine epsilon of ``a``'s dtype, as a Python float."""
    return float(get_namespace(a).finfo(a.dtype).eps)


def host_floats(values):
    """Python floats from a list of Python floats and 0-d arrays, with one
    device-to-host transfer for all the arrays (the only one a loop makes)."""
    arrays = [v for v in values if not isinstance(v, float)]
    if not arrays:
        return list(values)
    xp = get_namespace(*arrays)
    moved = iter(to_numpy(xp.stack(arrays)).tolist())
    return [v if isinstance(v, float) else next(moved) for v in values]


class HostBatch:
    """Per-iteration scalars on their way to the host, ``every`` iterations at a time.

    ``add(*values)`` queues one iteration's scalars (Python floats, or 0-d
    arrays left on a device by ``host=False``) and returns the rows, tuples of
    Python floats, now ready on the host: at once when every value is already a
    float (the CPU), else [] until ``every`` rows wait, then all of them through
    one :func:`host_floats`. ``flush()`` returns whatever still waits. A loop
    that stops on a row's verdict therefore stops up to ``every - 1``
    iterations after the iteration that earned it.
    """

    def __init__(self, every=None):
        self.every = HOST_SYNC_EVERY if every is None else every
        self.pending = []

    def add(self, *values):
        if not self.pending and all(isinstance(v, float) for v in values):
            return [values]
        self.pending.append(values)
        return self.flush() if len(self.pending) >= self.every else []

    def flush(self):
        if not self.pending:
            return []
        width = len(self.pending[0])
        flat = host_floats([v for row in self.pending for v in row])
        self.pending = []
        return [tuple(flat[i : i + width]) for i in range(0, len(flat), width)]


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
