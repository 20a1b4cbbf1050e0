"""Back-propagation through time, full (BPTT) or truncated to the last K steps (TBPTT)."""

from __future__ import annotations

import math
import time

from .._array import HostBatch, all_finite, norm, tree_add
from ..dynamics import prepare
from ..forward import as_input_fn
from ..info import AdjointInfo, Status
from ._common import check_iterations

CHUNK = 64  # steps whose parameter vjps are summed in one call


def _back_one_step(lin, u, need_vjp):
    """(J^T u or None, (dF/dparams)^T u) at one linearisation, through the
    optional ``lin.vjp_and_params`` when both are needed (one shared pass)."""
    if need_vjp and hasattr(lin, "vjp_and_params"):
        return lin.vjp_and_params(u)
    return (lin.vjp(u) if need_vjp else None), lin.vjp_params(u)


def _finite_rows(rows, residuals):
    """Record rows (||u_t||,); False once one is NaN or infinite."""
    residuals.extend(r for (r,) in rows)
    return all(math.isfinite(r) for (r,) in rows)


def _summed(vjp_params_sum, pending):
    return vjp_params_sum([lin for lin, _ in pending], [u for _, u in pending])


def bptt(dynamics, traj, params, g, *, inputs=None, K=None):
    """Gradient of L(h_T) by back-propagating through the kept trajectory.

    With u_T = g,  for t = T-1 down to T-K:
        grad += (dF/dparams at h_t)^T u_{t+1},     u_t = J_t^T u_{t+1},
    where J_t = dF/dh at (h_t, x_t). The inputs x_t are replayed through
    ``inputs(t)``. Cost: K linearisations, K parameter
    vjps (summed in chunks of 64 steps through ``dynamics.vjp_params_sum`` when
    defined, else one per step, sharing a pass with the state vjp through
    ``lin.vjp_and_params`` when defined), K - 1 state vjps. Memory: the K + 1
    kept states (plus up to 64 linearisations with ``vjp_params_sum``).

    Parameters
    ----------
    dynamics : Dynamics
    traj : Trajectory
        Forward result holding at least the last K + 1 states.
    params : dict of arrays
    g : array
        dL/dh_T, shaped like the state.
    inputs : None, sequence or callable, optional
        The same inputs the forward pass used.
    K : int, optional
        Steps to back-propagate (TBPTT); None for all kept steps (BPTT).

    Returns
    -------
    grads : dict of arrays
    info : AdjointInfo
        Status CONVERGED (a finite, exact result) or NON_FINITE (a cotangent
        norm ||u_t|| or a gradient entry is NaN or infinite; on a device the
        norms reach the host every ``HOST_SYNC_EVERY`` steps); residuals are
        ||u_t|| per step.
    """
    start = time.perf_counter()
    available = len(traj.states) - 1
    K = available if K is None else min(check_iterations(K), available)
    if K < 1:
        raise ValueError("the forward pass kept no step to back-propagate through")
    x_at = as_input_fn(inputs)
    prepared = prepare(dynamics, params)
    T, first = traj.info.steps, traj.first
    info = AdjointInfo("bptt" if K == T else "tbptt", Status.CONVERGED)
    u, grads = g, None
    batch = HostBatch()
    summed = getattr(dynamics, "vjp_params_sum", None)
    pending = []  # (linearization, cotangent) pairs awaiting vjp_params_sum
    for i, t in enumerate(range(T - 1, T - 1 - K, -1)):
        lin = dynamics.linearize(traj.states[t - first], prepared, x_at(t))
        need_vjp = i < K - 1
        if summed is None:
            u_next, g_step = _back_one_step(lin, u, need_vjp)
            grads = tree_add(grads, g_step)
        else:
            pending.append((lin, u))
            if len(pending) == CHUNK or not need_vjp:
                grads = tree_add(grads, _summed(summed, pending))
                pending = []
            u_next = lin.vjp(u) if need_vjp else None
        info.iterations += 1
        if need_vjp:
            u = u_next
            info.n_vjp += 1
            if not _finite_rows(batch.add(norm(u, host=False)), info.residuals):
                info.status = Status.NON_FINITE
                break
    if pending:
        grads = tree_add(grads, _summed(summed, pending))
    if not _finite_rows(batch.flush(), info.residuals) or not all(
        all_finite(v) for v in grads.values()
    ):
        info.status = Status.NON_FINITE
    info.wall_time = time.perf_counter() - start
    return grads, info
