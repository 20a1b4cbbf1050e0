"""The front door: forward pass with the right memory footprint, then the chosen
adjoint method, with input checks and failure reporting."""

from __future__ import annotations

import contextlib
import time
import types

from . import methods
from ._array import all_finite
from .backend import get_namespace
from .dynamics import prepare
from .forward import forward
from .info import AdjointInfo, ConvergenceError, Status
from .memory import peak_memory

__all__ = ["METHODS", "gradient"]

METHODS = ("bptt", "tbptt", "rbp", "cg", "neumann")


def _check_inputs(dynamics, h0, params):
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    xp = get_namespace(h0, *params.values())  # TypeError on mixed array types
    if not all_finite(h0):
        raise ValueError("h0 contains NaN or infinite values")
    for name, p in params.items():
        if not all_finite(p):
            raise ValueError(f"params[{name!r}] contains NaN or infinite values")
    validate = getattr(dynamics, "validate", None)
    if validate is not None:
        validate(h0, params)
    return xp


def _loss_gradient(loss_grad, h):
    """Evaluate dL/dh_T; a callable may return g or (loss, g)."""
    loss = None
    g = loss_grad(h) if callable(loss_grad) else loss_grad
    if isinstance(g, tuple):
        loss, g = g
    get_namespace(h, g)
    if tuple(g.shape) != tuple(h.shape):
        raise ValueError(f"dL/dh_T has shape {tuple(g.shape)}, the state has {tuple(h.shape)}")
    if not all_finite(g):
        raise ValueError("dL/dh_T contains NaN or infinite values")
    return loss, g


def _run_method(method, dynamics, traj, params, g, inputs, K, tol, eta, seed):
    if method in ("bptt", "tbptt"):
        grads, info = methods.bptt(
            dynamics, traj, params, g, inputs=inputs, K=None if method == "bptt" else K
        )
        info.method = method
        return grads, info
    if method == "rbp":
        return methods.rbp(dynamics, traj, params, g, inputs=inputs, K=K, tol=tol, seed=seed)
    if method == "cg":
        return methods.cg(
            dynamics, traj, params, g, inputs=inputs, K=K, tol=1e-5 if tol is None else tol, eta=eta
        )
    return methods.neumann(dynamics, traj, params, g, inputs=inputs, K=K, tol=tol)


def gradient(
    dynamics,
    h0,
    params,
    loss_grad,
    *,
    method="neumann",
    steps=50,
    truncate=20,
    inputs=None,
    forward_tol=None,
    tol=None,
    eta=1e-5,
    seed=None,
    strict=True,
    track_memory=False,
):
    """Gradient of L(h_T) with respect to ``params``, h_T the end of the dynamics.

    Runs h_{t+1} = F(h_t, params, x_t) for ``steps`` steps (or until
    ``forward_tol``), keeping only the states the method needs, then computes
    dL/dparams with the chosen method:

    ========  ============================================  ===============
    method    adjoint                                       states kept
    ========  ============================================  ===============
    bptt      back-propagation through all T steps          T + 1
    tbptt     back-propagation through the last K steps     K + 1
    rbp       z_i = J^T z_{i-1} + g, K iterations           2
    cg        CG on ((I-J)(I-J^T) + eta I) z = (I-J) g      2
    neumann   sum_{t=0..K} (J^T)^t g  (K iterations)        2
    ========  ============================================  ===============

    Parameters
    ----------
    dynamics : Dynamics
        The model (see :mod:`rbptk.dynamics`).
    h0 : array
        Initial state; NumPy, CuPy or array-API, the same kind as ``params``.
    params : dict of arrays
        Parameters of the dynamics; the gradient has the same keys.
    loss_grad : array or callable
        g = dL/dh_T shaped like the state, or a callable h_T -> g, or
        h_T -> (loss, g).
    method : {"neumann", "bptt", "tbptt", "rbp", "cg"}
    steps : int, default 50
        Forward steps T (the maximum when ``forward_tol`` is set).
    truncate : int, default 20
        K: TBPTT steps, or iterations of rbp / cg / neumann. Ignored by bptt.
    inputs : None, sequence or callable, optional
        Per-step inputs x_t (time-varying dynamics).
    forward_tol : float, optional
        Stop the forward pass once ||h_{t+1} - h_t|| <= forward_tol ||h_{t+1}||.
    tol : float, optional
        Early-stopping tolerance of rbp / neumann (none by default) and cg
        (default 1e-5).
    eta : float, default 1e-5
        CG damping.
    seed : int, optional
        Seed of rbp's random start.
    strict : bool, default True
        Raise :class:`ConvergenceError` when the forward pass or the method ends
        diverged, non-finite or broken down. With False, return the result and
        let the caller read ``info.status``.
    track_memory : bool, default False
        Record the peak extra memory of the whole computation in
        ``info.peak_bytes`` (tracemalloc or CuPy's pool; slows NumPy code).

    Returns
    -------
    grads : dict of arrays or None
        dL/dparams (None when the forward pass failed and ``strict`` is False).
    info : AdjointInfo
        Status, iterations, residual history, jvp/vjp counts, with
        ``info.forward`` (the forward's ForwardInfo), ``info.extra["h"]`` (h_T)
        and ``info.extra["loss"]`` (when ``loss_grad`` returned one).

    Raises
    ------
    ValueError
        Unknown method, steps or truncate < 1, truncate > steps for tbptt,
        NaN/inf in h0, params or g, shape mismatches.
    TypeError
        Mixed array types, params not a dict.
    ConvergenceError
        With ``strict``, on a failed forward pass or adjoint method.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    for name, value in (("steps", steps), ("truncate", truncate)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if method == "tbptt" and truncate > steps:
        raise ValueError(f"truncate={truncate} exceeds steps={steps} for tbptt")
    xp = _check_inputs(dynamics, h0, params)
    keep = {"bptt": None, "tbptt": truncate + 1}.get(method, 2)
    start = time.perf_counter()
    no_peak = contextlib.nullcontext(types.SimpleNamespace(bytes=None))
    with peak_memory(gpu=xp.__name__ == "cupy") if track_memory else no_peak as peak:
        params = prepare(dynamics, params)  # derived arrays (e.g. W = P + P^T), once
        traj = forward(dynamics, h0, params, steps, inputs=inputs, keep=keep, tol=forward_tol)
        if traj.info.status is Status.NON_FINITE:
            if strict:
                raise ConvergenceError(
                    f"forward pass produced a non-finite state at step {traj.info.steps}",
                    traj.info,
                )
            return None, AdjointInfo(method, Status.NON_FINITE, forward=traj.info)
        loss, g = _loss_gradient(loss_grad, traj.h)
        grads, info = _run_method(
            method, dynamics, traj, params, g, inputs, truncate, tol, eta, seed
        )
    info.forward = traj.info
    info.wall_time = time.perf_counter() - start
    info.peak_bytes = peak.bytes
    info.extra.update(h=traj.h, loss=loss)
    if strict and info.status.failed:
        last = info.residuals[-1] if info.residuals else float("nan")
        raise ConvergenceError(
            f"{method} ended with status {info.status.value} after {info.iterations} "
            f"iterations (last residual {last:.3g}); "
            "the dynamics may not be a contraction at the fixed point: try method='cg', "
            "or strict=False to inspect the result",
            info,
            grads,
        )
    return grads, info
