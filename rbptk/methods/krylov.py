"""Krylov solvers for the adjoint system (I - J^T) z = g, through the libraries'
own solvers: scipy.sparse.linalg on NumPy, cupyx.scipy.sparse.linalg on CuPy."""

from __future__ import annotations

import math

import numpy as np

from .._array import host_floats, norm
from ..backend import get_namespace
from ..info import AdjointInfo, Status
from ._common import check_iterations
from ._implicit import implicit_gradient

SOLVERS = ("gmres", "bicgstab", "minres")


def _library(xp, solver):
    if xp.__name__ == "numpy":
        import scipy.sparse.linalg as linalg
    elif xp.__name__ == "cupy":
        import cupyx.scipy.sparse.linalg as linalg
    else:
        raise TypeError(
            f"the Krylov methods wrap SciPy / CuPy solvers and need NumPy or CuPy arrays, "
            f"got {xp.__name__} arrays; use method='cg' or 'neumann' for other namespaces"
        )
    if not hasattr(linalg, solver):
        raise ValueError(
            f"method={solver!r} needs {linalg.__name__}.{solver}, which this version lacks "
            "(CuPy has bicgstab from 14.1 on): upgrade it, or use method='gmres'"
        )
    return linalg


def closed_krylov_dimension(finite, restart):
    """Dimension of the Krylov space at which CuPy's GMRES broke down, or None.

    ``finite`` says, product by product, whether the operator's input was
    finite. CuPy's GMRES applies the operator once per cycle to the iterate,
    then to its basis vectors v_0 .. v_{restart-1}; a basis vector that is NaN
    means the one before closed the space: v_j = u / H[j, j-1] with
    H[j, j-1] = 0, at dimension j. Returns that j (>= 1) for the first
    non-finite input, None when all were finite or the first was an iterate.
    """
    for i, ok in enumerate(finite):
        if not ok:
            position = i % (restart + 1)  # 0: the iterate, p >= 1: basis vector p - 1
            return position - 1 if position >= 2 else None
    return None


def solver_keywords(library, solver, *, tol, K, restart, callback):
    """Keyword arguments for ``linalg.<solver>`` of SciPy or CuPy (``library``
    "scipy" or "cupy"): the relative tolerance, the iteration cap and a callback.

    The two libraries differ: CuPy's minres takes ``tol`` (SciPy's ``rtol``),
    and GMRES's ``maxiter`` counts restart cycles in SciPy but inner iterations
    in CuPy, so both get ``K // restart`` whole cycles of ``restart`` products.
    """
    if solver == "minres":
        return {"rtol" if library == "scipy" else "tol": tol, "maxiter": K, "callback": callback}
    kw = {"rtol": tol, "atol": 0.0, "maxiter": K, "callback": callback}
    if solver == "gmres":
        cycles = max(1, K // restart)
        kw.update(
            restart=restart,
            maxiter=cycles if library == "scipy" else cycles * restart,
            callback_type="pr_norm",
        )
    return kw


def krylov(
    dynamics, traj, params, g, *, inputs=None, K=100, tol=1e-8, solver="gmres", restart=None,
    x0=None, callback=None,
):  # fmt: skip
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
        Maximum number of iterations (GMRES: K // restart restart cycles of
        ``restart`` inner iterations each, on SciPy and CuPy alike).
    tol : float, default 1e-8
        Relative residual target ||g - (I - J^T) z|| <= tol ||g||.
    solver : {"gmres", "bicgstab", "minres"}
    restart : int, optional
        GMRES restart length (default min(K, 30)).
    x0 : array, optional
        Warm start, shaped like ``g`` (the library's own ``x0``).
    callback : callable, optional
        ``callback(z)`` with the library's iterate, shaped like ``g``: every
        iteration for bicgstab and minres, once per restart cycle for gmres
        (the libraries report the GMRES iterate only then; ``iterations`` then
        counts operator products, and ``residuals`` holds only the final one).

    Returns
    -------
    grads : dict of arrays
        In g's dtype (CuPy's MINRES works in float64 on float32 input).
    info : AdjointInfo
        Status CONVERGED when the final true residual (recomputed with one more
        product) meets ``tol``; MAX_ITER when the solver stopped short; BREAKDOWN
        when the library reported a breakdown; NON_FINITE on NaN. ``iterations``
        counts inner iterations. ``residuals`` holds the solver's relative
        residual norms where it reports them (GMRES: per inner iteration on
        SciPy, per restart cycle on CuPy, whose callback runs once a cycle) and
        the final true relative residual last. On CuPy, a GMRES whose Krylov
        space closes early (an exact zero in its Hessenberg matrix, which CuPy
        divides by) is rerun once with ``restart`` set to that space's
        dimension, where it solves the system exactly.
    """
    return implicit_gradient(krylov_solve, dynamics, traj, params, g, inputs=inputs, maxiter=K,
                             rtol=tol, solver=solver, restart=restart, x0=x0,
                             callback=callback)  # fmt: skip


def krylov_solve(A, g, *, maxiter=100, rtol=1e-8, solver="gmres", restart=None, x0=None,
                 callback=None):  # fmt: skip
    """(I - J^T) z = g by the library's ``solver`` on the operator A (flattened
    into its ``LinearOperator``); returns (z, info). Parameters as :func:`krylov`."""
    if solver not in SOLVERS:
        raise ValueError(f"unknown Krylov solver {solver!r}; choose one of {SOLVERS}")
    K, tol = check_iterations(maxiter), rtol
    xp = get_namespace(g)
    linalg = _library(xp, solver)
    library = "scipy" if xp.__name__ == "numpy" else "cupy"
    shape, n = tuple(g.shape), int(math.prod(g.shape))
    restart = min(K, 30, n) if restart is None else min(restart, n)
    info = AdjointInfo(solver, Status.MAX_ITER, max_iter_fails=True)
    finite_inputs = []  # CuPy GMRES: is each product's input finite (kept on the device)

    def matvec(z):
        if library == "cupy" and solver == "gmres":
            finite_inputs.append(xp.isfinite(xp.sum(z)))
        return xp.reshape(A(xp.reshape(z, shape)), (-1,))

    op = linalg.LinearOperator((n, n), matvec=matvec, dtype=g.dtype)
    b = xp.reshape(g, (-1,))
    history = []  # GMRES: relative residual norms; the others: one entry per iteration
    iterate_mode = solver == "gmres" and callback is not None

    def record(value):
        if solver == "gmres" and not iterate_mode:
            history.append(value)
            return
        history.append(0.0)
        if callback is not None:
            callback(xp.reshape(value, shape))

    kw = solver_keywords(library, solver, tol=tol, K=K, restart=restart, callback=record)
    if iterate_mode:
        kw["callback_type"] = "x"
    if x0 is not None:
        kw["x0"] = xp.reshape(x0, (-1,))
    try:
        z, code = getattr(linalg, solver)(op, b, **kw)
    except np.linalg.LinAlgError:  # CuPy's GMRES: NaN reached its host least squares
        if not finite_inputs:
            raise
        z, code = xp.full_like(b, math.nan), -1
    dim = closed_krylov_dimension(host_floats(finite_inputs), restart) if finite_inputs else None
    if dim is not None:
        history.clear()
        restart = dim
        kw.update(solver_keywords(library, solver, tol=tol, K=K, restart=dim, callback=record))
        if iterate_mode:
            kw["callback_type"] = "x"
        z, code = linalg.gmres(op, b, **kw)
    z = z.astype(g.dtype, copy=False)
    per_callback = restart if library == "cupy" and solver == "gmres" else 1
    info.iterations = A.n_vjp if iterate_mode else len(history) * per_callback
    info.residuals = host_floats(history) if solver == "gmres" and not iterate_mode else []
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
    return xp.reshape(z, shape), info
