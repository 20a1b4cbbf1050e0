"""Methods on the nonlinear TanhRNN: BPTT against finite differences, the exact
Neumann / TBPTT correspondence, memory structure, forward pass behaviour."""

import numpy as np
import pytest

import rbptk
from rbptk.models import TanhRNN


@pytest.fixture
def rnn():
    model = TanhRNN()
    params = TanhRNN.init_params(6, 3, scale=0.8, seed=1)
    rng = np.random.default_rng(2)
    return model, params, rng.standard_normal(6), rng.standard_normal(3), rng.standard_normal(6)


def unrolled_loss(model, params, h0, x, q, T):
    h = h0
    for _ in range(T):
        h = model.step(h, params, x)
    return 0.5 * np.sum((h - q) ** 2)


def test_tanh_rnn_passes_rbptk_check(rnn):
    model, params, h0, x, _ = rnn
    errors = rbptk.check.check_dynamics(model, h0, params, x, rtol=1e-6)
    assert max(errors.values()) <= 1e-6
    batch = np.random.default_rng(0).standard_normal((6, 4))
    rbptk.check.check_dynamics(model, batch, params, np.ones((3, 4)), rtol=1e-6)


def test_check_catches_a_wrong_product(rnn):
    model, params, h0, x, _ = rnn

    class Wrong(TanhRNN):
        def linearize(self, h, params, x=None):
            lin = super().linearize(h, params, x)
            vjp = lin.vjp
            lin.vjp = lambda u: 1.01 * vjp(u)
            return lin

    with pytest.raises(AssertionError, match="vjp"):
        rbptk.check.check_dynamics(Wrong(), h0, params, x)


def test_bptt_equals_finite_differences_of_the_unrolled_loss(rnn):
    model, params, h0, x, q = rnn
    T, eps = 8, 1e-6
    grads, info = rbptk.gradient(
        model, h0, params, lambda h: h - q, method="bptt", steps=T, inputs=lambda t: x
    )
    assert info.iterations == T
    for name, p in params.items():
        fd = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            plus, minus = dict(params), dict(params)
            plus[name], minus[name] = p.copy(), p.copy()
            plus[name][idx] += eps
            minus[name][idx] -= eps
            fd[idx] = (
                unrolled_loss(model, plus, h0, x, q, T) - unrolled_loss(model, minus, h0, x, q, T)
            ) / (2 * eps)
        assert np.linalg.norm(grads[name] - fd) <= 1e-6 * np.linalg.norm(fd), name


def fixed_point(model, params, h, x):
    for _ in range(2000):
        h_next = model.step(h, params, x)
        if np.array_equal(h_next, h):
            break
        h = h_next
    return h


@pytest.mark.parametrize("K", [1, 3, 10])
def test_neumann_K_equals_tbptt_K_plus_1_at_the_fixed_point(rnn, K):
    model, params, h0, x, q = rnn
    h_star = fixed_point(model, params, h0, x)
    kw = dict(steps=K + 2, inputs=lambda t: x)
    neumann, _ = rbptk.gradient(model, h_star, params, q, method="neumann", truncate=K, **kw)
    tbptt_next, _ = rbptk.gradient(model, h_star, params, q, method="tbptt", truncate=K + 1, **kw)
    tbptt_same, _ = rbptk.gradient(model, h_star, params, q, method="tbptt", truncate=K, **kw)
    # the off-by-one matters: K Neumann iterations exceed K TBPTT steps by exactly
    # the term (dF/dparams)^T (J^T)^K g
    lin = model.linearize(h_star, params, x)
    v = q
    for _ in range(K):
        v = lin.vjp(v)
    last_term = lin.vjp_params(v)
    for name in params:
        scale = np.linalg.norm(tbptt_next[name])
        assert np.linalg.norm(neumann[name] - tbptt_next[name]) <= 1e-10 * scale
        term = np.linalg.norm(last_term[name])
        assert term > 0
        difference = neumann[name] - tbptt_same[name]
        assert np.linalg.norm(difference - last_term[name]) <= 1e-6 * term


@pytest.mark.parametrize(
    "method, expected", [("rbp", 2), ("cg", 2), ("neumann", 2), ("tbptt", 51), ("bptt", 301)]
)
def test_forward_keeps_only_the_states_the_method_needs(rnn, monkeypatch, method, expected):
    model, params, h0, x, q = rnn
    kept = []
    original = rbptk.gradient.__globals__["plain_forward"]

    def spy(*args, **kw):
        traj = original(*args, **kw)
        kept.append(len(traj.states))
        return traj

    monkeypatch.setitem(rbptk.gradient.__globals__, "plain_forward", spy)
    rbptk.gradient(model, h0, params, q, method=method, steps=300, truncate=50, inputs=lambda t: x)
    assert kept == [expected]


def test_forward_tail_length_does_not_grow_with_T(rnn):
    model, params, h0, x, _ = rnn
    for T in (1, 10, 1000):
        traj = rbptk.forward(model, h0, params, T, inputs=lambda t: x, keep=2)
        assert len(traj.states) == min(2, T + 1) and traj.info.steps == T
        assert len(traj.info.residuals) == T


def test_forward_tolerance_stops_early(rnn):
    model, params, h0, x, _ = rnn
    traj = rbptk.forward(model, h0, params, 1000, inputs=lambda t: x, tol=1e-10)
    assert traj.info.status is rbptk.Status.CONVERGED
    assert traj.info.steps < 1000
    assert traj.info.residuals[-1] <= 1e-10 * np.linalg.norm(traj.h)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_non_finite_forward_is_reported_and_raises():
    model = TanhRNN()

    class Exploding(TanhRNN):
        def step(self, h, params, x=None):
            return 1e200 * (h + 1.0)

    params = TanhRNN.init_params(4, 2)
    traj = rbptk.forward(Exploding(), np.ones(4), params, 50)
    assert traj.info.status is rbptk.Status.NON_FINITE and traj.info.steps < 50
    with pytest.raises(rbptk.ConvergenceError, match="non-finite"):
        rbptk.gradient(Exploding(), np.ones(4), params, np.ones(4), steps=50)
    grads, info = rbptk.gradient(
        Exploding(), np.ones(4), params, np.ones(4), steps=50, strict=False
    )
    assert grads is None and info.status is rbptk.Status.NON_FINITE
    assert model.step(np.ones(4), params).shape == (4,)


def test_time_varying_inputs_are_replayed(rnn):
    model, params, h0, _, q = rnn
    xs = np.random.default_rng(5).standard_normal((12, 3))
    T, eps = 12, 1e-6
    grads, _ = rbptk.gradient(model, h0, params, q, method="bptt", steps=T, inputs=xs)

    def loss(p):
        h = h0
        for t in range(T):
            h = model.step(h, p, xs[t])
        return float(q @ h)

    d = np.random.default_rng(6).standard_normal(params["U"].shape)
    plus, minus = dict(params), dict(params)
    plus["U"], minus["U"] = params["U"] + eps * d, params["U"] - eps * d
    fd = (loss(plus) - loss(minus)) / (2 * eps)
    assert abs(np.sum(grads["U"] * d) - fd) <= 1e-7 * abs(fd)


def test_spectral_radius_estimate():
    from helpers import normal_matrix

    from rbptk.models import AffineDynamics

    A = normal_matrix(10, 0.7, seed=0)
    lin = AffineDynamics().linearize(np.zeros(10), {"A": A})
    assert abs(rbptk.check.spectral_radius(lin, np.zeros(10)) - 0.7) <= 1e-6
    theta = 0.9  # dominant complex pair 0.8 e^{+-i theta}
    R = 0.8 * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    C = np.zeros((6, 6))
    C[:2, :2] = R
    C[2:, 2:] = np.diag([0.3, -0.2, 0.1, 0.5])
    lin = AffineDynamics().linearize(np.zeros(6), {"A": C})
    assert abs(rbptk.check.spectral_radius(lin, np.zeros(6), iters=400) - 0.8) <= 1e-2
