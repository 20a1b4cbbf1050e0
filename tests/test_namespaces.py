"""The generic solvers run unchanged on NumPy, array_api_strict and CuPy arrays."""

import numpy as np
import pytest
from conftest import rel, to_xp
from helpers import affine_problem

import rbptk
from rbptk.models import TanhRNN


@pytest.mark.parametrize("method", rbptk.PAPER_METHODS)
def test_affine_gradient_in_every_namespace(xp, method):
    model, params, h_star, g, exact, _ = affine_problem(rho=0.6)
    grads, info = rbptk.gradient(
        model,
        to_xp(xp, h_star),
        to_xp(xp, params),
        to_xp(xp, g),
        method=method,
        steps=60,
        truncate=59,
        eta=0.0,
        tol=None if method != "cg" else 1e-12,
    )
    assert rbptk.get_namespace(*grads.values()) is xp
    assert rbptk.get_namespace(info.extra["h"]) is xp
    assert rel(grads["w"], exact) <= 1e-8


@pytest.mark.parametrize("method", rbptk.PAPER_METHODS)
def test_tanh_rnn_matches_numpy_in_every_namespace(xp, method):
    model = TanhRNN()
    params = TanhRNN.init_params(6, 3, scale=0.7, seed=4)
    rng = np.random.default_rng(0)
    h0, x, q = rng.standard_normal(6), rng.standard_normal(3), rng.standard_normal(6)
    kw = dict(method=method, steps=30, truncate=10, seed=0)
    reference, _ = rbptk.gradient(model, h0, params, q, inputs=lambda t: x, **kw)
    x_xp = to_xp(xp, x)
    grads, _ = rbptk.gradient(
        model, to_xp(xp, h0), to_xp(xp, params), to_xp(xp, q), inputs=lambda t: x_xp, **kw
    )
    for name in params:
        assert rbptk.get_namespace(grads[name]) is xp
        assert rel(grads[name], reference[name]) <= 1e-10


def test_tanh_rnn_products_in_every_namespace(xp):
    model = TanhRNN()
    params = to_xp(xp, TanhRNN.init_params(5, 2, seed=1))
    h = to_xp(xp, np.linspace(-1, 1, 5))
    errors = rbptk.check.check_dynamics(model, h, params, to_xp(xp, np.ones(2)))
    assert max(errors.values()) <= 1e-6
