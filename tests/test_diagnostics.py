"""rbptk.diagnostics: the spectral radius at the end of the forward pass, the
agreement of each method with BPTT, the forward pass to tolerance."""

import warnings

import numpy as np
import pytest
from helpers import affine_problem, normal_matrix

import rbptk


def test_spectral_radius_at_end_of_affine_dynamics_is_rho_of_A():
    model, params, h_star, _, _, _ = affine_problem(rho=0.7)  # A normal, rho(A) = 0.7
    rho = rbptk.diagnostics.spectral_radius_at_end(model, h_star, params, 3, iters=400)
    assert abs(rho - 0.7) <= 1e-2


def test_agreement_with_bptt_shrinks_with_the_budget():
    model, params, h_star, g, _, _ = affine_problem(rho=0.5)
    rows = {
        K: rbptk.diagnostics.bptt_agreement(model, h_star, params, g, None, 60, K, ["neumann"])
        for K in (5, 20)
    }
    assert rows[5][0]["method"] == "bptt" and rows[5][0]["rel_diff"] == 0.0
    # the Neumann series' error is rho^(K+1); BPTT over 60 steps is exact to 0.5^60
    assert rows[20][1]["rel_diff"] < 1e-3 * rows[5][1]["rel_diff"]


def test_forward_study_counts_steps_to_tolerance():
    model, params, _, _, _, _ = affine_problem(rho=0.9)
    rows = rbptk.diagnostics.forward_study(model, np.zeros(12), params, None, budget=2000)
    plain, anderson = rows
    assert plain["status"] == anderson["status"] == "converged"
    assert anderson["steps"] < plain["steps"] and plain["residual"] <= 1e-6


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
