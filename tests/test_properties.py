"""Property tests over random contractions: every RBP-family method reaches the
implicit gradient B^T (I - A^T)^{-1} g when ||A|| < 1."""

import numpy as np
from helpers import affine_problem
from hypothesis import given, settings
from hypothesis import strategies as st

import rbptk


@st.composite
def contractions(draw):
    n = draw(st.integers(2, 8))
    seed = draw(st.integers(0, 2**31 - 1))
    norm = draw(st.floats(0.05, 0.85))
    A = np.random.default_rng(seed).standard_normal((n, n))
    return A * (norm / np.linalg.norm(A, 2)), norm, seed


@settings(max_examples=30, deadline=None)
@given(contractions())
def test_rbp_family_reaches_the_implicit_gradient(case):
    A, norm, seed = case
    n = A.shape[0]
    model, params, h_star, g, exact, z_star = affine_problem(n=n, p=3, A=A, seed=seed)
    # ||A|| <= 0.85, so ||(A^T)^k|| <= 0.85^k: 200 terms leave < 1e-14 of ||z*||
    scale = np.linalg.norm(exact) + np.linalg.norm(params["B"], 2) * np.linalg.norm(z_star)
    for method, kw in [("neumann", {}), ("rbp", {"seed": 1}), ("cg", {"eta": 0.0, "tol": 1e-13})]:
        grads, info = rbptk.gradient(
            model, h_star, params, g, method=method, steps=3, truncate=200, **kw
        )
        assert not info.status.failed
        assert np.linalg.norm(grads["w"] - exact) <= 1e-9 * scale, method


@settings(max_examples=30, deadline=None)
@given(contractions(), st.integers(1, 30))
def test_neumann_partial_sums_match_the_series(case, K):
    A, norm, seed = case
    model, params, h_star, g, _, _ = affine_problem(n=A.shape[0], p=3, A=A, seed=seed)
    grads, info = rbptk.gradient(model, h_star, params, g, method="neumann", steps=2, truncate=K)
    series = sum(np.linalg.matrix_power(A.T, k) @ g for k in range(K + 1))
    np.testing.assert_allclose(grads["c"], series, rtol=1e-10, atol=1e-12)
    assert info.n_vjp == info.iterations == K
