"""rbptk/models/gnn_contractive.py: the products against finite differences and
the dot test, the contraction bound (checked directly, after adversarial
updates), and every implicit method at the true implicit gradient."""

import numpy as np
import pytest
from conftest import NAMESPACES, to_xp
from helpers import random_graph

import rbptk
from rbptk.models import ContractiveGraphNet
from rbptk.models.gnn_contractive import normalized_adjacency


def small(n=30, F=5, D=4, seed=0, **kw):
    rng = np.random.default_rng(seed)
    net = ContractiveGraphNet(
        random_graph(n, 0.12, seed=seed + 1), rng.standard_normal((n, F)), D, **kw
    )
    params = net.init_params(seed=seed, dtype=np.float64)
    params["U"] = net.project({**params, "U": 3 * rng.standard_normal((D, D))})[
        "U"
    ]  # ||U|| = gamma
    params["b_z"] = rng.standard_normal(D)  # gates away from the middle
    return net, params, rng.standard_normal((n, D))


def test_products_match_finite_differences_and_the_dot_test():
    net, params, h = small()
    rbptk.check.check_dynamics(net, h, params, rtol=1e-6)


def test_the_normalised_adjacency_has_norm_at_most_one():
    for A in (
        random_graph(40, 0.1, seed=3),
        random_graph(40, 0.1, seed=3) + random_graph(40, 0.1, seed=3).T,
    ):
        Ahat, s = normalized_adjacency(A)
        assert np.linalg.norm(Ahat.toarray(), 2) <= s * (1 + 1e-12) and s <= 1


@pytest.mark.parametrize("seed", range(5))
def test_the_step_contracts_by_the_bound_after_adversarial_updates(seed):
    """Any two states move closer by at least the factor the bound promises,
    after updates that blow U up (then project) and push the gates to z_min."""
    net, params, h = small(seed=seed)
    rng = np.random.default_rng(seed + 10)
    adversarial = {**params, "U": 100 * rng.standard_normal((4, 4)), "b_z": -50 * np.ones(4)}
    params = net.project(adversarial)
    L = net.lipschitz_bound(params)
    assert np.linalg.norm(params["U"], 2) <= net.gamma * (1 + 1e-12) and L < 1
    for _ in range(20):
        a, b = rng.standard_normal(h.shape) * 3, rng.standard_normal(h.shape) * 3
        ratio = np.linalg.norm(net.step(a, params) - net.step(b, params)) / np.linalg.norm(a - b)
        assert ratio <= L * (1 + 1e-12)
    rho = rbptk.diagnostics.spectral_radius_at_end(net, h, params, 50)
    assert rho <= L * (1 + 1e-6)


def test_no_contraction_without_the_projection_is_detected_by_the_bound():
    net, params, _ = small()
    wild = {**params, "U": 10 * np.eye(4)}
    assert net.lipschitz_bound(wild) > 1 and net.lipschitz_bound(net.project(wild)) < 1


def exact_implicit_gradient(net, params, h_star, g):
    """(dF/dparams)^T z with (I - J^T) z = g solved densely: J^T built column by
    column from vjps at the fixed point (independent of every iterative method)."""
    lin = net.linearize(h_star, params)
    size = h_star.size
    JT = np.stack([lin.vjp(e.reshape(h_star.shape)).ravel() for e in np.eye(size)], axis=1)
    z = np.linalg.solve(np.eye(size) - JT, g.ravel()).reshape(h_star.shape)
    return lin.vjp_params(z)


@pytest.mark.parametrize("backend", ["numpy", "cupy"])
@pytest.mark.parametrize("method", ["rbp", "cg", "neumann", "gmres", "bicgstab"])
def test_every_implicit_method_reaches_the_exact_implicit_gradient(method, backend):
    """From the fixed point (forward pass to 1e-14), each method with its
    default budget and tolerance lands within 1e-4 relative of the dense
    solution (rho(J) <= L = sqrt(1 - 0.5 + 0.25) = 0.87 by construction; here
    rho is smaller, so 20 iterations suffice). On CuPy the dense solution is
    computed on the host and the method runs on the device (a stop up to 15
    iterations late there only makes the solve more accurate)."""
    xp = NAMESPACES[backend]()
    net, params, h0 = small()
    target = np.random.default_rng(5).standard_normal(h0.shape)
    h_star = rbptk.forward(net, h0, net.prepare(params), 5000, tol=1e-14).h
    g = h_star - target
    exact = exact_implicit_gradient(net, net.prepare(params), h_star, g)
    kw = {"eta": 0.0} if method == "cg" else {}
    grads, info = rbptk.gradient(
        net, to_xp(xp, h_star), to_xp(xp, params), to_xp(xp, g), method=method, steps=1, **kw
    )
    assert all(rbptk.get_namespace(v) is xp for v in grads.values())
    assert_implicit_gradient({k: rbptk.to_numpy(v) for k, v in grads.items()}, exact, info)


def assert_implicit_gradient(grads, exact, info):
    """W_x, b, U within 1e-4 relative of the dense solution. The gate's W_z and
    b_z have no implicit gradient: the fixed point solves c(h*) = h*, which z
    does not enter, so dL/dW_z = X^T [u (c - h) ...] vanishes at h* (both the
    dense solution and the methods give rounding noise there, ~1e-16 of dW_x);
    they must be that small, not close to noise."""
    scale = np.linalg.norm(exact["W_x"])
    for k in ("W_x", "b", "U"):
        err = np.linalg.norm(grads[k] - exact[k]) / np.linalg.norm(exact[k])
        assert err <= 1e-4, (k, err, info.status)
    for k in ("W_z", "b_z"):
        assert np.linalg.norm(exact[k]) <= 1e-10 * scale
        assert np.linalg.norm(grads[k]) <= 1e-10 * scale, (k, info.status)


def test_products_on_cupy(cupy):
    """The same finite-difference and dot tests with every array on the device."""
    net, params, h = small()
    rbptk.check.check_dynamics(net, to_xp(cupy, h), to_xp(cupy, params), rtol=1e-6)


def test_implicit_agreement_measures_each_budget_against_the_dense_solution():
    """The exact row is GMRES to 1e-12 (equal to the dense solve to ~1e-10); a
    budget too small to converge shows as a large distance, a tight one as a
    small distance; no fixed point, no table."""
    net, params, h0 = small()
    target = np.random.default_rng(5).standard_normal(h0.shape)

    def loss_grad(h):
        return h - target

    options = {"neumann": {"maxiter": 2}, "gmres": {"maxiter": 300, "rtol": 1e-9}}
    rows = rbptk.diagnostics.implicit_agreement(
        net, h0, params, loss_grad, ["neumann", "gmres"], options=options
    )
    assert [r["method"] for r in rows] == ["exact (gmres)", "neumann", "gmres"]
    h_star = rbptk.forward(net, h0, net.prepare(params), 5000, tol=1e-14).h
    dense = exact_implicit_gradient(net, net.prepare(params), h_star, loss_grad(h_star))
    dense_norm = np.linalg.norm(np.concatenate([dense[k].ravel() for k in sorted(dense)]))
    assert abs(rows[0]["grad_norm"] - dense_norm) <= 1e-10 * dense_norm
    assert rows[1]["rel_diff"] > 1e-3 and rows[1]["iterations"] == 2
    assert rows[2]["rel_diff"] <= 1e-7 and rows[2]["status"] == "converged"
    with pytest.raises(ValueError, match="did not reach forward_tol"):
        rbptk.diagnostics.implicit_agreement(net, h0, params, loss_grad, [], steps=3)


def test_pagerank_initialisation_propagates_the_features():
    """U = gamma I, W_x = (1 - gamma) I: with small features (tanh near the
    identity) the fixed point is personalised PageRank propagation,
    h* ~ (I - gamma Ahat)^-1 (1 - gamma) X, and the bound is gamma itself."""
    rng = np.random.default_rng(0)
    A = random_graph(30, 0.12, seed=1)
    X = 1e-3 * rng.standard_normal((30, 4))
    net = ContractiveGraphNet(A, X, 4, z_min=1.0, gamma=0.9)
    params = net.init_params(seed=0, dtype=np.float64, scheme="pagerank")
    np.testing.assert_array_equal(params["U"], 0.9 * np.eye(4))
    np.testing.assert_allclose(params["W_x"], 0.1 * np.eye(4), rtol=1e-15)
    assert net.project(params) is params and abs(net.lipschitz_bound(params) - 0.9) < 1e-12
    h_star = rbptk.forward(net, np.zeros_like(X), net.prepare(params), 2000, tol=1e-14).h
    Ahat = normalized_adjacency(A)[0].toarray()
    pagerank = np.linalg.solve(np.eye(30) - 0.9 * Ahat, 0.1 * X)
    # tanh(a) = a - a^3 / 3: relative deviation ~ |a|^2, here ~1e-6
    assert np.linalg.norm(h_star - pagerank) <= 1e-5 * np.linalg.norm(pagerank)
    with pytest.raises(ValueError, match="needs dim = F"):
        ContractiveGraphNet(A, X, 3).init_params(scheme="pagerank")
    with pytest.raises(ValueError, match="scheme must be"):
        net.init_params(scheme="xavier")
