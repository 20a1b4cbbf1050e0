"""Bad input is refused with an error that names the problem."""

import array_api_strict
import numpy as np
import pytest

import rbptk
from rbptk.models import TanhRNN


@pytest.fixture
def setup():
    params = TanhRNN.init_params(5, 2)
    return TanhRNN(), params, np.zeros(5), np.ones(5)


def test_mismatched_state_shape(setup):
    model, params, h0, g = setup
    with pytest.raises(ValueError, match=r"state h must have shape \(5,\)"):
        rbptk.gradient(model, np.zeros(4), params, g)


def test_mismatched_parameter_shape(setup):
    model, params, h0, g = setup
    params["b"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"params\['b'\] must have shape \(5,\)"):
        rbptk.gradient(model, h0, params, g)


def test_loss_gradient_shape(setup):
    model, params, h0, g = setup
    with pytest.raises(ValueError, match=r"dL/dh_T has shape \(3,\), the state has \(5,\)"):
        rbptk.gradient(model, h0, params, np.ones(3))


def test_nan_in_h0(setup):
    model, params, h0, g = setup
    h0[2] = np.nan
    with pytest.raises(ValueError, match="h0 contains NaN"):
        rbptk.gradient(model, h0, params, g)


def test_nan_in_params(setup):
    model, params, h0, g = setup
    params["W"][0, 0] = np.inf
    with pytest.raises(ValueError, match=r"params\['W'\] contains NaN or infinite"):
        rbptk.gradient(model, h0, params, g)


def test_nan_in_loss_gradient(setup):
    model, params, h0, g = setup
    with pytest.raises(ValueError, match="dL/dh_T contains NaN"):
        rbptk.gradient(model, h0, params, lambda h: h * np.nan)


def test_mixed_array_types(setup):
    model, params, h0, g = setup
    with pytest.raises(TypeError, match="mixed array types"):
        rbptk.gradient(model, array_api_strict.asarray(h0), params, g)


def test_unknown_method(setup):
    model, params, h0, g = setup
    with pytest.raises(ValueError, match="unknown method 'adjoint'; choose one of bptt"):
        rbptk.gradient(model, h0, params, g, method="adjoint")


@pytest.mark.parametrize("K", [0, -3, 2.5])
def test_truncation_below_one(setup, K):
    model, params, h0, g = setup
    with pytest.raises(ValueError, match="truncate must be an integer >= 1"):
        rbptk.gradient(model, h0, params, g, truncate=K)


def test_steps_below_one(setup):
    model, params, h0, g = setup
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        rbptk.gradient(model, h0, params, g, steps=0)


def test_tbptt_truncation_longer_than_the_unroll(setup):
    model, params, h0, g = setup
    with pytest.raises(ValueError, match="truncate=30 exceeds steps=10"):
        rbptk.gradient(model, h0, params, g, method="tbptt", steps=10, truncate=30)


def test_params_must_be_a_dict(setup):
    model, params, h0, g = setup
    with pytest.raises(TypeError, match="params must be a dict"):
        rbptk.gradient(model, h0, list(params.values()), g)


def test_methods_refuse_K_below_one(setup):
    model, params, h0, g = setup
    traj = rbptk.forward(model, h0, params, 3)
    for method in (rbptk.methods.neumann, rbptk.methods.rbp, rbptk.methods.cg):
        with pytest.raises(ValueError, match="K must be an integer >= 1"):
            method(model, traj, params, g, K=0)


def test_zero_gradient_is_never_silent():
    """Saturated gates: h' = h exactly, so every parameter gradient is exactly zero."""
    import scipy.sparse

    from rbptk.models import GRUGraphNet

    net = GRUGraphNet(scipy.sparse.eye(4, format="csr"), 2)
    params = net.init_params(dtype=np.float32)
    params["b_hh"][2:4] = 100.0  # update gate z = sigmoid(100) = 1.0 in float32
    with pytest.warns(rbptk.ZeroGradientWarning, match="exactly zero"):
        grads, info = rbptk.gradient(
            net,
            np.ones((4, 2), np.float32),
            params,
            np.ones((4, 2), np.float32),
            method="bptt",
            steps=3,
        )
    assert info.extra["zero_gradient"] and all(np.all(v == 0) for v in grads.values())


def test_finiteness_check_is_exact():
    from rbptk._array import all_finite

    big = np.full(4, np.finfo(np.float32).max, dtype=np.float32)  # the sum overflows
    assert all_finite(big)
    for bad in (np.nan, np.inf, -np.inf):
        a = np.ones(5)
        a[3] = bad
        assert not all_finite(a)
