"""Adjoint methods, one per file, all with the signature
``method(dynamics, traj, params, g, *, inputs=None, K=..., ...) -> (grads, info)``."""

from ._common import linearize_last
from .bptt import bptt
from .cg import cg
from .krylov import SOLVERS as krylov_solvers
from .krylov import krylov
from .neumann import neumann
from .rbp import rbp
from .user import user_solver

__all__ = [
    "bptt",
    "cg",
    "krylov",
    "krylov_solvers",
    "linearize_last",
    "neumann",
    "rbp",
    "user_solver",
]
