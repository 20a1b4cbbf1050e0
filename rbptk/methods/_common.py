"""Pieces every adjoint method shares: the last-step linearisation and the
residual monitor that turns a residual history into a status."""

from __future__ import annotations

import math

from ..dynamics import prepare
from ..forward import as_input_fn
from ..info import Status


def linearize_last(dynamics, traj, params, inputs):
    """Linearisation of the last step: J at (h_{T-1}, x_{T-1})."""
    if len(traj.states) < 2:
        raise ValueError("this method needs the last two states of the forward pass (keep >= 2)")
    x = as_input_fn(inputs)(traj.info.steps - 1)
    return dynamics.linearize(traj.states[-2], prepare(dynamics, params), x)


def check_iterations(K):
    """K must be a positive integer."""
    if isinstance(K, bool) or int(K) != K or K < 1:
        raise ValueError(f"the number of iterations K must be an integer >= 1, got {K!r}")
    return int(K)


class ResidualMonitor:
    """Watch the residuals r_1, r_2, ... of an iteration that should contract.

    ``feed(rows)`` takes rows ``(r, scale)`` (from :class:`rbptk._array.HostBatch`)
    and returns a final status, or None to keep going: NON_FINITE when r is NaN
    or infinite (wherever it falls in the rows), else the first of CONVERGED
    (``r <= tol * scale``) and DIVERGED (r above ``blowup`` times the smallest
    residual so far, kept as a running minimum: O(1) work per iteration).

    ``final()``, after the last iteration, returns DIVERGED when the iteration
    did not contract: the observed contraction factor over the tail,
    q = exp(slope of the least-squares line through log r_k over the last
    m = max(2, n // 4) of n residuals), is >= 1 (a fitted slope, not one ratio,
    so that an oscillating but contracting sequence, e.g. from a complex pair
    of eigenvalues, is not flagged), or r_n > r_1; unless r_n has reached the
    rounding floor r_n <= 64 eps scale, ``scale`` the norm of the final iterate
    (the sum, for Neumann). Else MAX_ITER.
    """

    def __init__(self, tol=None, eps=2.2e-16, blowup=1e4):
        self.tol = tol
        self.eps = eps
        self.blowup = blowup
        self.residuals = []
        self.smallest = math.inf

    def feed(self, rows):
        status = None
        for r, scale in rows:
            self.residuals.append(r)
            if not math.isfinite(r):
                return Status.NON_FINITE
            self.smallest = min(self.smallest, r)
            if status is None and self.tol is not None and r <= self.tol * scale:
                status = Status.CONVERGED
            elif status is None and r > self.blowup * self.smallest:
                status = Status.DIVERGED
        return status

    def final(self, scale):
        r = self.residuals
        n = len(r)
        if n < 2 or r[-1] <= 64 * self.eps * scale:
            return Status.MAX_ITER
        if r[-1] > r[0] or tail_factor(r[-max(2, n // 4) :]) >= 1.0:
            return Status.DIVERGED
        return Status.MAX_ITER


def tail_factor(residuals):
    """exp of the least-squares slope of log r_k against k: the observed
    per-iteration contraction factor (inf when a residual is 0 after a
    non-zero one cannot be logged: treated as contracting, so 0.0)."""
    if min(residuals) <= 0.0:
        return 0.0
    m = len(residuals)
    logs = [math.log(v) for v in residuals]
    k_mean, log_mean = (m - 1) / 2, sum(logs) / m
    cov = sum((k - k_mean) * (y - log_mean) for k, y in enumerate(logs))
    var = sum((k - k_mean) ** 2 for k in range(m))
    return math.exp(cov / var)
