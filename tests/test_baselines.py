"""problems/baselines.py: the GCN's hand-written gradient against central finite
differences, and the linear propagation baseline on a problem it must solve."""

import numpy as np
from helpers import random_graph

from problems.baselines import GCN, linear_propagation
from rbptk.models.gnn_contractive import normalized_adjacency


def test_gcn_gradient_matches_central_differences():
    """float64, a random directed graph. Central differences err by about
    eps^2 |f'''| / 6 + u |f| / eps: with eps = 1e-6, |f| ~ 1 (a cross-entropy)
    and u = 1.1e-16, about 1e-10; the bound is 1e-8 (relative, or absolute
    for small directional derivatives)."""
    rng = np.random.default_rng(0)
    S = normalized_adjacency(random_graph(30, 0.15, seed=2))[0]
    net = GCN(S, rng.random((30, 8)), hidden=5, n_classes=3)
    params = net.init_params(seed=1)
    labels, nodes = rng.integers(0, 3, 30), np.arange(0, 30, 2)
    _, grads = net.loss_and_grads(params, labels, nodes)
    for key in params:
        direction = rng.standard_normal(params[key].shape)
        eps = 1e-6
        plus = {**params, key: params[key] + eps * direction}
        minus = {**params, key: params[key] - eps * direction}
        fd = (
            net.loss_and_grads(plus, labels, nodes)[0] - net.loss_and_grads(minus, labels, nodes)[0]
        ) / (2 * eps)
        exact = float(np.sum(grads[key] * direction))
        assert abs(fd - exact) <= 1e-8 * max(1.0, abs(exact)), key


def test_linear_propagation_recovers_labels_that_propagation_reveals():
    """Two cliques, each node's features random except one coordinate that
    carries its clique's label on a few nodes only: one hop of S spreads it, so
    the selected K is >= 1 and the test nodes are classified correctly."""
    rng = np.random.default_rng(3)
    n = 40
    A = np.zeros((n, n))
    A[:20, :20] = A[20:, 20:] = 1
    np.fill_diagonal(A, 0)
    labels = np.repeat([0, 1], 20)
    X = rng.random((n, 6)) * 0.01
    carriers = np.r_[0:5, 20:25]
    X[carriers, labels[carriers]] += 1.0
    S = normalized_adjacency(A)[0]
    split = (np.r_[0, 20], np.r_[1:10, 21:30], np.r_[10:20, 30:40])
    val, test, K, _ = linear_propagation(S, X, labels, split)
    assert K >= 1 and val == 1.0 and test == 1.0
