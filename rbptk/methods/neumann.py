"""Neumann-RBP (Liao et al. 2018, Algorithm 2)."""

from __future__ import annotations

from .._array import HostBatch, eps, norm
from ..info import AdjointInfo
from ._common import ResidualMonitor, check_iterations
from ._implicit import implicit_gradient


def neumann(dynamics, traj, params, g, *, inputs=None, K=20, tol=None, alpha=1.0, x0=None,
            callback=None):  # fmt: skip
    """Truncated Neumann series for the implicit gradient.

    v_0 = s_0 = g;  for t = 1..K:  v_t = J^T v_{t-1},  s_t = s_{t-1} + v_t;
    grad = (dF/dparams)^T s_K  =  (dF/dparams)^T sum_{t=0..K} (J^T)^t g,
    with J = dF/dh at the last step (h_{T-1}, x_{T-1}).

    Damped (alpha != 1), a Richardson iteration on (I - J^T) z = g:
    v_0 = s_0 = alpha g,  v_t = (1 - alpha) v_{t-1} + alpha J^T v_{t-1}, so
    s_K = alpha sum_{t=0..K} (I - alpha (I - J^T))^t g. It converges when every
    eigenvalue lambda of J satisfies |1 - alpha (1 - lambda)| < 1, i.e. for
    0 < alpha < 2 Re(1 - lambda) / |1 - lambda|^2: possible whenever all
    Re(lambda) < 1, also with rho(J) > 1 (e.g. lambda = -1.5, alpha = 0.5).

    At an exact fixed point, K iterations (K + 1 terms) equal TBPTT through
    K + 1 steps. Cost: K vjps + one parameter vjp. Memory: three state-sized
    arrays, whatever K is.

    Parameters
    ----------
    dynamics, traj, params, g, inputs
        As for :func:`rbptk.methods.bptt`; ``traj`` needs the last two states.
    K : int, default 20
        Number of iterations (>= 1).
    tol : float, optional
        Stop when ||v_t|| <= tol * ||s_t|| (status CONVERGED; on a device up to
        ``HOST_SYNC_EVERY`` - 1 iterations later, see :class:`rbptk._array.HostBatch`).
    alpha : float, default 1.0
        Damping (step size) of the series; 1 is the paper's Algorithm 2.
    x0 : array, optional
        Warm start: the series runs on the residual of x0,
        s_0 = x0 + alpha r_0, v_0 = alpha r_0, r_0 = g - (I - J^T) x0 (one
        more vjp), so that s_K = x0 + alpha sum_t (I - alpha (I - J^T))^t r_0.
    callback : callable, optional
        ``callback(s_t)`` (the partial sum) after every iteration.

    Returns
    -------
    grads : dict of arrays
    info : AdjointInfo
        Residuals are ||v_t||. DIVERGED when they do not contract over the
        tail (the series does not converge when the spectral radius of J is
        >= 1; the rule is :class:`rbptk.methods._common.ResidualMonitor`'s).
    """
    return implicit_gradient(neumann_solve, dynamics, traj, params, g, inputs=inputs, maxiter=K,
                             rtol=tol, alpha=alpha, x0=x0, callback=callback)  # fmt: skip


def neumann_solve(A, g, *, maxiter=20, rtol=None, alpha=1.0, x0=None, callback=None):
    """The (damped) Neumann series for (I - J^T) z = g on the operator A
    (J^T v = ``A.JT(v)``); returns (s_K, info). Parameters as :func:`neumann`."""
    K = check_iterations(maxiter)
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    monitor = ResidualMonitor(rtol, eps(g))
    batch = HostBatch()
    info = AdjointInfo("neumann", None)
    r0 = g if x0 is None else g - A(x0)
    v = r0 if alpha == 1.0 else alpha * r0
    s = v if x0 is None else x0 + v
    for _ in range(K):
        v = A.JT(v) if alpha == 1.0 else (1 - alpha) * v + alpha * A.JT(v)
        s = s + v
        info.iterations += 1
        if callback is not None:
            callback(s)
        scale = norm(s, host=False) if rtol is not None else 1.0
        info.status = monitor.feed(batch.add(norm(v, host=False), scale))
        if info.status is not None:
            break
    info.status = info.status or monitor.feed(batch.flush()) or monitor.final(norm(s))
    info.residuals = monitor.residuals
    return s, info
