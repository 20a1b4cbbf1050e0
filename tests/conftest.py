"""Shared fixtures: array namespaces to run the generic solvers on."""

import numpy as np
import pytest

import rbptk


def _cupy_or_skip():
    if not rbptk.gpu_available():
        pytest.skip("CuPy is not installed or sees no CUDA device on this machine")
    import cupy

    return cupy


def _strict():
    import array_api_strict

    return array_api_strict


NAMESPACES = {
    "numpy": lambda: np,
    "array_api_strict": _strict,
    "cupy": _cupy_or_skip,
}


@pytest.fixture(params=list(NAMESPACES))
def xp(request):
    """numpy, array_api_strict and cupy (skipped without a CUDA device)."""
    return NAMESPACES[request.param]()


@pytest.fixture
def cupy():
    """CuPy, or a skip with the reason when no CUDA device is visible."""
    return _cupy_or_skip()


def to_xp(xp, tree):
    """Move a NumPy array or a dict of them to namespace ``xp``."""
    if isinstance(tree, dict):
        return {k: xp.asarray(v) for k, v in tree.items()}
    return xp.asarray(tree)


def rel(a, b):
    a, b = rbptk.to_numpy(a), rbptk.to_numpy(b)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def pytest_collection_modifyitems(items):
    """Mark every test that runs on CuPy (the ``cupy`` fixture or a "cupy"
    parameter) as gpu, so ``pytest -m gpu`` selects exactly them."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_cupy = any(isinstance(v, str) and v == "cupy" for v in params.values())
        if on_cupy or "cupy" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gpu)
