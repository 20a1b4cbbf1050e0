"""Where arrays live: NumPy on the CPU or CuPy on a CUDA GPU.

Two separate questions are answered here.

* Dispatch follows the arrays: :func:`get_namespace` returns the array namespace
  of the arrays a function received (NumPy, CuPy, or any array-API namespace such
  as ``array_api_strict``). Mixing namespaces is a ``TypeError``.
* The backend switch decides where *new* arrays are created (:func:`asarray`) and
  which kernels the models run: :func:`set_backend`, the :func:`use_backend`
  context manager, and the environment variable ``RBPTK_BACKEND`` (``cpu`` or
  ``gpu``; read once, at the first query). Asking for ``gpu`` where CuPy is missing
  or sees no CUDA device raises :class:`BackendError` at once; there is no silent
  fallback to the CPU.
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

__all__ = [
    "BackendError",
    "asarray",
    "get_backend",
    "get_namespace",
    "gpu_available",
    "namespace",
    "set_backend",
    "to_numpy",
    "use_backend",
]

BACKENDS = ("cpu", "gpu")
ENV_VAR = "RBPTK_BACKEND"


class BackendError(RuntimeError):
    """The requested backend cannot be used on this machine."""


_state = {"backend": None}


def _namespace_of(x):
    """Namespace of one array, or None for Python scalars and None."""
    if x is None or isinstance(x, (bool, int, float, complex)):
        return None
    if isinstance(x, (np.ndarray, np.generic)):
        return np
    module = type(x).__module__.split(".")[0]
    if module == "cupy":
        return sys.modules["cupy"]  # a CuPy array exists, so CuPy is imported
    if hasattr(x, "__array_namespace__"):
        return x.__array_namespace__()
    raise TypeError(f"expected an array (NumPy, CuPy or array-API), got {type(x).__name__}")


def get_namespace(*arrays):
    """Return the array namespace shared by ``arrays``.

    Parameters
    ----------
    *arrays : array_like or None
        NumPy, CuPy or array-API arrays; ``None`` and Python scalars are ignored.

    Returns
    -------
    module
        ``numpy``, ``cupy`` or the array-API namespace of the inputs; ``numpy``
        when no array is given.

    Raises
    ------
    TypeError
        If the arrays come from different namespaces (the message names both
        array types), or an argument is not an array.
    """
    found, first = None, None
    for x in arrays:
        xp = _namespace_of(x)
        if xp is None:
            continue
        if found is None:
            found, first = xp, x
        elif xp is not found:
            raise TypeError(
                "mixed array types: "
                f"{type(first).__module__}.{type(first).__name__} and "
                f"{type(x).__module__}.{type(x).__name__}; move all arrays to one "
                "backend first (rbptk.asarray or rbptk.to_numpy)"
            )
    return np if found is None else found


def gpu_available():
    """Whether CuPy imports and sees at least one CUDA device (never raises)."""
    try:
        _require_gpu()
    except BackendError:
        return False
    return True


def _require_gpu():
    try:
        import cupy
    except ImportError as err:
        raise BackendError(
            "backend 'gpu' needs CuPy, which is not installed (pip install 'rbptk[gpu]')"
        ) from err
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDA driver missing or broken
        raise BackendError(f"backend 'gpu': CuPy cannot reach a CUDA device ({err})") from err
    if count < 1:
        raise BackendError("backend 'gpu': CuPy sees no CUDA device on this machine")
    return cupy


def _validate(name):
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {BACKENDS}")
    if name == "gpu":
        _require_gpu()
    return name


def get_backend():
    """Name of the current backend, ``'cpu'`` or ``'gpu'``.

    The first call reads ``RBPTK_BACKEND`` (default ``cpu``) and validates it.
    """
    if _state["backend"] is None:
        _state["backend"] = _validate(os.environ.get(ENV_VAR, "cpu").strip().lower() or "cpu")
    return _state["backend"]


def set_backend(name):
    """Set where new arrays are created: ``'cpu'`` (NumPy) or ``'gpu'`` (CuPy).

    Raises
    ------
    ValueError
        For a name other than ``cpu`` or ``gpu``.
    BackendError
        For ``gpu`` when CuPy is missing or sees no CUDA device.
    """
    _state["backend"] = _validate(name)


@contextlib.contextmanager
def use_backend(name):
    """Context manager: ``with use_backend("gpu"): ...`` then restore the previous one."""
    previous = get_backend()
    set_backend(name)
    try:
        yield
    finally:
        _state["backend"] = previous


def namespace():
    """The array module of the current backend: ``numpy`` or ``cupy``."""
    return _require_gpu() if get_backend() == "gpu" else np


def asarray(x, dtype=None):
    """Copy or view ``x`` as an array of the current backend (NumPy or CuPy)."""
    xp = namespace()
    try:
        source = _namespace_of(x)
    except TypeError:  # a list, tuple or other array_like
        source = None
    if source not in (xp, None):
        x = to_numpy(x)  # another namespace: go through the host
    return xp.asarray(x, dtype=dtype)


def to_numpy(x):
    """Return ``x`` as a NumPy array (copies from the GPU; NumPy input is returned as is)."""
    if _namespace_of(x) is np or _namespace_of(x) is None:
        return np.asarray(x)
    if type(x).__module__.split(".")[0] == "cupy":
        return x.get()
    return np.asarray(x)


def synchronize(x):
    """Wait until the device work producing ``x`` has finished (CuPy arrays: the
    current stream; anything else: nothing to wait for). Call before reading a
    clock."""
    if type(x).__module__.split(".")[0] == "cupy":
        import cupy

        cupy.cuda.get_current_stream().synchronize()
