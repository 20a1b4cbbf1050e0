"""Beyond the paper: Anderson forward, Krylov adjoint solves, diagnostics, damped Neumann."""

import warnings

import numpy as np
import pytest
from conftest import rel, to_xp
from helpers import affine_problem, normal_matrix

import rbptk
from rbptk.models import TanhRNN


def contraction(seed=0):
    model = TanhRNN()
    params = TanhRNN.init_params(40, 5, scale=0.97, seed=seed)
    rng = np.random.default_rng(seed)
    return model, params, rng.standard_normal(40), rng.standard_normal(5)


def test_anderson_needs_fewer_steps_and_reaches_the_same_point(xp):
    model, params, h_star, _, _, _ = affine_problem(n=40, rho=0.98, seed=3)
    p, h0 = to_xp(xp, params), to_xp(xp, np.zeros(40))
    plain = rbptk.forward(model, h0, p, 20000, tol=1e-10)
    acc = rbptk.anderson(model, h0, p, 20000, tol=1e-10, m=10)
    assert plain.info.status is acc.info.status is rbptk.Status.CONVERGED
    # measured on this seeded problem (NumPy): plain 947 evaluations, Anderson(10) 89
    assert acc.info.steps * 5 <= plain.info.steps
    assert rel(acc.h, plain.h) <= 1e-8 and rel(acc.h, h_star) <= 1e-8
    assert rbptk.get_namespace(acc.h) is xp


def test_anderson_returns_its_best_iterate_when_out_of_budget():
    model, params, h0, x = contraction()
    acc = rbptk.anderson(model, h0, params, 4, inputs=lambda t: x, tol=1e-14)
    assert acc.info.status is rbptk.Status.MAX_ITER and acc.info.steps == 4
    best = int(np.argmin(acc.info.residuals))
    np.testing.assert_allclose(
        np.linalg.norm(acc.states[1] - acc.states[0]), acc.info.residuals[best], rtol=1e-12
    )


def test_front_door_uses_anderson_for_the_rbp_family():
    model, params, h0, x = contraction(1)
    kw = dict(inputs=lambda t: x, truncate=300, tol=1e-12)
    ref, _ = rbptk.gradient(
        model, h0, params, np.ones(40), method="neumann", steps=3000, forward_tol=1e-13, **kw
    )
    grads, info = rbptk.gradient(
        model,
        h0,
        params,
        np.ones(40),
        method="neumann",
        steps=3000,
        forward="anderson",
        forward_tol=1e-13,
        **kw,
    )
    assert info.forward.steps < 100
    for k in params:
        assert rel(grads[k], ref[k]) <= 1e-8
    with pytest.raises(ValueError, match="forward='anderson' returns a fixed point"):
        rbptk.gradient(model, h0, params, np.ones(40), method="bptt", forward="anderson")


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


def test_diagnose_warns_only_for_non_contractions():
    lam = np.concatenate([[1.2], np.linspace(-0.5, 0.5, 11)])
    model, params, h_star, g, _, _ = affine_problem(A=normal_matrix(12, None, 0, lam))
    with pytest.warns(rbptk.ContractionWarning, match=r"spectral radius .* is 1\.2"):
        _, info = rbptk.gradient(model, h_star, params, g, method="cg", steps=3, diagnose=True)
    assert abs(info.extra["rho"] - 1.2) < 1e-3
    model, params, h_star, g, _, _ = affine_problem(rho=0.85)
    with warnings.catch_warnings():
        warnings.simplefilter("error", rbptk.ContractionWarning)
        _, info = rbptk.gradient(model, h_star, params, g, method="neumann", steps=3, diagnose=True)
    assert abs(info.extra["rho"] - 0.85) < 1e-3


def test_damped_neumann_converges_where_plain_neumann_diverges():
    # eigenvalues in [-1.5, 0.5]: rho = 1.5; |1 - alpha (1 - lambda)| <= 0.75 for alpha = 0.5
    lam = np.concatenate([[-1.5], np.linspace(-1.0, 0.5, 11)])
    model, params, h_star, g, exact, _ = affine_problem(A=normal_matrix(12, None, 0, lam))
    _, info = rbptk.gradient(
        model, h_star, params, g, method="neumann", steps=3, truncate=40, strict=False
    )
    assert info.status is rbptk.Status.DIVERGED
    grads, info = rbptk.gradient(
        model, h_star, params, g, method="neumann", steps=3, truncate=200, alpha=0.5, tol=1e-13
    )
    assert info.status is rbptk.Status.CONVERGED
    assert rel(grads["w"], exact) <= 1e-10
    with pytest.raises(ValueError, match="alpha must be > 0"):
        rbptk.gradient(model, h_star, params, g, method="neumann", steps=3, alpha=0.0)


def test_damped_neumann_in_every_namespace(xp):
    model, params, h_star, g, exact, _ = affine_problem(rho=0.7)
    grads, info = rbptk.gradient(
        model,
        to_xp(xp, h_star),
        to_xp(xp, params),
        to_xp(xp, g),
        method="neumann",
        steps=3,
        truncate=300,
        alpha=0.7,
        tol=1e-14,
    )
    assert rel(grads["w"], exact) <= 1e-10
