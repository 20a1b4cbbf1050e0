"""The GPU path's contracts that a machine without a device can check: the
keywords passed to CuPy's solvers, GMRES's cycle arithmetic and breakdown
handling, dtypes, and how often the loops bring scalars to the host."""

import ast
import importlib.util
import inspect
import math
import pathlib

import array_api_strict
import numpy as np
import pytest
import scipy.sparse.linalg
from conftest import rel, to_xp
from helpers import affine_problem

import rbptk
from rbptk import methods
from rbptk._array import HOST_SYNC_EVERY
from rbptk.methods.krylov import SOLVERS, closed_krylov_dimension, solver_keywords


def _cupy_solver_parameters():
    """Parameter names of cupyx.scipy.sparse.linalg's solvers, read from the
    installed CuPy's source (importing it needs the CUDA libraries)."""
    spec = importlib.util.find_spec("cupyx")
    if spec is None:
        pytest.skip("CuPy is not installed on this machine")
    folder = pathlib.Path(spec.origin).parent / "scipy" / "sparse" / "linalg"
    found = {}
    for path in folder.glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name in SOLVERS:
                args = node.args.args + node.args.kwonlyargs
                found[node.name] = {a.arg for a in args}
    return found


@pytest.mark.parametrize("solver", SOLVERS)
def test_keywords_exist_in_the_installed_cupy(solver):
    parameters = _cupy_solver_parameters()
    if solver not in parameters:
        pytest.skip(f"this CuPy has no {solver} (rbptk then raises a clear error)")
    kw = solver_keywords("cupy", solver, tol=1e-8, K=100, restart=30, callback=print)
    assert set(kw) <= parameters[solver], set(kw) - parameters[solver]


@pytest.mark.parametrize("solver", SOLVERS)
def test_keywords_exist_in_scipy(solver):
    parameters = inspect.signature(getattr(scipy.sparse.linalg, solver)).parameters
    kw = solver_keywords("scipy", solver, tol=1e-8, K=100, restart=30, callback=print)
    assert set(kw) <= set(parameters), set(kw) - set(parameters)


def _cupy_gmres_cycles(maxiter, restart):
    """Cycles run by CuPy 14's GMRES loop: stop at the top once iters >= maxiter."""
    iters = cycles = 0
    while iters < maxiter:
        iters += restart
        cycles += 1
    return cycles


@pytest.mark.parametrize(("K", "restart"), [(100, 30), (20, 20), (60, 7), (5, 30)])
def test_gmres_runs_the_same_cycles_on_scipy_and_cupy(K, restart):
    scipy_kw = solver_keywords("scipy", "gmres", tol=0, K=K, restart=restart, callback=None)
    cupy_kw = solver_keywords("cupy", "gmres", tol=0, K=K, restart=restart, callback=None)
    cycles = scipy_kw["maxiter"]  # SciPy counts restart cycles
    assert cycles == max(1, K // restart)
    assert _cupy_gmres_cycles(cupy_kw["maxiter"], restart) == cycles


def test_closed_krylov_dimension_reads_the_first_nan_basis_vector():
    ok, nan = True, False
    # restart 4: [iterate, v0, v1, v2, v3] per cycle
    assert closed_krylov_dimension([ok] * 10, 4) is None
    assert closed_krylov_dimension([ok, ok, nan, nan, nan], 4) == 1  # v1 NaN: space of v0
    assert closed_krylov_dimension([ok, ok, ok, ok, nan], 4) == 3
    assert closed_krylov_dimension([ok] * 5 + [ok, ok, ok, nan], 4) == 2  # second cycle
    assert closed_krylov_dimension([nan, nan], 4) is None  # a NaN iterate: no closed space


@pytest.mark.parametrize("solver", SOLVERS)
def test_krylov_returns_float32_for_float32(solver):
    model, params, h_star, g, exact, _ = affine_problem(rho=0.9)  # symmetric J, for minres
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    grads, info = rbptk.gradient(
        model, h_star.astype(np.float32), p32, g.astype(np.float32), method=solver,
        steps=5, truncate=60, tol=1e-5,
    )  # fmt: skip
    assert all(v.dtype == np.float32 for v in grads.values())
    # cond(I - A) <= 1 / (1 - 0.9) = 10: tol 1e-5 times 10, plus float32 rounding
    assert rel(grads["w"], exact) <= 10 * (1e-5 + 100 * np.finfo(np.float32).eps)


@pytest.fixture(params=["numpy", "cupy"])
def krylov_xp(request):
    if request.param == "numpy":
        return np
    if not rbptk.gpu_available():
        pytest.skip("CuPy is not installed or sees no CUDA device on this machine")
    import cupy

    return cupy


def test_gmres_survives_a_krylov_space_that_closes_at_once(krylov_xp):
    # J = 0 and g = 2 e_1: v_0 = e_1 exactly, so A v_0 - <v_0, A v_0> v_0 is an
    # exact zero, which CuPy's GMRES divides by.
    model, params, h_star, _, _, _ = affine_problem(rho=0.9)
    params["A"] = np.zeros_like(params["A"])
    g = np.zeros(12)
    g[0] = 2.0
    xp = krylov_xp
    grads, info = rbptk.gradient(
        model, xp.asarray(h_star), to_xp(xp, params), xp.asarray(g), method="gmres",
        steps=2, truncate=60, tol=1e-12,
    )  # fmt: skip
    assert info.status is rbptk.Status.CONVERGED
    np.testing.assert_allclose(rbptk.to_numpy(grads["w"]), params["B"].T @ g, rtol=1e-12)


class _Counter:
    """Counts host conversions of array_api_strict arrays."""

    NAMES = ("__float__", "__bool__", "__int__", "__index__", "__array__", "__dlpack__")

    def __init__(self, monkeypatch):
        self.count = 0
        cls = type(array_api_strict.asarray(0.0))
        for name in self.NAMES:
            original = getattr(cls, name)
            monkeypatch.setattr(cls, name, self._counting(original))

    def _counting(self, original):
        def wrapper(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        return wrapper


def _strict_problem():
    model, params, _, g, _, _ = affine_problem(rho=0.5)
    xp = array_api_strict
    return model, to_xp(xp, params), xp.zeros(12, dtype=xp.float64), xp.asarray(g)


K_LONG = 8 * HOST_SYNC_EVERY


@pytest.mark.parametrize("tol", [None, 1e-300])
def test_forward_brings_scalars_to_the_host_once_per_batch(monkeypatch, tol):
    model, params, h0, _ = _strict_problem()
    counter = _Counter(monkeypatch)
    traj = rbptk.forward(model, h0, params, K_LONG, tol=tol)
    steps = traj.info.steps  # with tol, it stops at a batch's end once ||h' - h|| = 0
    assert steps >= 2 * HOST_SYNC_EVERY and len(traj.info.residuals) == steps
    assert counter.count <= math.ceil(steps / HOST_SYNC_EVERY)


@pytest.mark.parametrize("method", ["neumann", "rbp", "cg"])
def test_adjoint_loops_bring_scalars_to_the_host_once_per_batch(monkeypatch, method):
    model, params, h0, g = _strict_problem()
    traj = rbptk.forward(model, h0, params, 3)
    counter = _Counter(monkeypatch)
    kw = {"tol": 0.0, "eta": 0.0} if method == "cg" else {}
    _, info = getattr(methods, method)(model, traj, params, g, K=K_LONG, **kw)
    # CG solves this 12-dimensional system exactly, then breaks down (<p, M p> = 0)
    assert info.iterations >= 2 * HOST_SYNC_EVERY and len(info.residuals) == info.iterations
    # one transfer per HOST_SYNC_EVERY iterations, plus one outside the loop
    # (CG's ||b|| at the start; the final iterate's norm for the divergence rule)
    batches = math.ceil(info.iterations / HOST_SYNC_EVERY)
    assert counter.count <= batches + 1


def test_late_stop_on_a_device_still_reports_convergence(monkeypatch):
    model, params, h_star, g, exact, _ = affine_problem(rho=0.5)
    xp = array_api_strict
    p, h = to_xp(xp, params), xp.asarray(h_star)
    traj = rbptk.forward(model, h, p, 3)
    for method in ("neumann", "rbp", "cg"):
        kw = {"eta": 0.0} if method == "cg" else {}
        grads, info = getattr(methods, method)(model, traj, p, xp.asarray(g), K=500, tol=1e-9, **kw)
        assert info.status is rbptk.Status.CONVERGED, method
        assert info.iterations % HOST_SYNC_EVERY == 0 and info.iterations < 500
        assert rel(grads["w"], exact) <= 1e-7


@pytest.mark.parametrize("name", ["numpy", "array_api_strict", "cupy"])
def test_guarded_ratio_is_zero_where_the_denominator_is_not_positive(name):
    if name == "cupy" and not rbptk.gpu_available():
        pytest.skip("CuPy is not installed or sees no CUDA device on this machine")
    xp = {"numpy": np, "array_api_strict": array_api_strict}.get(name) or __import__(name)
    a = xp.asarray([1.0, 2.0, 3.0, 4.0])
    b = xp.asarray([2.0, 0.0, -1.0, float("nan")])
    out = rbptk.to_numpy(rbptk.kernels.guarded_ratio(a, b))
    np.testing.assert_array_equal(out, [0.5, 0.0, 0.0, 0.0])


def test_nested_peak_memory_on_cupy(cupy):
    with rbptk.peak_memory(gpu=True) as outer:
        a = cupy.ones(1 << 20)
        with rbptk.peak_memory(gpu=True) as inner:
            b = cupy.ones(1 << 18)
        del a, b
    assert outer.bytes >= (1 << 23) + (1 << 21) and inner.bytes >= 1 << 21


def test_nested_peak_memory_on_the_cpu():
    with rbptk.peak_memory() as outer:
        a = np.ones(1 << 16)
        with rbptk.peak_memory() as inner:
            b = np.ones(1 << 14)
        del a, b
    assert inner.bytes >= 8 << 14 and outer.bytes >= 8 << 16


def test_a_library_without_the_solver_gets_a_clear_error(monkeypatch):
    # as CuPy < 14.1 lacks bicgstab; shown on SciPy, whose module is importable here
    monkeypatch.delattr(scipy.sparse.linalg, "bicgstab")
    model, params, h_star, g, _, _ = affine_problem(rho=0.9)
    with pytest.raises(ValueError, match=r"method='bicgstab' needs scipy.sparse.linalg.bicgstab"):
        rbptk.gradient(model, h_star, params, g, method="bicgstab", steps=2)


def test_sparse_products_get_fortran_ordered_operands_on_cupy(cupy):
    import scipy.sparse

    from rbptk.models import GRUGraphNet

    rng = np.random.default_rng(0)
    Y, W = rng.standard_normal((50, 12)), rng.standard_normal((12, 4))
    out = rbptk.kernels.matmul_for_spmm(cupy.asarray(Y), cupy.asarray(W))
    assert out.flags.f_contiguous
    np.testing.assert_allclose(cupy.asnumpy(out), Y @ W, rtol=1e-12)
    net = GRUGraphNet(scipy.sparse.random(50, 50, density=0.1, format="csr", random_state=0), 4)
    params = {k: cupy.asarray(v) for k, v in net.init_params().items()}
    h = net.step(cupy.asarray(rng.standard_normal((50, 4)), dtype=cupy.float32), params)
    assert h.flags.f_contiguous  # the next step's A @ h needs no copy
