"""Adjoint methods, one per file, all with the signature
``method(dynamics, traj, params, g, *, inputs=None, K=..., ...) -> (grads, info)``.

The implicit ones (rbp, cg, neumann, krylov) are each a solver of
(I - J^T) z = g on an :class:`AdjointOperator` (``rbp_solve``, ``cg_solve``,
``neumann_solve``, ``krylov_solve``: ``solve(A, g, *, maxiter, rtol, x0,
callback, ...) -> (z, info)``) inside the shared frame
:func:`implicit_gradient` (linearise the last step, solve, parameter product).
"""

from ._common import linearize_last
from ._implicit import AdjointOperator, implicit_gradient
from .bptt import bptt
from .cg import cg, cg_solve
from .krylov import SOLVERS as krylov_solvers
from .krylov import krylov, krylov_solve
from .neumann import neumann, neumann_solve
from .rbp import rbp, rbp_solve
from .user import user_solver

__all__ = [
    "AdjointOperator",
    "bptt",
    "cg",
    "cg_solve",
    "implicit_gradient",
    "krylov",
    "krylov_solve",
    "krylov_solvers",
    "linearize_last",
    "neumann",
    "neumann_solve",
    "rbp",
    "rbp_solve",
    "user_solver",
]
