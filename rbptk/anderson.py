"""Anderson acceleration of the forward fixed-point iteration."""

from __future__ import annotations

import math
import time

import numpy as np

from ._array import host_floats, vdot
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
        if f_prev is not None:
            dX.append(x - x_prev)
            dF.append(f - f_prev)
            if len(dX) > m:
                dX.pop(0)
                dF.pop(0)
        # one host transfer per evaluation: ||f||, ||F(x)|| and the Gram system
        r, scale, G, rhs = _host_scalars(f, Fx, dF)
        residuals.append(r)
        if not math.isfinite(r):
            status = Status.NON_FINITE
            break
        if r < best[0]:
            best = (r, x, Fx)
        if r <= tol * scale:
            status = Status.CONVERGED
            break
        x_prev, f_prev = x, f
        x = x + beta * f
        if dF:
            gamma = _solve_ridge(G, rhs, ridge)
            for g_j, dx_j, df_j in zip(gamma, dX, dF, strict=True):
                x = x - float(g_j) * (dx_j + beta * df_j)
    info = ForwardInfo(status, len(residuals), residuals, time.perf_counter() - start)
    if best[1] is None:  # the very first evaluation was non-finite
        return Trajectory([h0, Fx], info)
    return Trajectory([best[1], best[2]], info)


def _host_scalars(f, Fx, dF):
    """||f||, ||F(x)||, the Gram matrix dF^T dF and dF^T f, brought to the host
    in one transfer (upper triangle of the Gram matrix only)."""
    pairs = [(i, j) for i in range(len(dF)) for j in range(i, len(dF))]
    values = [vdot(f, f, host=False), vdot(Fx, Fx, host=False)]
    values += [vdot(dF[i], dF[j], host=False) for i, j in pairs]
    values += [vdot(d, f, host=False) for d in dF]
    values = host_floats(values)
    G = np.zeros((len(dF), len(dF)))
    for (i, j), v in zip(pairs, values[2 : 2 + len(pairs)], strict=True):
        G[i, j] = G[j, i] = v
    rhs = np.array(values[2 + len(pairs) :])
    return math.sqrt(values[0]), math.sqrt(values[1]), G, rhs


def _solve_ridge(G, rhs, ridge):
    """gamma minimising ||f - dF gamma||^2 + lam ||gamma||^2 from the Gram
    matrix G = dF^T dF and rhs = dF^T f, lam = ridge * max diag(G)."""
    lam = ridge * max(float(np.max(np.diag(G))), np.finfo(float).tiny)
    return np.linalg.solve(G + lam * np.eye(len(rhs)), rhs)
