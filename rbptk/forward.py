"""Iterate the dynamics forward, keeping only the tail of the trajectory."""

from __future__ import annotations

import collections
import math
import time
from dataclasses import dataclass

from . import kernels
from ._array import HostBatch, norm
from .dynamics import prepare
from .info import ForwardInfo, Status

__all__ = ["Trajectory", "as_input_fn", "forward"]


@dataclass
class Trajectory:
    """The kept tail of a forward pass.

    Attributes
    ----------
    states : list of arrays
        h_{T-k+1}, ..., h_T: the last ``k = len(states)`` states.
    info : ForwardInfo
        Status, steps T and per-step residuals.
    """

    states: list
    info: ForwardInfo

    @property
    def h(self):
        """The final state h_T."""
        return self.states[-1]

    @property
    def first(self):
        """Time index of ``states[0]``."""
        return self.info.steps + 1 - len(self.states)


def as_input_fn(inputs):
    """Turn ``inputs`` (None, a sequence indexed by step, or a callable t -> x_t)
    into a callable."""
    if inputs is None:
        return lambda t: None
    if callable(inputs):
        return inputs
    if hasattr(inputs, "__getitem__"):
        return inputs.__getitem__
    raise TypeError(f"inputs must be None, a sequence or a callable, got {type(inputs).__name__}")


def forward(dynamics, h0, params, steps, *, inputs=None, keep=2, tol=None):
    """Run h_{t+1} = F(h_t, params, x_t) for t = 0 .. T-1.

    Parameters
    ----------
    dynamics : Dynamics
        The step map F.
    h0 : array
        Initial state.
    params : dict of arrays
        Parameters of F.
    steps : int
        Maximum number of steps T (>= 1).
    inputs : None, sequence or callable, optional
        x_t for step t (see :mod:`rbptk.dynamics`).
    keep : int or None, default 2
        Number of final states to keep: 2 for the RBP family (h_{T-1}, h_T),
        K + 1 for TBPTT(K), None for all T + 1 states (BPTT). Memory is
        ``keep`` states whatever T is.
    tol : float, optional
        Stop early once ||h_{t+1} - h_t|| <= tol * ||h_{t+1}|| (status CONVERGED).

    Returns
    -------
    Trajectory
        The kept states and a :class:`ForwardInfo`. A NaN or infinity stops the
        pass with status NON_FINITE. On a device the residuals reach the host
        every ``HOST_SYNC_EVERY`` steps (one transfer), so either stop may come
        up to that many steps late; the kept states are the last ones computed.
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if keep is not None and (int(keep) != keep or keep < 1):
        raise ValueError(f"keep must be None or an integer >= 1, got {keep!r}")
    x_at = as_input_fn(inputs)
    start = time.perf_counter()
    params = prepare(dynamics, params)
    tail = collections.deque([h0], maxlen=keep)
    residuals = []
    batch = HostBatch()
    status = None
    h = h0
    for t in range(int(steps)):
        h_next = dynamics.step(h, params, x_at(t))
        if t == 0 and tuple(h_next.shape) != tuple(h0.shape):
            raise ValueError(
                f"step returned a state of shape {tuple(h_next.shape)} for h0 of "
                f"shape {tuple(h0.shape)}"
            )
        scale = norm(h_next, host=False) if tol is not None else 1.0
        status = _verdict(
            batch.add(kernels.diff_norm(h_next, h, host=False), scale), tol, residuals
        )
        tail.append(h_next)
        h = h_next
        if status is not None:
            break
    status = status or _verdict(batch.flush(), tol, residuals) or Status.MAX_ITER
    info = ForwardInfo(status, len(residuals), residuals, time.perf_counter() - start)
    return Trajectory(list(tail), info)


def _verdict(rows, tol, residuals):
    """Record rows (r, scale) of residuals; NON_FINITE, CONVERGED or None."""
    status = None
    for r, scale in rows:
        residuals.append(r)
        if not math.isfinite(r):
            return Status.NON_FINITE
        if status is None and tol is not None and r <= tol * scale:
            status = Status.CONVERGED
    return status
