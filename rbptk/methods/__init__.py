"""Adjoint methods, one per file, all with the signature
``method(dynamics, traj, params, g, *, inputs=None, K=..., ...) -> (grads, info)``."""

from .bptt import bptt
from .cg import cg
from .neumann import neumann
from .rbp import rbp

__all__ = ["bptt", "cg", "neumann", "rbp"]
