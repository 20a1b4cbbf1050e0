"""rbptk: gradients of convergent recurrent dynamics (recurrent back-propagation)
on NumPy or CuPy arrays, with hand-written Jacobian products."""

# first: _threads sets thread-pool defaults before NumPy loads OpenBLAS
from ._threads import openblas_thread_timeout  # noqa: I001
from . import check, diagnostics, methods, models, optim, registry  # noqa: E402  (they import gradient)
from .anderson import anderson
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
from .gradient import KRYLOV, METHODS, PAPER_METHODS, gradient
from .info import (
    AdjointInfo,
    ContractionWarning,
    ConvergenceError,
    ForwardInfo,
    Status,
    ZeroGradientWarning,
)
from .memory import peak_memory

__version__ = "0.1.0"

__all__ = [
    "KRYLOV",
    "METHODS",
    "PAPER_METHODS",
    "AdjointInfo",
    "BackendError",
    "ContractionWarning",
    "ConvergenceError",
    "Dynamics",
    "ForwardInfo",
    "Linearization",
    "Status",
    "Trajectory",
    "ZeroGradientWarning",
    "anderson",
    "asarray",
    "check",
    "diagnostics",
    "forward",
    "get_backend",
    "get_namespace",
    "gpu_available",
    "gradient",
    "methods",
    "models",
    "openblas_thread_timeout",
    "optim",
    "peak_memory",
    "registry",
    "set_backend",
    "to_numpy",
    "use_backend",
]
