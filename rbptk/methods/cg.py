"""CG-RBP: conjugate gradient on the damped normal equations of the adjoint system."""

from __future__ import annotations

import math

from .. import kernels
from .._array import HostBatch, host_floats, vdot
from ..info import AdjointInfo, Status
from ._common import check_iterations
from ._implicit import implicit_gradient


def cg(dynamics, traj, params, g, *, inputs=None, K=20, tol=1e-5, eta=1e-5, x0=None,
       callback=None):  # fmt: skip
    """Solve ((I - J)(I - J^T) + eta I) z = (I - J) g by conjugate gradient.

    The normal matrix M is symmetric positive definite whenever I - J is
    invertible or eta > 0, so CG applies even when the spectral radius of J
    exceeds 1 (where RBP and Neumann-RBP diverge). eta > 0 biases the answer by
    about eta / sigma_min(I - J)^2 relatively; eta = 0 solves the exact system.
    Starting from z_0 = 0, with r_0 = p_0 = b = (I - J) g:

        alpha = <r, r> / <p, M p>;  z += alpha p;  r -= alpha M p;
        beta = <r_new, r_new> / <r, r>;  p = r_new + beta p.

    grad = (dF/dparams)^T z. Cost per iteration: one jvp and one vjp (M p),
    plus one jvp for b; memory constant in K.

    Parameters
    ----------
    dynamics, traj, params, g, inputs
        As for :func:`rbptk.methods.bptt`; ``traj`` needs the last two states.
    K : int, default 20
        Maximum number of CG iterations.
    tol : float, default 1e-5
        Stop when ||r|| <= tol * ||b|| (status CONVERGED).
    eta : float, default 1e-5
        Damping added to the normal matrix (>= 0).
    x0 : array, optional
        Warm start z_0 (default 0): r_0 = b - M z_0 (one more M product).
    callback : callable, optional
        ``callback(z_i)`` after every iteration (on a device, steps after a
        breakdown are zero steps, so z_i repeats).

    Returns
    -------
    grads : dict of arrays
    info : AdjointInfo
        Residuals are ||r_i||. BREAKDOWN when <p, M p> <= 0. On a device the
        step lengths stay there (a breakdown step is applied as a zero step) and
        the checks run every ``HOST_SYNC_EVERY`` iterations, so a stop may come
        that many iterations late; z is then the last good iterate.
    """
    return implicit_gradient(cg_solve, dynamics, traj, params, g, inputs=inputs, maxiter=K,
                             rtol=tol, eta=eta, x0=x0, callback=callback)  # fmt: skip


def cg_solve(A, g, *, maxiter=20, rtol=1e-5, eta=1e-5, x0=None, callback=None):
    """CG on (A^T A + eta I) z = A^T g, A = I - J^T (``A(p)``, ``A.rmatvec(q)``);
    returns (z, info). Parameters as :func:`cg`."""
    K = check_iterations(maxiter)
    if not eta >= 0:
        raise ValueError(f"eta must be >= 0, got {eta!r}")
    info = AdjointInfo("cg", Status.MAX_ITER)

    def normal_matvec(p):
        return A.rmatvec(A(p)) + eta * p  # (I - J)(I - J^T) p + eta p

    b = A.rmatvec(g)
    z = 0 * b if x0 is None else x0
    r = b if x0 is None else b - normal_matvec(x0)
    p = r
    rr = vdot(r, r, host=False)
    b_norm, r_norm = (math.sqrt(v) for v in host_floats([vdot(b, b, host=False), rr]))
    if r_norm == 0.0:  # z_0 solves the system (z = 0 when g = J g)
        info.status, K = Status.CONVERGED, 0
    batch = HostBatch()
    for _ in range(K):
        Mp = normal_matvec(p)
        pMp = vdot(p, Mp, host=False)
        alpha = _ratio(rr, pMp)  # 0 on breakdown: z and r stay as they were
        z = z + alpha * p
        r = r - alpha * Mp
        rr_new = vdot(r, r, host=False)
        info.iterations += 1
        if callback is not None:
            callback(z)
        status = _verdict(batch.add(pMp, rr_new), rtol * b_norm, info.residuals)
        if status is not None:
            info.status = status
            break
        p = r + _ratio(rr_new, rr) * p
        rr = rr_new
    else:
        info.status = _verdict(batch.flush(), rtol * b_norm, info.residuals) or info.status
    return z, info


def _ratio(a, b):
    """a / b where b > 0, else 0 (a Python float, or a 0-d array on a device)."""
    if isinstance(b, float):
        return a / b if b > 0.0 else 0.0
    return kernels.guarded_ratio(a, b)


def _verdict(rows, target, residuals):
    """Record rows (<p, M p>, ||r||^2); the first of NON_FINITE, BREAKDOWN,
    CONVERGED among them, or None."""
    residuals.extend(math.sqrt(rr) if rr >= 0 else rr for _, rr in rows)
    for pMp, rr in rows:
        if not (math.isfinite(pMp) and math.isfinite(rr)):
            return Status.NON_FINITE
        if pMp <= 0.0:
            return Status.BREAKDOWN
        if math.sqrt(rr) <= target:
            return Status.CONVERGED
    return None
