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
    """Watch a residual sequence r_1, r_2, ... of an iteration that should contract.

    ``update(r, scale)`` returns a final status or None (keep going):
    NON_FINITE for NaN/inf, CONVERGED when ``r <= tol * scale``, DIVERGED when
    r exceeds ``blowup`` times the smallest residual so far. After the last
    iteration, ``final()`` returns DIVERGED when the last residual is larger than
    the first (the iteration grew instead of contracting), else MAX_ITER.
    """

    def __init__(self, tol=None, blowup=1e4):
        self.tol = tol
        self.blowup = blowup
        self.residuals = []

    def update(self, r, scale=1.0):
        self.residuals.append(r)
        if not math.isfinite(r):
            return Status.NON_FINITE
        if self.tol is not None and r <= self.tol * scale:
            return Status.CONVERGED
        if r > self.blowup * min(self.residuals):
            return Status.DIVERGED
        return None

    def final(self):
        r = self.residuals
        return Status.DIVERGED if len(r) > 1 and r[-1] > r[0] else Status.MAX_ITER
