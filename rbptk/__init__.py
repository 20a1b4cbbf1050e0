"""rbptk: gradients of convergent recurrent dynamics (recurrent back-propagation)
on NumPy or CuPy arrays, with hand-written Jacobian products."""

from . import check, methods, models, optim
from .backend import (
    BackendError,
    asarray,
    get_backend,
    get_namespace,
    gpu_available,
    set_backend,
    to_numpy,
    use_backend,
)
from .dynamics import Dynamics, Linearization
from .forward import Trajectory, forward
from .gradient import METHODS, gradient
from .info import AdjointInfo, ConvergenceError, ForwardInfo, Status
from .memory import peak_memory

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "AdjointInfo",
    "BackendError",
    "ConvergenceError",
    "Dynamics",
    "ForwardInfo",
    "Linearization",
    "Status",
    "Trajectory",
    "asarray",
    "check",
    "forward",
    "get_backend",
    "get_namespace",
    "gpu_available",
    "gradient",
    "methods",
    "models",
    "optim",
    "peak_memory",
    "set_backend",
    "to_numpy",
    "use_backend",
]
