"""Original recurrent back-propagation (Almeida 1987, Pineda 1987; Liao et al. Algorithm 1)."""

from __future__ import annotations

import time

import numpy as np

from .. import kernels
from .._array import HostBatch, eps, norm, uniform_like
from ..info import AdjointInfo
from ._common import ResidualMonitor, check_iterations, linearize_last


def rbp(dynamics, traj, params, g, *, inputs=None, K=20, tol=None, seed=None, x0=None):
    """Fixed-point iteration on the adjoint equation z = J^T z + g.

    z_0 ~ U[0, 1) (seeded);  z_i = J^T z_{i-1} + g  for i = 1..K;
    grad = (dF/dparams)^T z_K,  J = dF/dh at the last step.

    It converges to z* = (I - J^T)^{-1} g when the spectral radius of J is
    below 1, and diverges otherwise. Cost: K vjps + one parameter vjp; memory
    constant in K.

    Parameters
    ----------
    dynamics, traj, params, g, inputs
        As for :func:`rbptk.methods.bptt`; ``traj`` needs the last two states.
    K : int, default 20
        Maximum number of iterations.
    tol : float, optional
        Stop when ||z_i - z_{i-1}|| <= tol * ||z_i|| (status CONVERGED; on a
        device the residuals reach the host every ``HOST_SYNC_EVERY``
        iterations, so the stop may come up to that many iterations later).
    seed : int or numpy.random.Generator, optional
        Seed of the random start z_0.
    x0 : array, optional
        Start z_0 instead of the random one (a warm start, e.g. the previous
        training step's adjoint), shaped like ``g``.

    Returns
    -------
    grads : dict of arrays
    info : AdjointInfo
        Residuals are ||z_i - z_{i-1}||. DIVERGED when they do not contract
        (see :class:`rbptk.methods._common.ResidualMonitor`).
    """
    start = time.perf_counter()
    K = check_iterations(K)
    lin = linearize_last(dynamics, traj, params, inputs)
    monitor = ResidualMonitor(tol, eps(g))
    batch = HostBatch()
    info = AdjointInfo("rbp", None)
    z = uniform_like(g, np.random.default_rng(seed)) if x0 is None else x0
    for _ in range(K):
        z_new = lin.vjp(z) + g
        r = kernels.diff_norm(z_new, z, host=False)
        z = z_new
        info.iterations += 1
        info.status = monitor.feed(batch.add(r, norm(z, host=False) if tol is not None else 1.0))
        if info.status is not None:
            break
    info.status = info.status or monitor.feed(batch.flush()) or monitor.final(norm(z))
    info.n_vjp = info.iterations
    info.residuals = monitor.residuals
    grads = lin.vjp_params(z)
    info.wall_time = time.perf_counter() - start
    return grads, info
