"""The benchmark problems at the paper's sizes, each with its bare products
(the unavoidable matrix products, for the roofline)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import rbptk
from rbptk.models import MLP, GRUGraphNet, HopfieldNet, SGDMomentumStep, SoftmaxReadout


@dataclass
class Case:
    """One model at one size: everything rbptk.gradient needs, plus the bare
    products of one step (``bare_step``) and of one parameter gradient
    (``bare_param``), each a no-argument callable."""

    name: str
    dynamics: object
    h0: object
    params: dict
    loss_grad: object
    inputs: object
    T: int
    K: int
    bare_step: object
    bare_param: object
    extra: dict = field(default_factory=dict)


def hopfield(dtype=np.float32):
    """784 + 1024 + 784 units, one image, T = 50, K = 20.

    P ~ 0.02 N(0, 1) (rho(J) about 0.35): the paper's 1e-3 initialisation gives
    rho(J) ~ 0.03, whose Neumann terms underflow into float32 denormals within
    20 iterations and would time the CPU's denormal path instead of the method.
    """
    from problems.hopfield import clean_images, l1_loss_grad

    net = HopfieldNet(784, 1024, 784)
    P = rbptk.asarray(net.init_params(scale=0.02, dtype=dtype)["P"])
    x = rbptk.asarray(clean_images()[:, 0].astype(dtype))
    W = net.prepare({"P": P})["W"]
    s = W[:, 0] * 0 + 0.5
    return Case(
        "hopfield",
        net,
        net.initial_state(x),
        {"P": P},
        l1_loss_grad(net, x),
        lambda t: x,
        50,
        20,
        bare_step=lambda: W @ s,
        bare_param=lambda: W[:, :2] @ W[:2, :],
    )


def gnn(dataset, dtype=np.float32, weight_scale=1.0):
    """GRU propagation on Cora (D = 64) or Pubmed (D = 16), T = 100, K = 5.

    ``weight_scale`` multiplies W_ih and W_hh: PyTorch's initialisation gives
    rho(J) > 1 on these graphs (the Neumann series diverges and stops early);
    0.1 gives rho(J) = 0.875 on Cora and a forward pass that converges, the
    setting in which the truncation sweep compares like with like."""
    from problems.citation import load
    from problems.data.planetoid import random_split

    features, labels, A, n_classes = load(dataset)
    net = GRUGraphNet(A, features.shape[1])
    readout = SoftmaxReadout(features.shape[1], n_classes)
    params = {
        k: rbptk.asarray(v * weight_scale if k.startswith("W") else v)
        for k, v in net.init_params(dtype=dtype).items()
    }
    out = {k: rbptk.asarray(v) for k, v in readout.init_params(dtype=dtype).items()}
    h0 = rbptk.asarray(features.astype(dtype))
    y = rbptk.asarray(labels)
    train = rbptk.asarray(random_split(len(labels), 0)[0])
    xp = rbptk.get_namespace(h0)
    Ad, _ = net.graph(xp, h0.dtype)
    W = params["W_ih"]

    def bare_step():  # SpMM + the two gate GEMMs
        return rbptk.kernels.spmm(Ad, h0) @ W.T, h0 @ W.T

    suffix = "" if weight_scale == 1.0 else "-contractive"
    return Case(
        f"gnn-{dataset}{suffix}",
        net,
        h0,
        params,
        lambda h: readout.loss_and_grads(h, out, y, train)[:2],
        None,
        100,
        5,
        bare_step=bare_step,
        bare_param=lambda: (h0.T @ h0, h0.T @ h0),
        extra={
            "A": A,
            "labels": labels,
            "train": rbptk.to_numpy(train),
            "readout": {k: rbptk.to_numpy(v) for k, v in out.items()},
        },
    )


def mlp_sgd(dtype=np.float64, n_train=10_000, full_last=True):
    """784-50-50-50-10 MLP, 100 SGD steps of batch 200, K = 50.

    ``full_last``: the RBP-family methods linearise a last step on the whole
    training set, as the paper's reference does (each of their products is then
    a 10,000-image HVP); False gives every method the same batch-200 last step,
    the like-for-like comparison of the methods' costs."""
    from problems.hyperopt import SIZES, load, make_inputs, minibatch_schedule

    (X, Y), _ = load(n_train)
    X, Y = rbptk.asarray(X.astype(dtype)), rbptk.asarray(Y.astype(dtype))
    mlp = MLP(SIZES)
    step = SGDMomentumStep(mlp)
    meta = {k: rbptk.asarray(v) for k, v in step.init_params(dtype=dtype).items()}
    s0 = step.initial_state(rbptk.asarray(mlp.init(dtype=dtype)))
    schedule = minibatch_schedule(n_train, 200, 100, 0)

    def loss_grad(s):
        g = rbptk.get_namespace(s).zeros_like(s)
        g[: mlp.size] = mlp.grad(s[: mlp.size], X, Y)
        return g

    w = s0[: mlp.size]
    Xb, Yb = X[schedule[0]], Y[schedule[0]]
    extra = {"inputs_full_last": make_inputs((X, Y), schedule, True)} if full_last else {}
    return Case(
        "mlp-sgd" if full_last else "mlp-sgd-batch-last",
        step,
        s0,
        meta,
        loss_grad,
        make_inputs((X, Y), schedule, False),
        100,
        50,
        bare_step=lambda: mlp.grad(w, Xb, Yb),
        bare_param=lambda: None,
        extra=extra,
    )


def build(name):
    """A case by name: hopfield, gnn-cora, gnn-pubmed, gnn-cora-contractive,
    mlp-sgd, mlp-sgd-batch-last."""
    if name == "hopfield":
        return hopfield()
    if name == "gnn-cora-contractive":
        return gnn("cora", weight_scale=0.1)
    if name.startswith("gnn-"):
        return gnn(name[4:])
    if name == "mlp-sgd":
        return mlp_sgd()
    if name == "mlp-sgd-batch-last":
        return mlp_sgd(full_last=False)
    raise ValueError(f"unknown case {name!r}")


CASES = ("hopfield", "gnn-cora", "gnn-pubmed", "mlp-sgd", "mlp-sgd-batch-last")
