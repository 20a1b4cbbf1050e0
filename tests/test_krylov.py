"""rbptk/methods/krylov.py: GMRES, BiCGSTAB and MINRES on the adjoint system, SciPy and CuPy."""

import numpy as np
import pytest
from conftest import rel, to_xp
from helpers import affine_problem, normal_matrix

import rbptk


@pytest.mark.parametrize("solver", ["gmres", "bicgstab"])
@pytest.mark.parametrize("rho", [0.9, 1.3])
def test_krylov_matches_the_exact_gradient(solver, rho):
    lam = np.concatenate([[rho, -rho], np.linspace(-0.8, 0.6, 10)])
    model, params, h_star, g, exact, _ = affine_problem(A=normal_matrix(12, None, 0, lam))
    grads, info = rbptk.gradient(
        model, h_star, params, g, method=solver, steps=5, truncate=60, tol=1e-12
    )
    assert info.status is rbptk.Status.CONVERGED
    assert rel(grads["w"], exact) <= 1e-8
    if rho > 1:
        _, info = rbptk.gradient(
            model, h_star, params, g, method="neumann", steps=5, truncate=30, strict=False
        )
        assert info.status is rbptk.Status.DIVERGED


def test_minres_on_a_symmetric_jacobian():
    model, params, h_star, g, exact, _ = affine_problem(rho=0.9)  # A = Q diag Q^T
    grads, info = rbptk.gradient(
        model, h_star, params, g, method="minres", steps=5, truncate=60, tol=1e-12
    )
    assert info.status is rbptk.Status.CONVERGED and rel(grads["w"], exact) <= 1e-8


@pytest.mark.parametrize("solver", rbptk.KRYLOV)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_krylov_on_cupy(cupy, solver, dtype):
    model, params, h_star, g, exact, _ = affine_problem(rho=0.9)  # symmetric J, for minres
    grads, info = rbptk.gradient(
        model,
        cupy.asarray(h_star, dtype=dtype),
        {k: cupy.asarray(v, dtype=dtype) for k, v in params.items()},
        cupy.asarray(g, dtype=dtype),
        method=solver,
        steps=5,
        truncate=60,
        tol=1e-12 if dtype == "float64" else 1e-5,
    )
    assert all(v.dtype == cupy.dtype(dtype) for v in grads.values())
    assert info.status is rbptk.Status.CONVERGED and info.iterations >= 1
    # cond(I - A) <= 10: the solver's tolerance times 10, plus rounding
    bound = 1e-10 if dtype == "float64" else 10 * (1e-5 + 100 * np.finfo(np.float32).eps)
    assert rel(grads["w"], exact) <= bound


def test_krylov_refuses_other_namespaces():
    import array_api_strict as xp

    model, params, h_star, g, _, _ = affine_problem()
    with pytest.raises(TypeError, match="need NumPy or CuPy arrays"):
        rbptk.gradient(
            model, to_xp(xp, h_star), to_xp(xp, params), to_xp(xp, g), method="gmres", steps=3
        )


def test_krylov_that_stops_short_is_reported():
    model, params, h_star, g, _, _ = affine_problem(rho=0.95)
    grads, info = rbptk.gradient(
        model, h_star, params, g, method="bicgstab", steps=3, truncate=1, tol=1e-14, strict=False
    )
    assert info.status is rbptk.Status.MAX_ITER and info.residuals[-1] > 1e-14
    with pytest.raises(rbptk.ConvergenceError, match="bicgstab ended with status max_iter"):
        rbptk.gradient(model, h_star, params, g, method="bicgstab", steps=3, truncate=1, tol=1e-14)
