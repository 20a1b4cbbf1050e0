"""Anderson acceleration of the forward fixed-point iteration."""

from __future__ import annotations

import math
import time

import numpy as np

from ._array import norm, vdot
from .dynamics import prepare
from .forward import Trajectory, as_input_fn
from .info import ForwardInfo, Status

__all__ = ["anderson"]


def anderson(dynamics, h0, params, steps, *, inputs=None, tol=1e-6, m=5, beta=1.0, ridge=1e-8):
    """Find h* = F(h*) by Anderson acceleration (type II, Walker & Ni 2011).

    With f(x) = F(x) - x and histories of the last m_k = min(m, k) differences
    dX = [x_{i+1} - x_i], dF = [f_{i+1} - f_i]:

        gamma   = argmin ||f_k - dF gamma||^2 + lam ||gamma||^2
        x_{k+1} = x_k + beta f_k - (dX + beta dF) gamma

    with lam = ridge * max diag(dF^T dF) (scale-free regularisation). With m = 0
    it is the damped iteration x + beta f. The small least-squares system is
    solved on the host; everything else is array-generic (NumPy, CuPy, array API).

    Parameters
    ----------
    dynamics, h0, params, inputs
        As for :func:`rbptk.forward`. The input should not depend on t (a fixed
        point needs a fixed map); ``inputs(t)`` is still called per evaluation.
    steps : int
        Maximum number of evaluations of F.
    tol : float, default 1e-6
        Stop when ||F(x) - x|| <= tol * ||F(x)||.
    m : int, default 5
        History size.
    beta : float, default 1.0
        Mixing.
    ridge : float, default 1e-8
        Relative ridge regularisation of the least-squares step.

    Returns
    -------
    Trajectory
        ``states = [x, F(x)]`` for the best iterate x seen (smallest residual), so
        RBP-family methods linearise at x; ``info.status`` is CONVERGED when the
        tolerance was met, else MAX_ITER (the best iterate is still returned), or
        NON_FINITE. ``info.residuals`` holds ||f(x_k)|| per evaluation.
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if m < 0 or not beta > 0 or ridge < 0:
        raise ValueError(
            f"need m >= 0, beta > 0, ridge >= 0; got m={m}, beta={beta}, ridge={ridge}"
        )
    start = time.perf_counter()
    x_at = as_input_fn(inputs)
    params = prepare(dynamics, params)
    x = h0
    residuals, dX, dF = [], [], []
    best = (math.inf, None, None)
    status = Status.MAX_ITER
    f_prev = x_prev = None
    for k in range(int(steps)):
        Fx = dynamics.step(x, params, x_at(k))
        f = Fx - x
        r = norm(f)
        residuals.append(r)
        if not math.isfinite(r):
            status = Status.NON_FINITE
            break
        if r < best[0]:
            best = (r, x, Fx)
        if r <= tol * norm(Fx):
            status = Status.CONVERGED
            break
        if f_prev is not None:
            dX.append(x - x_prev)
            dF.append(f - f_prev)
            if len(dX) > m:
                dX.pop(0)
                dF.pop(0)
        x_prev, f_prev = x, f
        x = x + beta * f
        if dF:
            gamma = _least_squares(dF, f, ridge)
            for g_j, dx_j, df_j in zip(gamma, dX, dF, strict=True):
                x = x - float(g_j) * (dx_j + beta * df_j)
    info = ForwardInfo(status, len(residuals), residuals, time.perf_counter() - start)
    if best[1] is None:  # the very first evaluation was non-finite
        return Trajectory([h0, Fx], info)
    return Trajectory([best[1], best[2]], info)


def _least_squares(dF, f, ridge):
    """gamma minimising ||f - dF gamma||^2 + lam ||gamma||^2, from the Gram matrix."""
    G = np.array([[vdot(a, b) for b in dF] for a in dF])
    rhs = np.array([vdot(a, f) for a in dF])
    lam = ridge * max(float(np.max(np.diag(G))), np.finfo(float).tiny)
    return np.linalg.solve(G + lam * np.eye(len(dF)), rhs)
