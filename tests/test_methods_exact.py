"""Every method against the closed-form implicit gradient of affine dynamics."""

import numpy as np
import pytest
from helpers import affine_problem, normal_matrix

import rbptk


def run(model, params, h0, g, method, **kw):
    kw.setdefault("steps", 10)
    return rbptk.gradient(model, h0, params, g, method=method, **kw)


EPS = np.finfo(np.float64).eps


def rounding(n, K, params, z_star, rho):
    """Forward-error bound of K products with an n x n matrix summed into a
    series that shrinks like rho^t (gamma_n = n eps per product), pushed
    through B^T: n (K + 2) eps ||B|| ||z*|| / (1 - rho)."""
    return n * (K + 2) * EPS * np.linalg.norm(params["B"], 2) * np.linalg.norm(z_star) / (1 - rho)


@pytest.mark.parametrize("rho", [0.5, 0.8, 0.95])
def test_cg_reaches_exact_gradient_to_rounding(rho):
    model, params, h_star, g, exact, z_star = affine_problem(n=12, rho=rho)
    I_A = np.eye(12) - params["A"]
    cond = np.linalg.cond(I_A @ I_A.T)  # CG's normal matrix: about 1500 at rho = 0.95
    tol = 1e-14
    grads, info = run(model, params, h_star, g, "cg", truncate=48, tol=tol, eta=0.0)
    # In exact arithmetic n = 12 iterations solve the system; in floating point
    # CG needs a few more (loss of orthogonality), and the relative residual
    # tol bounds the error by cond(M) (tol + the residual's own rounding 10 n eps).
    assert info.status is rbptk.Status.CONVERGED and info.iterations <= 4 * 12
    bound = cond * (tol + 10 * 12 * EPS) * np.linalg.norm(params["B"], 2)
    assert np.linalg.norm(grads["w"] - exact) <= bound * np.linalg.norm(z_star)
    assert info.n_jvp == info.iterations + 1


@pytest.mark.parametrize("rho", [0.5, 0.8, 0.95])
@pytest.mark.parametrize("K", [5, 10, 20, 40])
def test_neumann_and_rbp_error_shrinks_as_rho_to_the_K(rho, K):
    model, params, h_star, g, exact, z_star = affine_problem(rho=rho)
    B = np.linalg.norm(params["B"], 2)
    floor = rounding(12, K, params, z_star, rho)
    # Neumann: z* - s_K = (A^T)^{K+1} z*, and ||A^k|| = rho^k for this normal A.
    grads, _ = run(model, params, h_star, g, "neumann", truncate=K)
    err = np.linalg.norm(grads["w"] - exact)
    assert err <= B * rho ** (K + 1) * np.linalg.norm(z_star) + floor
    # RBP: z_K - z* = (A^T)^K (z_0 - z*) for the seeded start z_0.
    grads, _ = run(model, params, h_star, g, "rbp", truncate=K, seed=3)
    z0 = np.random.default_rng(3).random(g.shape)
    err = np.linalg.norm(grads["w"] - exact)
    assert err <= B * rho**K * np.linalg.norm(z0 - z_star) + floor + rounding(
        12, K, params, z0, rho
    )


@pytest.mark.parametrize("rho", [0.5, 0.95])
def test_bptt_and_tbptt_within_their_truncation(rho):
    model, params, h_star, g, exact, z_star = affine_problem(rho=rho)
    B = np.linalg.norm(params["B"], 2)
    for method, K, T in [("tbptt", 7, 30), ("bptt", 30, 30)]:
        grads, info = run(model, params, h_star, g, method, steps=T, truncate=K)
        # Back-propagating K steps sums the first K Neumann terms: the error is
        # exactly -B^T (A^T)^K z*, bounded by ||B|| rho^K ||z*||.
        error = grads["w"] - exact
        predicted = -params["B"].T @ np.linalg.matrix_power(params["A"].T, K) @ z_star
        floor = rounding(12, T, params, z_star, rho)  # T products, plus the reference's own
        assert np.linalg.norm(error - predicted) <= 2 * floor
        assert np.linalg.norm(error) <= B * rho**K * np.linalg.norm(z_star) + 2 * floor
        assert info.iterations == K


def test_methods_agree_on_all_parameters():
    model, params, h_star, g, exact, z_star = affine_problem(rho=0.6)
    reference, _ = run(model, params, h_star, g, "cg", truncate=40, tol=0.0, eta=0.0)
    np.testing.assert_allclose(reference["c"], z_star, rtol=1e-10)
    np.testing.assert_allclose(reference["A"], np.outer(z_star, h_star), rtol=1e-10)
    for method in ("neumann", "rbp", "tbptt"):
        grads, _ = run(model, params, h_star, g, method, steps=80, truncate=79)
        for k in params:
            np.testing.assert_allclose(grads[k], reference[k], rtol=1e-12, atol=1e-12)


def test_spectral_radius_above_one_diverges_but_cg_answers():
    # rho(A) = 1.3, with every eigenvalue at least 0.2 away from 1 (I - A well conditioned)
    lam = np.concatenate([[-1.3, 1.25], np.linspace(-0.9, 0.6, 10)])
    model, params, h_star, g, exact, z_star = affine_problem(A=normal_matrix(12, None, 0, lam))
    for method in ("rbp", "neumann"):
        grads, info = run(model, params, h_star, g, method, truncate=20, strict=False)
        assert info.status is rbptk.Status.DIVERGED
        assert info.residuals[-1] > info.residuals[0]
        with pytest.raises(rbptk.ConvergenceError, match="diverged") as caught:
            run(model, params, h_star, g, method, truncate=20)
        assert caught.value.info.status is rbptk.Status.DIVERGED
    tol = 1e-14
    grads, info = run(model, params, h_star, g, "cg", truncate=48, tol=tol, eta=0.0)
    assert info.status is rbptk.Status.CONVERGED
    I_A = np.eye(12) - params["A"]
    bound = np.linalg.cond(I_A @ I_A.T) * (tol + 10 * 12 * EPS) * np.linalg.norm(params["B"], 2)
    assert np.linalg.norm(grads["w"] - exact) <= bound * np.linalg.norm(z_star)


def test_cg_default_damping_bias_is_bounded():
    model, params, h_star, g, exact, _ = affine_problem(rho=0.9)
    grads, info = run(model, params, h_star, g, "cg", truncate=50, tol=1e-12)
    s_min = np.linalg.svd(np.eye(12) - params["A"], compute_uv=False)[-1]
    err = np.linalg.norm(grads["w"] - exact) / np.linalg.norm(exact)
    assert info.status is rbptk.Status.CONVERGED
    assert err <= 2 * 1e-5 / s_min**2 * np.linalg.cond(params["B"])
    assert err > 0  # damping changes the answer


def test_tolerances_stop_early_and_report_convergence():
    model, params, h_star, g, exact, _ = affine_problem(rho=0.5)
    for method in ("neumann", "rbp", "cg"):
        grads, info = run(model, params, h_star, g, method, truncate=500, tol=1e-9, eta=0.0)
        assert info.status is rbptk.Status.CONVERGED, method
        assert info.iterations < 500
        assert np.linalg.norm(grads["w"] - exact) <= 1e-7 * np.linalg.norm(exact)
