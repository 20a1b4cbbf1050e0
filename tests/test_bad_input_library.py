"""Library bad input (robustness issue, item 7): one probe per test, each a
TypeError or ValueError that names the argument, raised before any work."""

import math

import numpy as np
import pytest

import rbptk
from rbptk.models import TanhRNN


@pytest.fixture
def rnn():
    params = TanhRNN.init_params(64, 8)
    return TanhRNN(), params, np.zeros(64), np.ones(64), np.ones(8)


def grad(model, h0, params, g, **kw):
    return rbptk.gradient(model, h0, params, g, steps=5, truncate=3, **kw)


def test_input_that_does_not_fit_U_names_x_and_U(rnn):
    model, params, h0, g, _ = rnn
    params["U"] = np.ones((64, 9))
    with pytest.raises(ValueError, match=r"input x has shape \(8,\) but params\['U'\] has shape"):
        grad(model, h0, params, g, inputs=lambda t: np.ones(8))


def test_a_scalar_weight_matrix_is_named(rnn):
    model, params, h0, g, x = rnn
    params["W"] = np.array(1.0)
    with pytest.raises(ValueError, match=r"params\['W'\] must be square, got shape \(\)"):
        grad(model, h0, params, g, inputs=lambda t: x)


def test_an_extra_parameter_key_is_refused(rnn):
    model, params, h0, g, x = rnn
    params["V"] = np.ones(3)
    with pytest.raises(ValueError, match=r"unexpected \['V'\]"):
        grad(model, h0, params, g, inputs=lambda t: x)


@pytest.mark.parametrize("dtype", [np.float16, np.complex128, np.longdouble, np.int64])
def test_unsupported_dtypes_are_named(rnn, dtype):
    model, params, h0, g, x = rnn
    if np.dtype(dtype) == np.dtype(np.float64):
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(TypeError, match=r"h0 has dtype .*; rbptk supports float32 and float64"):
        grad(model, h0.astype(dtype), params, g, inputs=lambda t: x)


def test_an_input_of_another_dtype_is_refused(rnn):
    model, params, h0, g, x = rnn
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    h32 = h0.astype(np.float32)
    with pytest.raises(TypeError, match="input x is float64 but the state is float32"):
        grad(model, h32, p32, g.astype(np.float32), inputs=lambda t: x)


def test_float32_state_with_float64_params_is_refused(rnn):
    model, params, h0, g, x = rnn
    with pytest.raises(TypeError, match=r"params\['W'\] is float64 but h0 is float32"):
        grad(model, h0.astype(np.float32), params, g, inputs=lambda t: x)


@pytest.mark.parametrize(
    ("loss_grad", "message"),
    [
        (lambda h: 1.5, "loss_grad must be dL/dh_T .* got float"),
        (lambda h: None, "loss_grad must be dL/dh_T .* got NoneType"),
        (lambda h: (1.0, h, h), "a tuple of 3 items"),
        (lambda h: (h, 1.0), r"returned \(dL/dh_T, loss\): return \(loss, dL/dh_T\)"),
        (lambda h: ("loss", h), "a loss of type str"),
    ],
)
def test_loss_callables_that_return_the_wrong_thing(rnn, loss_grad, message):
    model, params, h0, _, x = rnn
    with pytest.raises(TypeError, match=message):
        grad(model, h0, params, loss_grad, inputs=lambda t: x)


def test_the_class_instead_of_an_instance(rnn):
    _, params, h0, g, x = rnn
    with pytest.raises(TypeError, match=r"the class TanhRNN: pass TanhRNN\(...\)"):
        grad(TanhRNN, h0, params, g, inputs=lambda t: x)


def test_dynamics_without_linearize(rnn):
    _, params, h0, g, x = rnn

    class StepOnly:
        def step(self, h, params, x=None):
            return np.tanh(params["W"] @ h)

    with pytest.raises(TypeError, match=r"has no method linearize"):
        grad(StepOnly(), h0, params, g, inputs=lambda t: x)


def test_linearization_without_vjp_params_fails_before_the_forward_pass(rnn):
    _, params, h0, g, x = rnn
    steps = []

    class NoParams(TanhRNN):
        def step(self, h, params, x=None):
            steps.append(1)
            return super().step(h, params, x)

        def linearize(self, h, params, x=None):
            lin = super().linearize(h, params, x)
            return type("Lin", (), {"jvp": lin.jvp, "vjp": lin.vjp})()

    with pytest.raises(TypeError, match=r"returned Lin without vjp_params"):
        grad(NoParams(), h0, params, g, inputs=lambda t: x)
    assert not steps


def test_vjp_params_with_other_keys_is_refused(rnn):
    _, params, h0, g, x = rnn

    class Renamed(TanhRNN):
        def linearize(self, h, params, x=None):
            lin = super().linearize(h, params, x)
            vjp_params = lin.vjp_params
            lin.vjp_params = lambda u: {"W2": vjp_params(u)["W"]}
            return lin

    with pytest.raises(ValueError, match=r"vjp_params returned keys \['W2'\], params has"):
        grad(Renamed(), h0, params, g, inputs=lambda t: x)


def test_inputs_shorter_than_steps(rnn):
    model, params, h0, g, x = rnn
    with pytest.raises(ValueError, match="inputs holds 3 entries but steps=5"):
        grad(model, h0, params, g, inputs=[x] * 3)


@pytest.mark.parametrize("steps", [None, math.nan, math.inf, 1e300, "10", True])
def test_steps_that_are_not_counts(rnn, steps):
    model, params, h0, g, x = rnn
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        rbptk.gradient(model, h0, params, g, steps=steps, inputs=lambda t: x)


@pytest.mark.parametrize("name", ["tol", "forward_tol"])
@pytest.mark.parametrize("value", [-1e-3, math.nan, math.inf])
def test_tolerances_that_are_negative_or_not_finite(rnn, name, value):
    model, params, h0, g, x = rnn
    with pytest.raises(ValueError, match=f"{name} must be None or a finite number >= 0"):
        grad(model, h0, params, g, inputs=lambda t: x, **{name: value})


def test_diagnose_says_nothing_about_bptt_converging(rnn):
    model, params, h0, g, x = rnn
    params["W"] *= 3.0  # J = W at the fixed point h = 0 (b = 0, x = 0): rho(W) > 1
    params["b"][:] = 0.0
    with pytest.warns(rbptk.ContractionWarning) as record:
        grad(model, h0, params, g, method="bptt", inputs=lambda t: 0 * x, diagnose=True)
    assert "will not converge" not in str(record[0].message)


def test_asking_for_the_gpu_without_a_device_fails_at_once():
    if rbptk.gpu_available():
        pytest.skip("this machine has a CUDA device")
    with pytest.raises(rbptk.BackendError, match="backend 'gpu'"):
        rbptk.set_backend("gpu")
    assert rbptk.get_backend() == "cpu"


def test_a_gradient_computes_where_its_arrays_live(rnn, monkeypatch):
    """README: the backend decides where rbptk creates arrays; rbptk.gradient
    follows the arrays it is given (NumPy arrays: the CPU, whatever the backend)."""
    model, params, h0, g, x = rnn
    monkeypatch.setitem(rbptk.backend._state, "backend", "gpu")
    grads, _ = grad(model, h0, params, g, inputs=lambda t: x)
    assert all(isinstance(v, np.ndarray) for v in grads.values())
