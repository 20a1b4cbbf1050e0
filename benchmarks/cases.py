"""The benchmark problems at the paper's sizes, each with the passes its
products are made of (for the roofline).

A gradient's roofline sums, over the passes it runs, each pass's floor:
max(flops / GEMM rate, bytes moved / copy bandwidth). For a BLAS product the
GEMM rate is that of the same product at the same shapes, timed bare in the
same run (the library call is the floor rbptk builds on); for a sparse or
elementwise pass it is the bytes the pass must move (every array it reads or
writes once; CSR structure once, each gathered row once) over the measured
copy bandwidth. The passes are those of rbptk's implementation on the CPU."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import rbptk
from rbptk.models import MLP, GRUGraphNet, HopfieldNet, SGDMomentumStep, SoftmaxReadout


@dataclass
class Pass:
    """One pass of a product: a BLAS call (``gemm``, a no-argument callable,
    timed bare) or a sparse / elementwise pass moving ``bytes`` bytes."""

    name: str
    gemm: object = None
    bytes: int = 0


@dataclass
class Case:
    """One model at one size: everything rbptk.gradient needs, plus the passes
    of one step, of one adjoint product (vjp or jvp) and of one parameter
    gradient: ``passes = {"step": [...], "adjoint": [...], "param": [...]}``;
    ``"adjoint": None`` where the product is timed whole instead (MLP-SGD)."""

    name: str
    dynamics: object
    h0: object
    params: dict
    loss_grad: object
    inputs: object
    T: int
    K: int
    passes: dict
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
    N, f = net.N, np.dtype(dtype).itemsize
    passes = {  # W s (a GEMV); sigma and its derivative over N; the rank-2 outer product
        "step": [Pass("W s", gemm=lambda: W @ s), Pass("sigma(b h)", bytes=2 * N * f)],
        "adjoint": [Pass("W (s' u)", gemm=lambda: W @ s), Pass("s' u", bytes=3 * N * f)],
        "param": [Pass("mu s^T + s mu^T", gemm=lambda: W[:, :2] @ W[:2, :])],
    }
    return Case(
        "hopfield", net, net.initial_state(x), {"P": P}, l1_loss_grad(net, x), lambda t: x,
        50, 20, passes,
    )  # fmt: skip


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
        gnn_passes(net, h0, params),
        extra={
            "A": A,
            "labels": labels,
            "train": rbptk.to_numpy(train),
            "readout": {k: rbptk.to_numpy(v) for k, v in out.items()},
        },
    )


def gnn_passes(net, h, params):
    """The GRU graph network's passes (float32 or float64, n nodes, D dims):
    a step is the SpMM m = A h, the GEMMs m W_ih^T and h W_hh^T, and the gate
    pass (reads gi, gh, h, writes h'); an adjoint product the gate-cotangent
    pass (reads u, h, r, z, c, gh_n, writes a_gi, a_gh), the GEMMs a_gh W_hh
    and a_gi W_ih, the SpMM with A^T and u * z added; a parameter gradient the
    GEMMs a_gi^T m and a_gh^T h and the bias sums."""
    A, AT = net.graph(rbptk.get_namespace(h), h.dtype)
    n, D = h.shape
    f = h.dtype.itemsize
    spmm_bytes = 4 * (n + 1) + (4 + f) * A.nnz + 2 * n * D * f  # CSR, h once, m once
    W_ih, W_hh = params["W_ih"], params["W_hh"]
    a = h @ W_ih.T  # an (n, 3D) operand for the adjoint GEMMs
    return {
        "step": [
            Pass("A h", bytes=spmm_bytes),
            Pass("m W_ih^T", gemm=lambda: h @ W_ih.T),
            Pass("h W_hh^T", gemm=lambda: h @ W_hh.T),
            Pass("gates", bytes=8 * n * D * f),
        ],
        "adjoint": [
            Pass("gate cotangents", bytes=12 * n * D * f),
            Pass("a_gh W_hh", gemm=lambda: a @ W_hh),
            Pass("a_gi W_ih", gemm=lambda: a @ W_ih),
            Pass("A^T (a_gi W_ih)", bytes=spmm_bytes),
            Pass("+ u z", bytes=4 * n * D * f),
        ],
        "param": [
            Pass("a_gi^T m", gemm=lambda: a.T @ h),
            Pass("a_gh^T h", gemm=lambda: a.T @ h),
            Pass("bias sums", bytes=6 * n * D * f),
        ],
    }


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
        {  # no pass model for the HVPs: "adjoint" None times the product itself
            "step": [Pass("minibatch gradient", gemm=lambda: mlp.grad(w, Xb, Yb))],
            "adjoint": None,
            "param": [],
        },
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
