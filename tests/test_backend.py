import subprocess
import sys

import array_api_strict
import numpy as np
import pytest

import rbptk
from rbptk import backend


def test_get_namespace_follows_the_arrays():
    assert rbptk.get_namespace(np.ones(2), None, 3.0) is np
    assert rbptk.get_namespace(array_api_strict.ones(2)) is array_api_strict
    assert rbptk.get_namespace() is np


def test_mixed_arrays_name_both_types():
    with pytest.raises(TypeError, match=r"numpy\.ndarray.*array_api_strict"):
        rbptk.get_namespace(np.ones(2), array_api_strict.ones(2))


def test_non_array_is_refused():
    with pytest.raises(TypeError, match="expected an array"):
        rbptk.get_namespace([1.0, 2.0])


def test_cupy_is_not_imported_for_numpy_dispatch():
    code = (
        "import sys, numpy as np, rbptk\n"
        "rbptk.get_namespace(np.ones(3), np.ones(2)); rbptk.to_numpy(np.ones(2))\n"
        "assert 'cupy' not in sys.modules, 'cupy was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture
def fresh_backend(monkeypatch):
    monkeypatch.setitem(backend._state, "backend", None)
    return monkeypatch


def test_unknown_backend_is_refused(fresh_backend):
    with pytest.raises(ValueError, match="unknown backend 'tpu'"):
        rbptk.set_backend("tpu")


def test_env_var_chooses_and_is_validated(fresh_backend):
    fresh_backend.setenv("RBPTK_BACKEND", "cpu")
    assert rbptk.get_backend() == "cpu"
    backend._state["backend"] = None
    fresh_backend.setenv("RBPTK_BACKEND", "quantum")
    with pytest.raises(ValueError, match="unknown backend 'quantum'"):
        rbptk.get_backend()


@pytest.mark.skipif(rbptk.gpu_available(), reason="this machine has a CUDA device")
def test_gpu_without_device_fails_at_once(fresh_backend):
    with pytest.raises(rbptk.BackendError, match="backend 'gpu'"):
        rbptk.set_backend("gpu")
    fresh_backend.setenv("RBPTK_BACKEND", "gpu")
    with pytest.raises(rbptk.BackendError, match="backend 'gpu'"):
        rbptk.get_backend()
    with pytest.raises(rbptk.BackendError):
        with rbptk.use_backend("gpu"):
            pass


def test_use_backend_restores(fresh_backend):
    rbptk.set_backend("cpu")
    with rbptk.use_backend("cpu"):
        assert rbptk.get_backend() == "cpu"
    assert rbptk.get_backend() == "cpu"


def test_asarray_and_to_numpy_roundtrip(fresh_backend):
    rbptk.set_backend("cpu")
    a = rbptk.asarray([1.0, 2.0], dtype=np.float32)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    np.testing.assert_array_equal(rbptk.to_numpy(array_api_strict.asarray([1.0, 2.0])), [1.0, 2.0])


@pytest.mark.gpu
def test_gpu_backend_creates_cupy_arrays(cupy, fresh_backend):
    with rbptk.use_backend("gpu"):
        a = rbptk.asarray(np.arange(3.0))
    assert isinstance(a, cupy.ndarray)
    assert rbptk.get_namespace(a) is cupy
    np.testing.assert_array_equal(rbptk.to_numpy(a), np.arange(3.0))
    with pytest.raises(TypeError, match="mixed array types"):
        rbptk.get_namespace(a, np.ones(3))
