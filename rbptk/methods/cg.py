"""CG-RBP: conjugate gradient on the damped normal equations of the adjoint system."""

from __future__ import annotations

import math
import time

from .._array import vdot
from ..info import AdjointInfo, Status
from ._common import check_iterations, linearize_last


def cg(dynamics, traj, params, g, *, inputs=None, K=20, tol=1e-5, eta=1e-5):
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

    Returns
    -------
    grads : dict of arrays
    info : AdjointInfo
        Residuals are ||r_i||. BREAKDOWN when <p, M p> <= 0.
    """
    start = time.perf_counter()
    K = check_iterations(K)
    if not eta >= 0:
        raise ValueError(f"eta must be >= 0, got {eta!r}")
    lin = linearize_last(dynamics, traj, params, inputs)
    info = AdjointInfo("cg", Status.MAX_ITER)

    def normal_matvec(p):
        q = p - lin.vjp(p)  # (I - J^T) p
        return q - lin.jvp(q) + eta * p  # (I - J) q + eta p

    b = g - lin.jvp(g)
    z, r, p = 0 * b, b, b
    rr = vdot(r, r)
    b_norm = math.sqrt(rr)
    if b_norm == 0.0:  # g = J g: z = 0 solves the system
        info.status, K = Status.CONVERGED, 0
    for _ in range(K):
        Mp = normal_matvec(p)
        pMp = vdot(p, Mp)
        info.iterations += 1
        if not math.isfinite(pMp):
            info.status = Status.NON_FINITE
            break
        if pMp <= 0.0:
            info.status = Status.BREAKDOWN
            break
        alpha = rr / pMp
        z = z + alpha * p
        r = r - alpha * Mp
        rr_new = vdot(r, r)
        info.residuals.append(math.sqrt(rr_new))
        if not math.isfinite(rr_new):
            info.status = Status.NON_FINITE
            break
        if math.sqrt(rr_new) <= tol * b_norm:
            info.status = Status.CONVERGED
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    info.n_jvp = info.iterations + 1
    info.n_vjp = info.iterations
    grads = lin.vjp_params(z)
    info.wall_time = time.perf_counter() - start
    return grads, info
