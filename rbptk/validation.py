"""Argument checks of the front door: every one raises TypeError or ValueError
naming the argument before any work is done."""

from __future__ import annotations

import inspect
import math

import numpy as np

from ._array import all_finite
from .backend import get_namespace

__all__ = [
    "SUPPORTED_DTYPES",
    "check_count",
    "check_dynamics_object",
    "check_gradient_keys",
    "check_inputs_length",
    "check_linearization",
    "check_state_and_params",
    "check_tolerance",
    "check_warm_start",
    "loss_and_gradient",
]

SUPPORTED_DTYPES = ("float32", "float64")


def check_count(name, value, minimum=1):
    """``value`` as an int >= ``minimum``; ValueError naming ``name`` otherwise
    (None, bool, NaN, infinity, fractions, strings, and floats beyond 2^53,
    which are no longer exact integers, included)."""
    ok = isinstance(value, int | float | np.integer) and not isinstance(value, bool | np.bool_)
    ok = ok and (not isinstance(value, float) or (math.isfinite(value) and abs(value) <= 2**53))
    if not ok or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_tolerance(name, value):
    """None, or a finite float >= 0; ValueError naming ``name`` otherwise."""
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be None or a finite number >= 0, got {value!r}")
    return float(value)


def check_dynamics_object(dynamics):
    """An instance with callable ``step`` and ``linearize``."""
    if isinstance(dynamics, type):
        raise TypeError(
            f"dynamics must be an instance, got the class {dynamics.__name__}: "
            f"pass {dynamics.__name__}(...)"
        )
    for method in ("step", "linearize"):
        if not callable(getattr(dynamics, method, None)):
            raise TypeError(
                f"dynamics ({type(dynamics).__name__}) has no method {method}(h, params, x); "
                "see rbptk.Dynamics"
            )


def _dtype_name(a):
    return str(getattr(a.dtype, "name", a.dtype)).split(".")[-1]


def check_state_and_params(dynamics, h0, params, x0):
    """Namespace, dtypes, finiteness and the model's own shape checks; returns
    the array namespace."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    if not params:
        raise ValueError("params is empty: there is nothing to differentiate")
    xp = get_namespace(h0, *params.values())  # TypeError on mixed array types
    arrays = {"h0": h0, **{f"params[{k!r}]": v for k, v in params.items()}}
    for name, a in arrays.items():
        if _dtype_name(a) not in SUPPORTED_DTYPES:
            supported = " and ".join(SUPPORTED_DTYPES)
            raise TypeError(f"{name} has dtype {_dtype_name(a)}; rbptk supports {supported}")
    for name, a in arrays.items():
        if _dtype_name(a) != _dtype_name(h0):
            raise TypeError(
                f"{name} is {_dtype_name(a)} but h0 is {_dtype_name(h0)}: rbptk computes in one "
                "dtype and does not promote; cast them alike (e.g. with .astype)"
            )
    for name, a in arrays.items():
        if not all_finite(a):
            raise ValueError(f"{name} contains NaN or infinite values")
    validate = getattr(dynamics, "validate", None)
    if validate is not None:
        takes_x = len(inspect.signature(validate).parameters) >= 3
        validate(h0, params, x0) if takes_x else validate(h0, params)
    return xp


def check_inputs_length(inputs, steps):
    """A sequence of inputs must hold one entry per step."""
    if inputs is None or callable(inputs):
        return
    if not hasattr(inputs, "__getitem__"):
        raise TypeError(
            f"inputs must be None, a sequence or a callable t -> x_t, got {type(inputs).__name__}"
        )
    if hasattr(inputs, "__len__") and len(inputs) < steps:
        raise ValueError(f"inputs holds {len(inputs)} entries but steps={steps} needs one per step")


def check_linearization(lin, dynamics):
    """The linearisation offers jvp, vjp and vjp_params."""
    missing = [m for m in ("jvp", "vjp", "vjp_params") if not callable(getattr(lin, m, None))]
    if missing:
        raise TypeError(
            f"{type(dynamics).__name__}.linearize returned {type(lin).__name__} without "
            f"{', '.join(missing)}; see rbptk.Linearization"
        )


def loss_and_gradient(loss_grad, h, has_aux=None):
    """(loss or None, g) from ``loss_grad``: an array g, or a callable returning
    g or (loss, g); ``has_aux`` True or False says which (None: either)."""
    out = loss_grad(h) if callable(loss_grad) else loss_grad
    loss, g = None, out
    if has_aux is not None and isinstance(out, tuple) != bool(has_aux):
        expected = "(loss, dL/dh_T)" if has_aux else "dL/dh_T alone"
        raise TypeError(
            f"has_aux={has_aux} says loss_grad returns {expected}, but it returned "
            f"{'a tuple' if isinstance(out, tuple) else type(out).__name__}"
        )
    if isinstance(out, tuple):
        if len(out) != 2:
            raise TypeError(
                f"loss_grad returned a tuple of {len(out)} items; return dL/dh_T or (loss, dL/dh_T)"
            )
        loss, g = out
        if _is_array(loss) and getattr(loss, "ndim", 0) > 0 and not _is_array(g):
            raise TypeError("loss_grad returned (dL/dh_T, loss): return (loss, dL/dh_T)")
        if not isinstance(loss, int | float) and not (
            _is_array(loss) and getattr(loss, "ndim", 1) == 0
        ):
            raise TypeError(
                f"loss_grad returned (loss, g) with a loss of type {type(loss).__name__}; "
                "the loss must be a number"
            )
    if not _is_array(g):
        raise TypeError(
            f"loss_grad must be dL/dh_T (an array shaped like the state) or a callable returning "
            f"it or (loss, dL/dh_T); got {type(g).__name__}"
        )
    get_namespace(h, g)
    if tuple(g.shape) != tuple(h.shape):
        raise ValueError(f"dL/dh_T has shape {tuple(g.shape)}, the state has {tuple(h.shape)}")
    if _dtype_name(g) != _dtype_name(h):
        raise TypeError(f"dL/dh_T is {_dtype_name(g)} but the state is {_dtype_name(h)}")
    if not all_finite(g):
        raise ValueError("dL/dh_T contains NaN or infinite values")
    return loss, g


def _is_array(a):
    return hasattr(a, "shape") and hasattr(a, "dtype")


def check_warm_start(x0, h0, method_spec):
    """x0: None, or an array like h0 (shape, dtype, namespace, finite), for a
    method that solves for the adjoint."""
    if x0 is None:
        return
    if method_spec.trajectory:
        raise ValueError(
            f"x0 warm-starts the adjoint solve; {method_spec.name} back-propagates and has none"
        )
    if not _is_array(x0):
        raise TypeError(f"x0 must be an array shaped like h0, got {type(x0).__name__}")
    get_namespace(h0, x0)
    if tuple(x0.shape) != tuple(h0.shape) or _dtype_name(x0) != _dtype_name(h0):
        raise ValueError(
            f"x0 has shape {tuple(x0.shape)} and dtype {_dtype_name(x0)}; h0 has "
            f"{tuple(h0.shape)} and {_dtype_name(h0)}"
        )
    if not all_finite(x0):
        raise ValueError("x0 contains NaN or infinite values")


def check_callback(callback, method_spec):
    """callback: None, or a callable, for a built-in method that iterates on the adjoint."""
    if callback is None:
        return
    if not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    if method_spec.trajectory:
        raise ValueError(
            f"callback sees the adjoint solve's iterates; {method_spec.name} back-propagates "
            "and has none"
        )
    from .registry import REGISTRY

    if REGISTRY.get(method_spec.name) is not method_spec:
        raise ValueError(
            f"callback is for the built-in solvers; {method_spec.name} is your own solver: "
            "call your callback inside it"
        )


def check_gradient_keys(grads, params, dynamics):
    """vjp_params must return exactly the keys of params."""
    if grads is not None and set(grads) != set(params):
        raise ValueError(
            f"{type(dynamics).__name__}'s vjp_params returned keys {sorted(grads)}, "
            f"params has {sorted(params)}"
        )
