"""Original recurrent back-propagation (Almeida 1987, Pineda 1987; Liao et al. Algorithm 1)."""

from __future__ import annotations

import numpy as np

from .. import kernels
from .._array import HostBatch, eps, norm, uniform_like
from ..info import AdjointInfo
from ._common import ResidualMonitor, check_iterations
from ._implicit import implicit_gradient


def rbp(dynamics, traj, params, g, *, inputs=None, K=20, tol=None, seed=None, x0=None,
        callback=None):  # fmt: skip
    """Original RBP: fixed-point iteration on the adjoint equation z = J^T z + g.

    z_0 ~ U[0, 1) (seeded);  z_i = J^T z_{i-1} + g  for i = 1..K;
    grad = (dF/dparams)^T z_K,  J = dF/dh at the last step.

    It converges to z* = (I - J^T)^{-1} g when the spectral radius of J is
    below 1, and diverges otherwise. Cost: K vjps + one parameter vjp; memory
    constant in K. The iteration is :func:`rbp_solve`; the frame (linearise,
    solve, parameter product) is :func:`rbptk.methods.implicit_gradient`.

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
    callback : callable, optional
        ``callback(z_i)`` after every iteration.

    Returns
    -------
    grads : dict of arrays
    info : AdjointInfo
        Residuals are ||z_i - z_{i-1}||. DIVERGED when they do not contract
        (see :class:`rbptk.methods._common.ResidualMonitor`).
    """
    return implicit_gradient(rbp_solve, dynamics, traj, params, g, inputs=inputs, maxiter=K,
                             rtol=tol, seed=seed, x0=x0, callback=callback)  # fmt: skip


def rbp_solve(A, g, *, maxiter=20, rtol=None, seed=None, x0=None, callback=None):
    """z_i = J^T z_{i-1} + g on the operator A = I - J^T (J^T z = ``A.JT(z)``),
    from ``x0`` or z_0 ~ U[0, 1); returns (z, info). Parameters as :func:`rbp`."""
    K = check_iterations(maxiter)
    monitor = ResidualMonitor(rtol, eps(g))
    batch = HostBatch()
    info = AdjointInfo("rbp", None)
    z = uniform_like(g, np.random.default_rng(seed)) if x0 is None else x0
    for _ in range(K):
        z_new = A.JT(z) + g
        r = kernels.diff_norm(z_new, z, host=False)
        z = z_new
        info.iterations += 1
        if callback is not None:
            callback(z)
        info.status = monitor.feed(batch.add(r, norm(z, host=False) if rtol is not None else 1.0))
        if info.status is not None:
            break
    info.status = info.status or monitor.feed(batch.flush()) or monitor.final(norm(z))
    info.residuals = monitor.residuals
    return z, info
