"""A user's linear solver as an adjoint method: (I - J^T) z = g at the last step."""

from __future__ import annotations

import math
import time

from .._array import norm
from ..info import AdjointInfo, Status
from ._common import linearize_last


def user_solver(solver, name):
    """The registry's ``solve`` around ``solver(matvec, b, *, x0, maxiter, rtol)``.

    ``matvec(z) = z - J^T z`` and ``b = g`` are shaped like the state; the
    solver returns z, or (z, info) with anything as info (kept in
    ``info.extra["solver_info"]``). The status comes from the true relative
    residual ||g - (I - J^T) z|| / ||g||, recomputed with one more product:
    CONVERGED when it meets ``rtol``, MAX_ITER otherwise (a failure for the
    front door), NON_FINITE on NaN.
    """

    def solve(dynamics, traj, params, g, *, inputs, K, tol, eta, seed, alpha, x0):
        start = time.perf_counter()
        lin = linearize_last(dynamics, traj, params, inputs)
        info = AdjointInfo(name, Status.MAX_ITER, max_iter_fails=True)

        def matvec(z):
            info.n_vjp += 1
            return z - lin.vjp(z)

        out = solver(matvec, g, x0=x0, maxiter=K, rtol=tol)
        z, theirs = out if isinstance(out, tuple) else (out, None)
        if not hasattr(z, "shape") or tuple(z.shape) != tuple(g.shape):
            raise ValueError(
                f"the solver {name} returned {type(z).__name__} of shape "
                f"{getattr(z, 'shape', None)}; it must return z shaped like g, "
                f"{tuple(g.shape)} (or (z, info))"
            )
        info.iterations = info.n_vjp
        residual = norm(g - matvec(z)) / max(norm(g), 1e-300)
        info.residuals = [residual]
        if not math.isfinite(residual):
            info.status = Status.NON_FINITE
        elif residual <= tol:
            info.status = Status.CONVERGED
        info.extra["solver_info"] = theirs
        grads = lin.vjp_params(z)
        info.wall_time = time.perf_counter() - start
        return grads, info

    return solve
