"""Status codes and result records shared by the forward pass and the methods."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "AdjointInfo",
    "ContractionWarning",
    "ConvergenceError",
    "ForwardInfo",
    "Status",
    "ZeroGradientWarning",
]


class Status(str, enum.Enum):
    """Outcome of an iteration.

    CONVERGED  the residual fell below the tolerance (BPTT/TBPTT: exact, finite result)
    MAX_ITER   the iteration budget ran out first (normal for fixed-K truncations)
    DIVERGED   the residual grew (spectral radius >= 1, say)
    NON_FINITE a NaN or infinity appeared
    BREAKDOWN  the Krylov recurrence broke down (CG: p^T M p <= 0)
    """

    CONVERGED = "converged"
    MAX_ITER = "max_iter"
    DIVERGED = "diverged"
    NON_FINITE = "non_finite"
    BREAKDOWN = "breakdown"

    @property
    def failed(self):
        """True for DIVERGED, NON_FINITE and BREAKDOWN."""
        return self in (Status.DIVERGED, Status.NON_FINITE, Status.BREAKDOWN)


@dataclass
class ForwardInfo:
    """What the forward pass did.

    Attributes
    ----------
    status : Status
        CONVERGED (tolerance met), MAX_ITER (all steps run) or NON_FINITE.
    steps : int
        Number of steps taken, T.
    residuals : list of float
        ||h_{t+1} - h_t|| for t = 0 .. T-1.
    wall_time : float
        Seconds.
    """

    status: Status
    steps: int
    residuals: list = field(default_factory=list)
    wall_time: float = 0.0


@dataclass
class AdjointInfo:
    """What an adjoint method did.

    Attributes
    ----------
    method : str
        Method name.
    status : Status
        See :class:`Status`.
    iterations : int
        Iterations of the adjoint loop (BPTT/TBPTT: steps back-propagated).
    residuals : list of float
        Per-iteration residual norm (RBP: ||z_i - z_{i-1}||; Neumann: ||v_t||;
        CG: ||r_i|| of the normal equations; BPTT: ||u_t||).
    n_jvp, n_vjp : int
        Number of J v and J^T u products.
    wall_time : float
        Seconds.
    forward : ForwardInfo or None
        Filled in by :func:`rbptk.gradient`.
    peak_bytes : int or None
        Peak extra memory of the whole gradient, when asked for.
    time_adjoint : float
        Seconds of the adjoint method alone (``wall_time`` is the whole
        gradient when it comes from :func:`rbptk.gradient`).
    message : str
        What happened, and for a failure what to try (set by the front door).
    max_iter_fails : bool
        Whether MAX_ITER is a failure for this method (set by the front door
        from :mod:`rbptk.registry`: True for the Krylov and user solvers).
    extra : dict
        ``h`` (h_T), ``loss`` and optional diagnostics (``rho``, ``zero_gradient``).

    Also, read-only: ``success`` (no failure by the method's rule in
    :mod:`rbptk.registry`), ``nit`` (= ``iterations``), ``loss``, ``h``,
    ``time_forward``.
    """

    method: str
    status: Status
    iterations: int = 0
    residuals: list = field(default_factory=list)
    n_jvp: int = 0
    n_vjp: int = 0
    wall_time: float = 0.0
    forward: ForwardInfo | None = None
    peak_bytes: int | None = None
    time_adjoint: float = 0.0
    message: str = ""
    max_iter_fails: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def success(self):
        """False when the forward pass or the method failed: DIVERGED,
        NON_FINITE, BREAKDOWN, or MAX_ITER where the method's registry entry
        says an exhausted budget fails (``max_iter_fails``)."""
        failed = self.status.failed or (self.max_iter_fails and self.status is not Status.CONVERGED)
        return not (failed or (self.forward is not None and self.forward.status.failed))

    @property
    def nit(self):
        """Iterations of the adjoint loop (SciPy's name)."""
        return self.iterations

    @property
    def loss(self):
        """The loss at h_T when ``loss_grad`` returned one, else None."""
        return self.extra.get("loss")

    @property
    def h(self):
        """The final state h_T (None when unknown)."""
        return self.extra.get("h")

    @property
    def time_forward(self):
        """Seconds of the forward pass (0.0 when it is not recorded)."""
        return self.forward.wall_time if self.forward is not None else 0.0


class ConvergenceError(RuntimeError):
    """A forward pass or adjoint method failed (diverged, non-finite, breakdown).

    ``.info`` holds the :class:`AdjointInfo` (or :class:`ForwardInfo`) and
    ``.grads`` whatever gradient was reached, for inspection.
    """

    def __init__(self, message, info=None, grads=None):
        super().__init__(message)
        self.info = info
        self.grads = grads


class ContractionWarning(UserWarning):
    """The estimated spectral radius of J at the fixed point is >= 1: the RBP
    iteration and the Neumann series will not converge there."""


class ZeroGradientWarning(UserWarning):
    """Every parameter gradient is exactly zero although dL/dh_T is not: saturated
    units (e.g. GRU update gates at exactly 1 in float32) or underflow."""
