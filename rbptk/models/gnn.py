"""GRU message passing on a sparse graph (Liao et al. 2018, experiment 2)."""

from __future__ import annotations

import numpy as np
import scipy.sparse

from .. import kernels
from ..backend import get_namespace

__all__ = ["GRUGraphNet", "SoftmaxReadout"]


class GRUGraphNet:
    """h' = GRU(A h, h) on every node at once (PyTorch GRUCell convention).

    State h: (n, D) node states. A: (n, n) sparse sum-aggregation matrix,
    A[i, j] = weight of the message from node j to node i. With m = A h,

        gi = m W_ih^T + b_ih,   gh = h W_hh^T + b_hh      (n, 3D), blocks [r | z | n]
        r = sigma(gi_r + gh_r),  z = sigma(gi_z + gh_z),  c = tanh(gi_n + r * gh_n)
        h' = (1 - z) * c + z * h

    Parameters (dict): ``W_ih`` (3D, D), ``W_hh`` (3D, D), ``b_ih`` (3D,),
    ``b_hh`` (3D,). Products (derivation: docs/gnn.md), with a_gi, a_gh the
    gate-input cotangents of :func:`rbptk.kernels.gru_vjp`:

        J v    = gru_jvp((A v) W_ih^T, v W_hh^T, v)
        J^T u  = u * z + a_gh W_hh + A^T (a_gi W_ih)
        dW_ih = a_gi^T m,  dW_hh = a_gh^T h,  db_ih = sum_i a_gi,  db_hh = sum_i a_gh

    A and A^T are stored once as CSR (no transpose per call); CuPy copies are
    made on first use with CuPy states and kept.

    Parameters
    ----------
    A : scipy.sparse matrix, (n, n)
    dim : int
        State size D per node.
    """

    def __init__(self, A, dim):
        A = scipy.sparse.csr_matrix(A, dtype=np.float64)
        if A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be square, got shape {A.shape}")
        self.n, self.D = A.shape[0], int(dim)
        self._graphs = {("numpy", np.float64): (A, A.T.tocsr())}

    def graph(self, xp, dtype):
        """(A, A^T) as CSR matrices for namespace ``xp`` and ``dtype`` (cached)."""
        key = (xp.__name__, np.dtype(dtype).type)
        if key not in self._graphs:
            A, AT = self._graphs[("numpy", np.float64)]
            A, AT = A.astype(dtype), AT.astype(dtype)
            if xp.__name__ == "cupy":
                import cupyx.scipy.sparse as cusparse

                A, AT = cusparse.csr_matrix(A), cusparse.csr_matrix(AT)
            self._graphs[key] = (A, AT)
        return self._graphs[key]

    def init_params(self, *, seed=0, dtype=np.float32, scheme="pytorch"):
        """Initial parameters.

        ``scheme="pytorch"``: PyTorch GRUCell's, every entry U(-1/sqrt(D),
        1/sqrt(D)). ``scheme="reference"``: the reference code's (its
        model/gnn.py): W_ih and W_hh Kaiming-normal with PyTorch's defaults
        (fan in D, gain sqrt(2): N(0, 2 / D)), both biases zero.
        """
        rng = np.random.default_rng(seed)
        D = self.D
        shapes = {"W_ih": (3 * D, D), "W_hh": (3 * D, D), "b_ih": (3 * D,), "b_hh": (3 * D,)}
        if scheme == "reference":
            std = np.sqrt(2.0 / D)
            return {
                k: (rng.normal(0.0, std, s) if k.startswith("W") else np.zeros(s)).astype(dtype)
                for k, s in shapes.items()
            }
        if scheme != "pytorch":
            raise ValueError(f"scheme must be 'pytorch' or 'reference', got {scheme!r}")
        bound = 1 / np.sqrt(D)
        return {k: rng.uniform(-bound, bound, s).astype(dtype) for k, s in shapes.items()}

    def validate(self, h, params):
        """Raise ValueError naming the array whose shape does not fit."""
        D = self.D
        shapes = {"W_ih": (3 * D, D), "W_hh": (3 * D, D), "b_ih": (3 * D,), "b_hh": (3 * D,)}
        if set(params) != set(shapes):
            raise ValueError(f"GRUGraphNet params must be {sorted(shapes)}, got {sorted(params)}")
        for k, s in shapes.items():
            if tuple(params[k].shape) != s:
                raise ValueError(f"params[{k!r}] must have shape {s}, got {tuple(params[k].shape)}")
        if tuple(h.shape) != (self.n, D):
            raise ValueError(f"state h must have shape {(self.n, D)}, got {tuple(h.shape)}")

    def _gates(self, h, params, keep=True):
        """m = A h and the GRU gates: (m, (h', r, z, c, gh_n + b_hh_n)), or
        (m, h') when not ``keep``."""
        A, _ = self.graph(get_namespace(h), h.dtype)
        m = kernels.spmm(A, h)
        gi, gh = m @ params["W_ih"].T, h @ params["W_hh"].T
        return m, kernels.gru_forward(gi, gh, params["b_ih"], params["b_hh"], h, keep)

    def step(self, h, params, x=None):
        """GRU(A h, h)."""
        return self._gates(h, params, keep=False)[1]

    def linearize(self, h, params, x=None):
        """Linearisation at h, caching m = A h and the gates r, z, c and gh_n."""
        m, (_, r, z, c, ghn) = self._gates(h, params)
        A, AT = self.graph(get_namespace(h), h.dtype)
        return _GRULinearization(params, A, AT, m, h, r, z, c, ghn)


class _GRULinearization:
    def __init__(self, params, A, AT, m, h, r, z, c, ghn):
        self.params, self.A, self.AT = params, A, AT
        self.m, self.h, self.r, self.z, self.c, self.ghn = m, h, r, z, c, ghn

    def jvp(self, v):
        dgi = kernels.spmm(self.A, v) @ self.params["W_ih"].T
        dgh = v @ self.params["W_hh"].T
        return kernels.gru_jvp(dgi, dgh, v, self.h, self.r, self.z, self.c, self.ghn)

    def _gate_cotangents(self, u):
        return kernels.gru_vjp(u, self.h, self.r, self.z, self.c, self.ghn)

    def _vjp(self, u, a_gi, a_gh):
        out = a_gh @ self.params["W_hh"]
        out += kernels.spmm(self.AT, kernels.matmul_for_spmm(a_gi, self.params["W_ih"]))
        out += u * self.z
        return out

    def _vjp_params(self, a_gi, a_gh):
        xp = get_namespace(a_gi)
        return {
            "W_ih": a_gi.T @ self.m,
            "W_hh": a_gh.T @ self.h,
            "b_ih": xp.sum(a_gi, axis=0),
            "b_hh": xp.sum(a_gh, axis=0),
        }

    def vjp(self, u):
        return self._vjp(u, *self._gate_cotangents(u))

    def vjp_params(self, u):
        return self._vjp_params(*self._gate_cotangents(u))

    def vjp_and_params(self, u):
        """(vjp(u), vjp_params(u)) sharing one gate-cotangent pass."""
        a = self._gate_cotangents(u)
        return self._vjp(u, *a), self._vjp_params(*a)


class SoftmaxReadout:
    """Linear read-out and softmax cross-entropy on labelled nodes.

    logits = h W^T + b (n, C); on the labelled rows S with labels y,
    L = mean_{i in S} -log softmax(logits_i)_{y_i}. With P = softmax(logits_S)
    and Y the one-hot labels, dlogits_S = (P - Y) / |S|, so

        dL/dW = dlogits_S^T h_S,   dL/db = sum_i dlogits_S,
        dL/dh = dlogits_S W on the rows S, 0 elsewhere.
    """

    def __init__(self, dim, n_classes):
        self.D, self.C = int(dim), int(n_classes)

    def init_params(self, *, seed=0, dtype=np.float32, scheme="pytorch"):
        """PyTorch Linear's initialisation, U(-1/sqrt(D), 1/sqrt(D)), or with
        ``scheme="reference"`` the reference code's: W Kaiming-normal
        (N(0, 2 / D)), b zero."""
        rng = np.random.default_rng(seed)
        if scheme == "reference":
            W = rng.normal(0.0, np.sqrt(2.0 / self.D), (self.C, self.D))
            return {"W": W.astype(dtype), "b": np.zeros(self.C, dtype=dtype)}
        if scheme != "pytorch":
            raise ValueError(f"scheme must be 'pytorch' or 'reference', got {scheme!r}")
        bound = 1 / np.sqrt(self.D)
        return {
            "W": rng.uniform(-bound, bound, (self.C, self.D)).astype(dtype),
            "b": rng.uniform(-bound, bound, (self.C,)).astype(dtype),
        }

    def logits(self, h, params):
        """h W^T + b, shape (n, C)."""
        return h @ params["W"].T + params["b"]

    def loss_and_grads(self, h, params, labels, nodes):
        """Mean cross-entropy over ``nodes``; returns (loss, dL/dh, dL/dparams).

        ``labels`` (n,) integer array and ``nodes`` (k,) index array live on
        h's backend.
        """
        xp = get_namespace(h)
        hs = h[nodes]
        z = self.logits(hs, params)
        z = z - xp.max(z, axis=1, keepdims=True)
        logp = z - xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))
        rows = xp.arange(len(nodes))
        y = labels[nodes]
        loss = -float(xp.mean(logp[rows, y]))
        dz = xp.exp(logp)
        dz[rows, y] -= 1
        dz /= len(nodes)
        dh = xp.zeros_like(h)
        dh[nodes] = dz @ params["W"]
        return loss, dh, {"W": dz.T @ hs, "b": xp.sum(dz, axis=0)}
