"""Reference points for the citation tables: a linear propagation baseline and
a two-layer GCN (Kipf and Welling 2017), on the same splits and with the same
model selection (test accuracy at the best validation accuracy).

Both use the raw bag-of-words rows normalised to sum 1 and the symmetric
normalised adjacency with self-loops, S = D^-1/2 (A + I) D^-1/2 (NumPy,
float64, CPU).

- Linear propagation: P = S^K X, a ridge least-squares read-out on the
  labelled rows, W = P_L^T (P_L P_L^T + lambda I)^-1 Y_L (the dual form: the
  labelled rows are few), class = argmax P W; K in 0..10 and lambda in
  10^-4..10^2 chosen on the validation nodes.
- GCN: logits = S relu(S X W1) W2 (hidden 16, no dropout), mean cross-entropy
  on the labelled nodes, Adam lr 1e-2, weight decay 5e-4 on W1, 200 epochs.
  Its gradient is written by hand (below) and checked against central finite
  differences in tests/test_baselines.py.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse

from rbptk.models.gnn_contractive import normalized_adjacency

from .data.planetoid import load_planetoid, random_split

__all__ = ["GCN", "baseline_rows", "linear_propagation", "train_gcn"]

LAMBDAS = 10.0 ** np.arange(-4, 3)
HOPS = range(11)


@functools.lru_cache(maxsize=2)
def graph_and_features(dataset):
    """(S, X, labels): S = D^-1/2 (A + I) D^-1/2, X the raw rows normalised to sum 1."""
    features, labels, A = load_planetoid(dataset)
    X = np.asarray(features, dtype=np.float64)
    X = scipy.sparse.csr_matrix(X / np.maximum(X.sum(axis=1, keepdims=True), 1e-12))
    return normalized_adjacency(A)[0], X, labels


def accuracy(logits, labels, nodes):
    return float(np.mean(np.argmax(logits[nodes], axis=1) == labels[nodes]))


def linear_propagation(S, X, labels, split):
    """Best (val, test, K, lambda) of the ridge read-out on S^K X."""
    train, val, test = split
    Y = np.eye(labels.max() + 1)[labels[train]]
    best, P = (-1.0, 0.0, 0, 0.0), X.toarray() if scipy.sparse.issparse(X) else X
    for K in HOPS:
        if K:
            P = S @ P  # dense: propagation fills the rows in
        kernel = P @ P[train].T
        gram = kernel[train]  # P_L P_L^T; logits = P W = (P P_L^T) alpha
        for lam in LAMBDAS:
            logits = kernel @ np.linalg.solve(gram + lam * np.eye(len(train)), Y)
            val_acc = accuracy(logits, labels, val)
            if val_acc > best[0]:
                best = (val_acc, accuracy(logits, labels, test), K, float(lam))
    return best


class GCN:
    """logits = S relu(S X W1) W2 and the mean cross-entropy on ``nodes``.

    Forward: H1 = S X W1 (pre-activation), R = relu(H1), Z = S R W2.
    Backward, with G = dL/dZ = (softmax(Z_L) - Y_L) / |L| on the labelled rows
    and 0 elsewhere (the softmax cross-entropy gradient):
        dL/dW2 = (S R)^T G,
        dL/dR  = S^T G W2^T,
        dL/dH1 = dL/dR * [H1 > 0],
        dL/dW1 = (S X)^T dL/dH1.
    S X is the same every epoch and is computed once (kept sparse when it is).
    """

    def __init__(self, S, X, hidden=16, n_classes=7):
        self.S, self.ST = S, S.T.tocsr()
        SX = scipy.sparse.csr_matrix(S @ X)
        if SX.nnz > 0.05 * SX.shape[0] * SX.shape[1]:  # dense enough for BLAS
            SX = SX.toarray()
        self.SX, self.SXT = SX, (SX.T.tocsr() if scipy.sparse.issparse(SX) else SX.T)
        self.hidden, self.C = hidden, n_classes

    def init_params(self, seed=0):
        """Glorot-uniform weights, as Kipf and Welling."""
        rng = np.random.default_rng(seed)
        F = self.SX.shape[1]
        a1, a2 = np.sqrt(6 / (F + self.hidden)), np.sqrt(6 / (self.hidden + self.C))
        return {
            "W1": rng.uniform(-a1, a1, (F, self.hidden)),  # F = X's columns
            "W2": rng.uniform(-a2, a2, (self.hidden, self.C)),
        }

    def logits(self, params):
        R = np.maximum(self.SX @ params["W1"], 0.0)
        return self.S @ (R @ params["W2"])

    def loss_and_grads(self, params, labels, nodes):
        H1 = self.SX @ params["W1"]
        R = np.maximum(H1, 0.0)
        SR = self.S @ R
        Z = SR @ params["W2"]
        z = Z[nodes] - Z[nodes].max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        Y = np.eye(self.C)[labels[nodes]]
        loss = -float(np.mean(np.sum(Y * logp, axis=1)))
        G = np.zeros_like(Z)
        G[nodes] = (np.exp(logp) - Y) / len(nodes)
        dR = self.ST @ (G @ params["W2"].T)
        dH1 = dR * (H1 > 0)
        return loss, {"W1": self.SXT @ dH1, "W2": SR.T @ G}


def train_gcn(S, X, labels, split, *, seed=0, epochs=200, lr=1e-2, weight_decay=5e-4):
    """Best (val, test, epoch) of a GCN trained by Adam (decay on W1, as Kipf
    and Welling)."""
    from rbptk.optim import Adam

    train, val, test = split
    net = GCN(S, X, n_classes=int(labels.max()) + 1)
    params, opt = net.init_params(seed), Adam(lr)
    best = (-1.0, 0.0, 0)
    for epoch in range(epochs):
        _, grads = net.loss_and_grads(params, labels, train)
        grads["W1"] = grads["W1"] + weight_decay * params["W1"]
        params = opt.step(params, grads)
        logits = net.logits(params)
        val_acc = accuracy(logits, labels, val)
        if val_acc > best[0]:
            best = (val_acc, accuracy(logits, labels, test), epoch)
    return best


@functools.lru_cache(maxsize=64)
def baseline_rows(dataset, seeds):
    """Table rows (method, test_mean, test_std, val_best, seeds) of both
    baselines over ``seeds`` (a tuple) on ``dataset``'s splits."""
    S, X, labels = graph_and_features(dataset)
    rows = []
    for name, fit in (
        ("linear propagation", lambda sp, s: linear_propagation(S, X, labels, sp)),
        ("GCN", lambda sp, s: train_gcn(S, X, labels, sp, seed=s)),
    ):
        results = [fit(random_split(len(labels), s), s) for s in seeds]
        tests = [r[1] for r in results]
        rows.append({"method": name, "test_mean": float(np.mean(tests)),
                     "test_std": float(np.std(tests)),
                     "val_best": float(np.mean([r[0] for r in results])),
                     "seeds": len(seeds)})  # fmt: skip
    return rows
