"""Krylov solvers for the adjoint system (I - J^T) z = g, through the libraries'
own solvers: scipy.sparse.linalg on NumPy, cupyx.scipy.sparse.linalg on CuPy."""

from __future__ import annotations

import math
import time

from .._array import norm
from ..backend import get_namespace
from ..info import AdjointInfo, Status
from ._common import check_iterations, linearize_last

SOLVERS = ("gmres", "bicgstab", "minres")


def _library(xp):
    if xp.__name__ == "numpy":
        import scipy.sparse.linalg as linalg
    elif xp.__name__ == "cupy":
        import cupyx.scipy.sparse.linalg as linalg
    else:
        raise TypeError(
            f"the Krylov methods wrap SciPy / CuPy solvers and need NumPy or CuPy arrays, "
            f"got {xp.__name__} arrays; use method='cg' or 'neumann' for other namespaces"
        )
    return linalg


def krylov(
    dynamics, traj, params, g, *, inputs=None, K=100, tol=1e-8, solver="gmres", restart=None
):
    """Solve (I - J^T) z = g with GMRES, BiCGSTAB or MINRES; grad = (dF/dparams)^T z.

    J is taken at the last step. The operator z -> z - J^T z is wrapped in the
    library's ``LinearOperator`` (on the flattened state); the solver is the
    library's. GMRES and BiCGSTAB need only that (I - J^T) be invertible, so they
    also work when rho(J) > 1; MINRES additionally needs J symmetric.

    Parameters
    ----------
    dynamics, traj, params, g, inputs
        As for :func:`rbptk.methods.neumann`.
    K : int, default 100
        Maximum number of iterations (GMRES: restart cycles x ``restart`` inner
        iterations are capped at K products in total).
    tol : float, default 1e-8
        Relative residual target ||g - (I - J^T) z|| <= tol ||g||.
    solver : {"gmres", "bicgstab", "minres"}
    restart : int, optional
        GMRES restart length (default min(K, 30)).

    Returns
    -------
    grads : dict of arrays
    info : AdjointInfo
        Status CONVERGED when the final true residual (recomputed with one more
        product) meets ``tol``; MAX_ITER when the solver stopped short; BREAKDOWN
        when the library reported a breakdown; NON_FINITE on NaN. ``residuals``
        holds the solver's per-iteration residual norms where it reports them
        (GMRES) and the final true relative residual last.
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown Krylov solver {solver!r}; choose one of {SOLVERS}")
    start = time.perf_counter()
    K = check_iterations(K)
    xp = get_namespace(g)
    linalg = _library(xp)
    lin = linearize_last(dynamics, traj, params, inputs)
    shape, n = tuple(g.shape), int(math.prod(g.shape))
    info = AdjointInfo(solver, Status.MAX_ITER)

    def matvec(z):
        info.n_vjp += 1
        z = xp.reshape(z, shape)
        return xp.reshape(z - lin.vjp(z), (-1,))

    A = linalg.LinearOperator((n, n), matvec=matvec, dtype=g.dtype)
    b = xp.reshape(g, (-1,))
    history = []
    kw = {"rtol": tol, "maxiter": K}
    if solver == "gmres":
        restart = min(K, 30) if restart is None else restart
        kw.update(
            restart=restart,
            maxiter=max(1, K // restart),
            atol=0.0,
            callback=history.append,
            callback_type="pr_norm",
        )
        z, code = linalg.gmres(A, b, **kw)
    elif solver == "bicgstab":
        z, code = linalg.bicgstab(A, b, atol=0.0, callback=lambda _: history.append(None), **kw)
    else:
        z, code = linalg.minres(A, b, callback=lambda _: history.append(None), **kw)
    info.iterations = len(history)
    info.residuals = [float(h) for h in history if h is not None]
    true_residual = norm(b - matvec(z)) / max(norm(b), 1e-300)
    info.residuals.append(true_residual)
    code = int(code)
    if not math.isfinite(true_residual):
        info.status = Status.NON_FINITE
    elif code < 0:
        info.status = Status.BREAKDOWN
    elif true_residual <= tol:
        info.status = Status.CONVERGED
    else:
        info.status = Status.MAX_ITER
    info.extra["library_info"] = code
    grads = lin.vjp_params(xp.reshape(z, shape))
    info.wall_time = time.perf_counter() - start
    return grads, info
