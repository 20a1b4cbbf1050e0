"""rbptk/methods/neumann.py: the damped Neumann series."""

import numpy as np
import pytest
from conftest import rel, to_xp
from helpers import affine_problem, normal_matrix

import rbptk


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
