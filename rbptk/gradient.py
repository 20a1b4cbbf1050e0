"""The front door: forward pass with the right memory footprint, then the chosen
adjoint method, with input checks and failure reporting."""

from __future__ import annotations

import contextlib
import time
import types
import warnings

from . import methods, validation
from ._array import norm
from .anderson import anderson
from .backend import synchronize
from .check import spectral_radius
from .dynamics import prepare
from .forward import as_input_fn
from .forward import forward as plain_forward
from .info import AdjointInfo, ContractionWarning, ConvergenceError, Status, ZeroGradientWarning
from .memory import peak_memory
from .registry import KRYLOV, METHODS, PAPER_METHODS, spec

__all__ = ["KRYLOV", "METHODS", "PAPER_METHODS", "gradient"]

FORWARDS = ("plain", "anderson")


def _check_options(method, steps, forward_kind, forward_tol, eta, alpha):
    method_spec = spec(method)
    steps = validation.check_count("steps", steps)
    if forward_kind not in FORWARDS:
        raise ValueError(f"unknown forward {forward_kind!r}; choose one of {FORWARDS}")
    if forward_kind == "anderson" and method_spec.trajectory:
        raise ValueError(
            f"forward='anderson' returns a fixed point, not a trajectory to back-propagate "
            f"through; use it with rbp, cg, neumann or {', '.join(KRYLOV)}"
        )
    forward_tol = validation.check_tolerance("forward_tol", forward_tol)
    validation.check_tolerance("eta", eta)
    if validation.check_tolerance("alpha", alpha) == 0:
        raise ValueError("alpha must be > 0, got 0")
    return method_spec, steps, forward_tol


def _budget(method_spec, steps, truncate, maxiter, rtol, tol):
    """K and the tolerance, from the new names (TBPTT's ``truncate``, the
    adjoint solve's ``maxiter`` and ``rtol``) or the old ones (``truncate`` as
    any method's budget, ``tol``), which warn."""
    if method_spec.trajectory:
        K = truncate if truncate is not None else min(method_spec.default_maxiter, steps)
        K = validation.check_count("truncate", K)
        if method_spec.name == "tbptt" and K > steps:
            raise ValueError(f"truncate={K} exceeds steps={steps} for tbptt")
    elif maxiter is not None:
        K = validation.check_count("maxiter", maxiter)
    elif truncate is not None:
        _deprecated("truncate", "maxiter", method_spec.name)
        K = validation.check_count("truncate", truncate)
    else:
        K = method_spec.default_maxiter
    if rtol is None and tol is not None:
        _deprecated("tol", "rtol", method_spec.name)
        rtol = validation.check_tolerance("tol", tol)
    rtol = validation.check_tolerance("rtol", rtol)
    return K, method_spec.default_tol if rtol is None else rtol


def _deprecated(old, new, method):
    why = "truncate= now means TBPTT's K only" if old == "truncate" else "rtol is SciPy's name"
    warnings.warn(
        f"{old}= for the iteration of {method} is deprecated; use {new}= ({why})",
        DeprecationWarning,
        stacklevel=4,
    )


def _check_inputs(dynamics, h0, params, inputs, steps):
    validation.check_dynamics_object(dynamics)
    validation.check_inputs_length(inputs, steps)
    x0 = as_input_fn(inputs)(0)
    xp = validation.check_state_and_params(dynamics, h0, params, x0)
    prepared = prepare(dynamics, params)  # derived arrays (e.g. W = P + P^T), once
    validation.check_linearization(dynamics.linearize(h0, prepared, x0), dynamics)
    return xp, prepared


def _run_forward(dynamics, h0, params, steps, inputs, keep, kind, tol, options):
    """The forward pass: plain iteration keeping ``keep`` states, or Anderson."""
    if kind == "anderson":
        tol = 1e-6 if tol is None else tol
        return anderson(dynamics, h0, params, steps, inputs=inputs, tol=tol, **(options or {}))
    return plain_forward(dynamics, h0, params, steps, inputs=inputs, keep=keep, tol=tol)


def _forward_failed(traj, method, strict):
    """The result of a forward pass that reached a non-finite state (or raise)."""
    message = f"the forward pass produced a non-finite state at step {traj.info.steps}"
    if strict:
        raise ConvergenceError(message, traj.info)
    info = AdjointInfo(method, Status.NON_FINITE, forward=traj.info)
    info.extra.update(h=traj.h, loss=None)
    info.message = message
    return None, info


def _solve(method_spec, dynamics, traj, params, g, inputs, K, options):
    """The method's adjoint (``options``: tol, eta, seed, alpha, x0, callback)."""
    grads, info = method_spec.solve(dynamics, traj, params, g, inputs=inputs, K=K, **options)
    info.max_iter_fails = method_spec.max_iter_fails
    return grads, info


def _result(grads, info, traj, g, loss, rho, start, peak_bytes, strict):
    """Fill ``info`` (times, memory, h, loss, rho, message), warn on an all-zero
    gradient, and raise on failure when ``strict``."""
    synchronize(traj.h)  # the clock must not stop while device kernels still run
    info.forward = traj.info
    info.time_adjoint = info.wall_time
    info.wall_time = time.perf_counter() - start
    info.peak_bytes = peak_bytes
    info.extra.update(h=traj.h, loss=loss)
    if rho is not None:
        info.extra["rho"] = rho
    if grads is not None and norm(g) > 0 and all(norm(v) == 0 for v in grads.values()):
        info.extra["zero_gradient"] = True
        warnings.warn(
            "every parameter gradient is exactly zero although dL/dh_T is not: saturated "
            "units (e.g. gates at exactly 0 or 1 in float32) or underflow; try float64",
            ZeroGradientWarning,
            stacklevel=3,
        )
    info.message = _message(info.method, info)
    if strict and not info.success:
        raise ConvergenceError(info.message, info, grads)
    return grads, info


def _diagnose(dynamics, traj, params, inputs, method):
    """rho(J) at the last step; warn when it is >= 1 (the RBP family will not converge)."""
    lin = methods.linearize_last(dynamics, traj, params, inputs)
    rho = spectral_radius(lin, traj.h, iters=100)
    if rho >= 1.0:
        warnings.warn(
            f"estimated spectral radius of J at the last step is {rho:.3g} >= 1: the RBP "
            f"iteration and the Neumann series diverge there"
            + (f" ({method} will not converge)" if method in ("rbp", "neumann") else "")
            + "; use method='cg' or 'gmres'",
            ContractionWarning,
            stacklevel=3,
        )
    return rho


def gradient(
    dynamics,
    h0,
    params,
    loss_grad,
    *,
    method="neumann",
    steps=50,
    truncate=None,
    maxiter=None,
    rtol=None,
    inputs=None,
    forward="plain",
    forward_tol=None,
    forward_options=None,
    has_aux=None,
    tol=None,
    eta=1e-5,
    alpha=1.0,
    seed=None,
    x0=None,
    callback=None,
    diagnose=False,
    strict=True,
    track_memory=False,
):
    """Gradient of L(h_T) with respect to ``params``, h_T the end of the dynamics.

    The steps: check the options and inputs, run the forward pass
    (:func:`_run_forward`), solve the method's adjoint (:func:`_solve`; for the
    implicit methods :func:`rbptk.methods.implicit_gradient`), fill the result
    (:func:`_result`).

    Runs h_{t+1} = F(h_t, params, x_t) for ``steps`` steps (or until
    ``forward_tol``), keeping only the states the method needs, then computes
    dL/dparams with the chosen method:

    ========  ============================================  ===============
    method    adjoint                                       states kept
    ========  ============================================  ===============
    bptt      back-propagation through all T steps          T + 1
    tbptt     back-propagation through the last K steps     K + 1
    rbp       z_i = J^T z_{i-1} + g, K = maxiter iterations 2
    cg        CG on ((I-J)(I-J^T) + eta I) z = (I-J) g      2
    neumann   alpha sum_{t=0..K} (I - alpha(I - J^T))^t g   2
    gmres     (I - J^T) z = g by SciPy/CuPy GMRES           2
    bicgstab  the same by BiCGSTAB                          2
    minres    the same by MINRES (J symmetric only)         2
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
    method : str or callable, default "neumann"
        One of :data:`METHODS`, or a linear solver
        ``solve(matvec, b, *, x0, maxiter, rtol)`` returning z or (z, info)
        for (I - J^T) z = g, with ``matvec(z) = z - J^T z`` on state-shaped
        arrays (e.g. a wrapper of ``scipy.sparse.linalg.lgmres``); it gets
        ``maxiter`` (default 100) and ``rtol`` (default 1e-8) and counts as
        converged only when the true residual meets ``rtol``.
    steps : int, default 50
        Forward steps T (the maximum when ``forward_tol`` is set, and the
        evaluation budget of Anderson).
    truncate : int, optional
        K of TBPTT: the steps back-propagated (default 20). Ignored by bptt.
        For the other methods it still sets the iteration budget, with a
        DeprecationWarning: use ``maxiter``.
    maxiter : int, optional
        Iteration budget of the adjoint solve (rbp, cg, neumann, the Krylov
        methods, a user's solver); defaults in :mod:`rbptk.registry`: 20 for
        rbp / cg / neumann, 100 for the Krylov methods and user solvers.
    rtol : float, optional
        Early-stopping tolerance of the adjoint solve, relative as each
        method's registry entry says (``tol_meaning``): none by default for rbp
        and neumann (all ``maxiter`` iterations run), 1e-5 for cg, 1e-8 for the
        Krylov methods and user solvers.
    inputs : None, sequence or callable, optional
        Per-step inputs x_t (time-varying dynamics).
    forward : {"plain", "anderson"}, default "plain"
        Plain iteration, or Anderson acceleration to a fixed point (RBP family
        and Krylov methods only; see :func:`rbptk.anderson`).
    forward_tol : float, optional
        Stop the forward pass once ||h_{t+1} - h_t|| <= forward_tol ||h_{t+1}||
        (Anderson: default 1e-6).
    forward_options : dict, optional
        Anderson's ``m``, ``beta``, ``ridge``.
    has_aux : bool, optional
        True: ``loss_grad`` returns (loss, dL/dh_T); False: it returns dL/dh_T;
        None (default): either, told apart by whether it returns a tuple.
    tol : float, optional
        Deprecated name of ``rtol`` (warns).
    eta : float, default 1e-5
        CG damping.
    alpha : float, default 1.0
        Neumann damping (Richardson step size).
    seed : int, optional
        Seed of rbp's random start.
    x0 : array, optional
        Warm start of the adjoint z of (I - J^T) z = dL/dh_T, shaped like the
        state (e.g. the previous training step's; rbp, cg, neumann, the Krylov
        methods and user solvers; refused by bptt and tbptt).
    callback : callable, optional
        ``callback(z)`` with the adjoint's iterate after every iteration of
        rbp, cg and neumann (Neumann: the partial sum), bicgstab and minres;
        once per restart cycle of gmres. Refused by bptt, tbptt and a user's
        solver (which runs its own iteration).
    diagnose : bool, default False
        Estimate rho(J) at the last step before the adjoint solve (stored in
        ``info.extra["rho"]``), warning with :class:`ContractionWarning` when it
        is >= 1.
    strict : bool, default True
        Raise :class:`ConvergenceError` when the forward pass or the method ends
        diverged, non-finite or broken down (a Krylov method also when it did
        not reach ``tol``). With False, return the result and let the caller read
        ``info.status``.
    track_memory : bool, default False
        Record the peak extra memory of the whole computation in
        ``info.peak_bytes`` (tracemalloc or CuPy's pool; slows NumPy code).

    Returns
    -------
    grads : dict of arrays or None
        dL/dparams (None when the forward pass failed and ``strict`` is False;
        ``info.extra`` then still holds ``h`` and ``loss`` = None).
    info : AdjointInfo
        ``info.success``, ``info.message``, ``info.status``, ``info.nit``, the
        residual history, jvp/vjp counts, ``info.loss``, ``info.h``,
        ``info.time_forward``, ``info.time_adjoint``, ``info.wall_time`` (the
        whole gradient), ``info.forward`` (the forward's ForwardInfo and
        residual history),
        ``info.extra["h"]`` (h_T), ``info.extra["loss"]`` (when
        ``loss_grad`` returned one) and ``info.extra["zero_gradient"]`` (when
        every parameter gradient is exactly zero; a ZeroGradientWarning is
        issued too).

    Raises
    ------
    ValueError
        Unknown method or forward, steps, truncate or maxiter < 1, truncate >
        steps for tbptt, anderson with bptt/tbptt, NaN/inf in h0, params or g,
        shape mismatches (the checks of :mod:`rbptk.validation`).
    TypeError
        Mixed array types, params not a dict, Krylov methods on arrays other
        than NumPy or CuPy.
    ConvergenceError
        With ``strict``, on a failed forward pass or adjoint method.
    """
    method_spec, steps, forward_tol = _check_options(
        method, steps, forward, forward_tol, eta, alpha
    )
    K, rtol = _budget(method_spec, steps, truncate, maxiter, rtol, tol)
    xp, prepared = _check_inputs(dynamics, h0, params, inputs, steps)
    validation.check_warm_start(x0, h0, method_spec)
    validation.check_callback(callback, method_spec)
    options = dict(tol=rtol, eta=eta, seed=seed, alpha=alpha, x0=x0, callback=callback)
    start = time.perf_counter()
    no_peak = contextlib.nullcontext(types.SimpleNamespace(bytes=None))
    with peak_memory(gpu=xp.__name__ == "cupy") if track_memory else no_peak as peak:
        traj = _run_forward(dynamics, h0, prepared, steps, inputs, method_spec.keep(K, steps),
                            forward, forward_tol, forward_options)  # fmt: skip
        if traj.info.status is Status.NON_FINITE:
            return _forward_failed(traj, method_spec.name, strict)
        loss, g = validation.loss_and_gradient(loss_grad, traj.h, has_aux)
        rho = _diagnose(dynamics, traj, prepared, inputs, method) if diagnose else None
        grads, info = _solve(method_spec, dynamics, traj, prepared, g, inputs, K, options)
    validation.check_gradient_keys(grads, params, dynamics)
    return _result(grads, info, traj, g, loss, rho, start, peak.bytes, strict)


def _message(method, info):
    """One line on the outcome; for a failure, what to try."""
    last = info.residuals[-1] if info.residuals else float("nan")
    done = f"{method} ended with status {info.status.value} after {info.iterations} iterations"
    if info.success:
        return f"{done} (last residual {last:.3g})"
    return (
        f"{done} (last residual {last:.3g}); "
        "the dynamics may not be a contraction at the fixed point: try method='cg' or "
        "'gmres', or strict=False to inspect the result"
    )
