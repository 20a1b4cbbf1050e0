"""rbptk/anderson.py: Anderson acceleration of the forward pass, alone and at the front door."""

import numpy as np
import pytest
from conftest import rel, to_xp
from helpers import affine_problem

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
