"""rbptk/models/gnn.py, the GRU graph network: hand-written products against
finite differences, the read-out gradient, BPTT, agreement near a fixed point,
training (its kernels: test_kernels.py; the Planetoid loader: test_data.py)."""

import numpy as np
import pytest
from conftest import rel, to_xp
from helpers import random_graph

import rbptk
from rbptk.models import GRUGraphNet, SoftmaxReadout


def small(n=25, D=4, seed=0):
    net = GRUGraphNet(random_graph(n), D)
    params = net.init_params(seed=seed, dtype=np.float64)
    h = np.random.default_rng(seed).standard_normal((n, D))
    return net, params, h


def test_products_match_finite_differences():
    net, params, h = small()
    errors = rbptk.check.check_dynamics(net, h, params, rtol=1e-6)
    assert max(errors.values()) <= 1e-6


def test_products_on_cupy(cupy):
    net, params, h = small()
    errors = rbptk.check.check_dynamics(net, to_xp(cupy, h), to_xp(cupy, params))
    assert max(errors.values()) <= 1e-6


def test_vjp_and_params_equals_the_two_products():
    net, params, h = small()
    lin = net.linearize(h, params)
    u = np.random.default_rng(7).standard_normal(h.shape)
    v, grads = lin.vjp_and_params(u)
    # the same arithmetic, possibly in another summation order: a few ulps of
    # each array's largest entry (a 1% error in either product fails)
    eps = np.finfo(np.float64).eps
    reference = lin.vjp(u)
    np.testing.assert_allclose(v, reference, rtol=0, atol=64 * eps * np.abs(reference).max())
    for k, g in lin.vjp_params(u).items():
        np.testing.assert_allclose(grads[k], g, rtol=0, atol=64 * eps * np.abs(g).max())


def test_readout_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    readout = SoftmaxReadout(4, 3)
    params = readout.init_params(dtype=np.float64)
    h = rng.standard_normal((10, 4))
    labels, nodes = rng.integers(0, 3, 10), np.array([1, 4, 7, 8])
    loss, dh, grads = readout.loss_and_grads(h, params, labels, nodes)
    eps = 1e-6

    def L(h_, p_):
        return readout.loss_and_grads(h_, p_, labels, nodes)[0]

    d = rng.standard_normal(h.shape)
    fd = (L(h + eps * d, params) - L(h - eps * d, params)) / (2 * eps)
    assert abs(np.sum(dh * d) - fd) <= 1e-7 * abs(fd)
    assert np.all(dh[[0, 2, 3, 5, 6, 9]] == 0)
    for k in params:
        dp = rng.standard_normal(params[k].shape)
        plus, minus = dict(params), dict(params)
        plus[k], minus[k] = params[k] + eps * dp, params[k] - eps * dp
        fd = (L(h, plus) - L(h, minus)) / (2 * eps)
        assert abs(np.sum(grads[k] * dp) - fd) <= 1e-7 * abs(fd)


def test_bptt_matches_finite_differences_of_the_unroll():
    net, params, h0 = small(seed=3)
    q = np.random.default_rng(4).standard_normal(h0.shape)
    T, eps = 7, 1e-6

    def loss(p):
        return float(np.sum(q * rbptk.forward(net, h0, p, T).h))

    grads, _ = rbptk.gradient(net, h0, params, q, method="bptt", steps=T)
    rng = np.random.default_rng(5)
    for k, p in params.items():
        d = rng.standard_normal(p.shape)
        plus, minus = dict(params), dict(params)
        plus[k], minus[k] = p + eps * d, p - eps * d
        fd = (loss(plus) - loss(minus)) / (2 * eps)
        assert abs(np.sum(grads[k] * d) - fd) <= 1e-6 * abs(fd), k


def train_small(method, steps=60):
    """Lowest training loss of SGD on a small labelled graph; ``method=None``
    trains the read-out alone."""
    rng = np.random.default_rng(0)
    n, D, C = 60, 6, 3
    net, readout = GRUGraphNet(random_graph(n, 0.05, seed=2), D), SoftmaxReadout(D, C)
    h0 = rng.standard_normal((n, D))
    labels = rng.integers(0, C, n)
    h0[np.arange(n), labels] += 2.0  # features carry the label
    nodes = np.arange(20)
    gru, out = net.init_params(dtype=np.float64), readout.init_params(dtype=np.float64)
    gru["W_hh"] *= 0.3  # a contraction, so the RBP family converges
    opt_gru, opt_out = rbptk.optim.SGD(0.2, 0.9), rbptk.optim.SGD(0.2, 0.9)
    losses = []
    for _ in range(steps):
        stash = {}

        def loss_grad(h, out=out, stash=stash):
            loss, dh, stash["out"] = readout.loss_and_grads(h, out, labels, nodes)
            return loss, dh

        grads, info = rbptk.gradient(  # training can leave the contraction regime:
            net,
            h0,
            gru,
            loss_grad,
            method=method or "neumann",
            steps=20,
            truncate=10,
            strict=False,  # take the truncated series' answer as the program does
        )
        losses.append(info.extra["loss"])
        if method is not None:
            gru = opt_gru.step(gru, grads)
        out = opt_out.step(out, stash["out"])
    return min(losses)


@pytest.mark.parametrize("method", ["neumann", "cg"])
def test_training_the_gru_beats_training_the_readout_alone(method):
    # measured lowest losses: read-out alone 1.015 (from 1.14), neumann 0.47,
    # cg 0.68 (lr 0.2 with momentum 0.9 oscillates near the end, hence the minimum).
    # A wrong GRU gradient does no better than the read-out alone.
    assert train_small(method) < 0.85 * train_small(None)


def test_gradients_agree_with_bptt_near_a_fixed_point():
    net, params, h0 = small(seed=7)
    params["W_hh"] *= 0.3
    params["W_ih"] *= 0.3
    q = np.random.default_rng(8).standard_normal(h0.shape)
    kw = dict(steps=200, truncate=60)
    reference_grads, _ = rbptk.gradient(net, h0, params, q, method="bptt", **kw)
    for method in ("neumann", "cg", "rbp"):
        grads, info = rbptk.gradient(net, h0, params, q, method=method, tol=1e-12, eta=0.0, **kw)
        for k in params:
            assert rel(grads[k], reference_grads[k]) <= 1e-6, (method, k)


# --- Planetoid data safety -------------------------------------------------


def test_reference_initialisation_has_the_reference_moments():
    """Kaiming-normal (fan in D, gain sqrt(2)): entries N(0, 2 / D), biases 0.
    Bounds at 5 standard errors of the sample mean and variance of n draws
    (sd of the mean sigma / sqrt(n), of the variance sigma^2 sqrt(2 / (n - 1)))."""
    D, C = 64, 7
    gru = GRUGraphNet(random_graph(), D).init_params(seed=3, dtype=np.float64, scheme="reference")
    out = SoftmaxReadout(D, C).init_params(seed=3, dtype=np.float64, scheme="reference")
    var = 2.0 / D
    for W in (gru["W_ih"], gru["W_hh"], out["W"]):
        n = W.size
        assert abs(W.mean()) <= 5 * np.sqrt(var / n)
        assert abs(W.var() - var) <= 5 * var * np.sqrt(2 / (n - 1))
    for b in (gru["b_ih"], gru["b_hh"], out["b"]):
        assert not b.any()
    # the default stays PyTorch's uniform initialisation, bounded by 1 / sqrt(D)
    default = GRUGraphNet(random_graph(), D).init_params(seed=3)
    assert all(np.abs(v).max() <= 1 / np.sqrt(D) for v in default.values())
    with pytest.raises(ValueError, match="scheme must be"):
        SoftmaxReadout(D, C).init_params(scheme="kaiming")
