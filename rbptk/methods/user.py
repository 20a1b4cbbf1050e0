"""A user's linear solver as the adjoint solve of (I - J^T) z = g (the registry
runs it inside :func:`rbptk.methods.implicit_gradient`)."""

from __future__ import annotations

import math

from .._array import norm
from ..info import AdjointInfo, Status


def user_solver(solver, name):
    """An adjoint solve ``(A, g, *, maxiter, rtol, x0) -> (z, info)`` around
    ``solver(matvec, b, *, x0, maxiter, rtol)``.

    ``matvec`` is the :class:`rbptk.methods.AdjointOperator` A = I - J^T
    (callable: ``matvec(z) = z - J^T z``, also ``.rmatvec``, ``.shape``,
    ``.dtype``) and ``b = g``, shaped like the state; the solver returns z, or
    (z, info) with anything as info (kept in ``info.extra["solver_info"]``).
    The status comes from the true relative residual ||g - (I - J^T) z|| /
    ||g||, recomputed with one more product: CONVERGED when it meets ``rtol``,
    MAX_ITER otherwise (a failure for the front door), NON_FINITE on NaN.
    """

    def solve_adjoint(A, g, *, maxiter, rtol, x0=None, callback=None):
        info = AdjointInfo(name, Status.MAX_ITER, max_iter_fails=True)
        out = solver(A, g, x0=x0, maxiter=maxiter, rtol=rtol)
        z, theirs = out if isinstance(out, tuple) else (out, None)
        if not hasattr(z, "shape") or tuple(z.shape) != tuple(g.shape):
            raise ValueError(
                f"the solver {name} returned {type(z).__name__} of shape "
                f"{getattr(z, 'shape', None)}; it must return z shaped like g, "
                f"{tuple(g.shape)} (or (z, info))"
            )
        info.iterations = A.n_vjp
        residual = norm(g - A(z)) / max(norm(g), 1e-300)
        info.residuals = [residual]
        if not math.isfinite(residual):
            info.status = Status.NON_FINITE
        elif residual <= rtol:
            info.status = Status.CONVERGED
        info.extra["solver_info"] = theirs
        return z, info

    return solve_adjoint
