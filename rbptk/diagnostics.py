"""Run-time diagnostics and numerical studies of a model at given parameters:
the spectral radius of J at the end of the forward pass, how far each method's
gradient is from BPTT's, how many forward steps reach a fixed point."""

from __future__ import annotations

import numpy as np

from ._array import norm
from .anderson import anderson
from .backend import to_numpy
from .check import spectral_radius
from .dynamics import prepare
from .forward import as_input_fn, forward
from .gradient import gradient
from .registry import spec

__all__ = [
    "bptt_agreement",
    "forward_study",
    "implicit_agreement",
    "spectral_radius",
    "spectral_radius_at_end",
]


def spectral_radius_at_end(dynamics, h0, params, steps, *, inputs=None, iters=60, seed=0):
    """rho(J) at the last step of a ``steps``-step forward pass from ``h0``
    (power iteration, :func:`rbptk.check.spectral_radius`): below 1 the RBP
    iteration and the Neumann series converge there."""
    prepared = prepare(dynamics, params)
    traj = forward(dynamics, h0, prepared, steps, inputs=inputs)
    x = as_input_fn(inputs)(traj.info.steps - 1)
    lin = dynamics.linearize(traj.states[-2], prepared, x)
    return spectral_radius(lin, traj.h, iters=iters, seed=seed)


def forward_study(dynamics, h0, params, inputs, budget, tol=1e-6):
    """Forward evaluations to reach ||F(h) - h|| <= tol ||F(h)||: plain iteration
    against Anderson(5), from the same start (rows for a table: ``forward``,
    ``steps``, ``status``, ``residual`` relative to ||h||)."""
    plain = forward(dynamics, h0, params, budget, inputs=inputs, tol=tol)
    acc = anderson(dynamics, h0, params, budget, inputs=inputs, tol=tol)
    return [
        {
            "forward": name,
            "steps": t.info.steps,
            "status": t.info.status.value,
            "residual": t.info.residuals[-1] / max(norm(t.h), 1e-300),
        }
        for name, t in (("plain", plain), ("anderson", acc))
    ]


def bptt_agreement(dynamics, h0, params, loss_grad, inputs, steps, K, methods):
    """Relative difference of each method's gradient from BPTT's, same params
    and forward pass length, K the budget (TBPTT's truncation, the others'
    maxiter). Rows for a table (``method``, ``status``, ``grad_norm``,
    ``rel_diff``); the first row is BPTT itself. Norms in float64; strict=False,
    so a diverged method still gives its row."""
    kw = dict(steps=steps, inputs=inputs, strict=False, seed=0)
    reference, info = gradient(dynamics, h0, params, loss_grad, method="bptt", **kw)
    ref = _flat(reference)
    rows = [
        {
            "method": "bptt",
            "status": info.status.value,
            "grad_norm": float(np.linalg.norm(ref)),
            "rel_diff": 0.0,
        }
    ]
    for method in methods:
        budget = {"truncate": K} if spec(method).trajectory else {"maxiter": K}
        grads, info = gradient(dynamics, h0, params, loss_grad, method=method, **budget, **kw)
        got = _flat(grads)
        rows.append(
            {
                "method": method,
                "status": info.status.value,
                "grad_norm": float(np.linalg.norm(got)),
                "rel_diff": float(np.linalg.norm(got - ref) / np.linalg.norm(ref)),
            }
        )
    return rows


def implicit_agreement(
    dynamics, h0, params, loss_grad, methods, *, options=None, steps=5000,
    forward_tol=1e-13, exact_rtol=1e-12,
):  # fmt: skip
    """Relative distance of each method's gradient from the exact implicit one.

    The forward pass runs from ``h0`` to ``forward_tol`` (at most ``steps``);
    at that fixed point h* the exact gradient (dF/dparams)^T z solves
    (I - J^T) z = dL/dh* by GMRES to ``exact_rtol`` (call it in float64 for a
    reference accurate to ~1e-10). Each of ``methods`` then solves the same
    system from h*, with its keywords from ``options[method]`` (``maxiter``,
    ``rtol``, ``eta``: the budget being judged). Meaningful only where h* is a
    fixed point: the forward pass must converge, else ValueError.

    Returns rows for a table (``method``, ``status``, ``iterations``,
    ``grad_norm``, ``rel_diff``), the exact solve first as ``"exact (gmres)"``;
    norms over all parameters, in float64.
    """
    options = options or {}
    traj = forward(dynamics, h0, prepare(dynamics, params), steps, tol=forward_tol)
    if traj.info.status.value != "converged":
        raise ValueError(
            f"implicit_agreement: the forward pass did not reach forward_tol={forward_tol:g} "
            f"in {steps} steps (status {traj.info.status.value}); there is no fixed point to "
            "take the implicit gradient at"
        )
    kw = dict(steps=1, strict=False, seed=0)

    def row(name, method, **budget):
        grads, info = gradient(dynamics, traj.h, params, loss_grad, method=method, **budget, **kw)
        got = _flat(grads)
        return got, {"method": name, "status": info.status.value, "iterations": info.iterations,
                     "grad_norm": float(np.linalg.norm(got))}  # fmt: skip

    exact, first = row("exact (gmres)", "gmres", maxiter=max(1000, 10 * steps), rtol=exact_rtol)
    if first["status"] != "converged":
        raise ValueError(f"implicit_agreement: GMRES did not reach exact_rtol={exact_rtol:g}")
    rows = [{**first, "rel_diff": 0.0}]
    for method in methods:
        got, r = row(method, method, **options.get(method, {}))
        rows.append({**r, "rel_diff": float(np.linalg.norm(got - exact) / np.linalg.norm(exact))})
    return rows


def _flat(grads):
    """All parameters' gradients as one float64 host vector (sorted keys)."""
    return np.concatenate([to_numpy(grads[k]).astype(np.float64).ravel() for k in sorted(grads)])
