"""Every gradient method, declared once: what it keeps, what it needs, its
defaults, and which outcomes count as failure. The front door, the benchmarks
and the programs look methods up here; adding a method is one entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import methods
from .info import Status

__all__ = ["KRYLOV", "METHODS", "PAPER_METHODS", "REGISTRY", "MethodSpec", "spec"]


@dataclass(frozen=True)
class MethodSpec:
    """One gradient method.

    Attributes
    ----------
    name : str
    paper : bool
        One of the five methods of Liao et al. (2018).
    trajectory : bool
        Back-propagates through the trajectory (needs the states of the forward
        pass); False: linearises the last step only (the RBP family and the
        Krylov solvers, which can also start from an Anderson fixed point).
    default_maxiter : int
        Iteration budget K when neither ``maxiter`` nor ``truncate`` is given
        (TBPTT: its K steps; BPTT: unused).
    default_tol : float or None
        Early-stopping tolerance when ``rtol`` is None (None: run all K).
    tol_meaning : str
        What ``tol`` is relative to, for the docs and error messages.
    max_iter_fails : bool
        An exhausted budget counts as failure (the Krylov solvers: their
        answer is only trusted when it meets ``tol``).
    solve : callable
        ``solve(dynamics, traj, params, g, *, inputs, K, tol, eta, seed, alpha,
        x0, callback) -> (grads, info)``; ``x0`` warm-starts the adjoint (None:
        the method's own start) and ``callback(z)`` sees its iterates (both
        ignored by BPTT and TBPTT, refused by the front door there; a user's
        solver gets no callback: it runs its own iteration).
    """

    name: str
    paper: bool
    trajectory: bool
    default_maxiter: int
    default_tol: float | None
    tol_meaning: str
    max_iter_fails: bool
    solve: Callable

    def keep(self, K, steps):
        """States the forward pass keeps: all T + 1 (BPTT), K + 1 (TBPTT), or
        the last two (methods that linearise the last step)."""
        if self.trajectory and self.name == "bptt":
            return None
        return min(K, steps) + 1 if self.trajectory else 2

    def failed(self, status):
        """Whether ``status`` is a failure for this method."""
        return status.failed or (self.max_iter_fails and status is not Status.CONVERGED)


def _bptt(name):
    def solve(dynamics, traj, params, g, *, inputs, K, tol, eta, seed, alpha, x0, callback=None):
        grads, info = methods.bptt(
            dynamics, traj, params, g, inputs=inputs, K=None if name == "bptt" else K
        )
        info.method = name
        return grads, info

    return solve


def _implicit(solve_adjoint, takes=(), **fixed):
    """The registry's ``solve`` for an implicit method: ``solve_adjoint`` of (I - J^T) z = g
    inside :func:`rbptk.methods.implicit_gradient`, with K as ``maxiter``, tol as
    ``rtol``, the front-door options it ``takes`` (e.g. ``("seed",)``) and
    ``fixed`` keywords (the Krylov solver's name)."""

    def solve(dynamics, traj, params, g, *, inputs, K, tol, x0, callback=None, **options):
        return methods.implicit_gradient(
            solve_adjoint, dynamics, traj, params, g, inputs=inputs, maxiter=K, rtol=tol, x0=x0,
            callback=callback, **{k: options[k] for k in takes}, **fixed,
        )  # fmt: skip

    return solve


_ADJOINT = "the relative residual of the adjoint system (I - J^T) z = g"
_SPECS = [
    MethodSpec(
        "bptt", True, True, 20, None, "unused (exact back-propagation)", False, _bptt("bptt")
    ),
    MethodSpec(
        "tbptt", True, True, 20, None, "unused (exact for its K steps)", False, _bptt("tbptt")
    ),
    MethodSpec(
        "rbp",
        True,
        False,
        20,
        None,
        "||z_i - z_{i-1}|| / ||z_i||",
        False,
        _implicit(methods.rbp_solve, ("seed",)),
    ),
    MethodSpec(
        "cg",
        True,
        False,
        20,
        1e-5,
        "||r|| / ||b|| of the normal equations",
        False,
        _implicit(methods.cg_solve, ("eta",)),
    ),
    MethodSpec(
        "neumann",
        True,
        False,
        20,
        None,
        "||v_t|| / ||s_t||",
        False,
        _implicit(methods.neumann_solve, ("alpha",)),
    ),
    *(
        MethodSpec(
            name,
            False,
            False,
            100,
            1e-8,
            _ADJOINT,
            True,
            _implicit(methods.krylov_solve, solver=name),
        )
        for name in methods.krylov_solvers
    ),
]
REGISTRY = {s.name: s for s in _SPECS}
PAPER_METHODS = tuple(s.name for s in _SPECS if s.paper)
KRYLOV = tuple(s.name for s in _SPECS if not s.paper)
METHODS = tuple(REGISTRY)


def custom(solver):
    """A :class:`MethodSpec` around a user's linear solver (see :func:`spec`)."""
    name = getattr(solver, "__name__", type(solver).__name__)
    return MethodSpec(
        name, False, False, 100, 1e-8, _ADJOINT, True, _implicit(methods.user_solver(solver, name))
    )


def spec(method):
    """The :class:`MethodSpec` of ``method``: a registered name, or a callable
    ``solve(matvec, b, *, x0, maxiter, rtol)`` returning z or (z, info) for
    (I - J^T) z = g (wrapped by :func:`custom`). ValueError naming the
    choices otherwise."""
    if callable(method):
        return custom(method)
    try:
        return REGISTRY[method]
    except (KeyError, TypeError):
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}") from None
