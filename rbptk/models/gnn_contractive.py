"""A gated graph network that is a contraction by construction (docs/gnn.md,
"A contractive gated graph network").

    a = Ahat h U + X W_x + b                 (n, D)  candidate input
    c = tanh(a)
    z = z_min + (1 - z_min) sigma(X W_z + b_z)    (n, D)  update gate, from the features only
    h' = (1 - z) * h + z * c

Ahat = D^-1/2 (A + I) D^-1/2 (degrees of A + I), divided by a bound on its
2-norm when A is not symmetric, so ||Ahat||_2 <= 1. The node features X enter
every step. With ||U||_2 <= gamma and z >= z_min, one step is Lipschitz in h
(Frobenius norm over all nodes) with constant

    L = sqrt(1 - z_min + ||Ahat||_2^2 ||U||_2^2) <= sqrt(1 - z_min + gamma^2) < 1

whenever gamma^2 < z_min (docs/gnn.md derives it): the forward iteration
converges to the unique fixed point from any start, and rho(J) <= L there, so
RBP, Neumann-RBP and the Krylov methods compute the true implicit gradient.
:meth:`project` restores ||U||_2 <= gamma after an optimiser step.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from .. import kernels
from ..backend import get_namespace

__all__ = ["ContractiveGraphNet", "normalized_adjacency"]

PARAMS = ("W_x", "b", "U", "W_z", "b_z")


def normalized_adjacency(A):
    """(Ahat, s): Ahat = D^-1/2 (A + I) D^-1/2 scaled so that s = a bound on
    ||Ahat||_2 is at most 1 (exactly 1 for a symmetric non-negative A, whose
    normalised adjacency has spectral norm 1; else sqrt(||.||_1 ||.||_inf))."""
    A = scipy.sparse.csr_matrix(A, dtype=np.float64)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be square, got shape {A.shape}")
    if A.nnz and A.data.min() < 0:
        raise ValueError("A must have non-negative entries")
    M = A + scipy.sparse.identity(A.shape[0], format="csr")
    d = np.asarray(M.sum(axis=1)).ravel() ** -0.5
    Ahat = (scipy.sparse.diags(d) @ M @ scipy.sparse.diags(d)).tocsr()
    if A.nnz == 0 or abs(A - A.T).max() == 0:
        return Ahat, 1.0
    one = abs(Ahat).sum(axis=0).max()
    inf = abs(Ahat).sum(axis=1).max()
    s = float(np.sqrt(one * inf))
    return (Ahat / s).tocsr() if s > 1 else Ahat, min(s, 1.0)


class ContractiveGraphNet:
    """The gated graph network of the module docstring.

    Parameters
    ----------
    A : scipy.sparse matrix, (n, n)
        Non-negative adjacency (A[i, j]: edge from node j to node i).
    X : array, (n, F)
        Node features, the input of every step (NumPy; copied to CuPy on use).
    dim : int
        State size D per node.
    z_min : float, default 0.5
        Lower bound of the update gate, in (0, 1].
    gamma : float, default 0.5
        Bound on ||U||_2 kept by :meth:`project`; gamma^2 < z_min makes the
        step a contraction.
    """

    def __init__(self, A, X, dim, *, z_min=0.5, gamma=0.5):
        if not 0 < z_min <= 1:
            raise ValueError(f"z_min must be in (0, 1], got {z_min!r}")
        if not gamma > 0:
            raise ValueError(f"gamma must be > 0, got {gamma!r}")
        Ahat, self.ahat_norm = normalized_adjacency(A)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != Ahat.shape[0]:
            raise ValueError(f"X must have shape (n, F) = ({Ahat.shape[0]}, F), got {X.shape}")
        self.n, self.F, self.D = X.shape[0], X.shape[1], int(dim)
        self.z_min, self.gamma = float(z_min), float(gamma)
        self._cache = {("numpy", np.float64): (Ahat, Ahat.T.tocsr(), X)}

    def arrays(self, xp, dtype):
        """(Ahat, Ahat^T, X) for namespace ``xp`` and ``dtype`` (cached)."""
        key = (xp.__name__, np.dtype(dtype).type)
        if key not in self._cache:
            Ahat, AhatT, X = self._cache[("numpy", np.float64)]
            Ahat, AhatT, X = Ahat.astype(dtype), AhatT.astype(dtype), X.astype(dtype)
            if xp.__name__ == "cupy":
                import cupyx.scipy.sparse as cusparse

                Ahat, AhatT, X = (
                    cusparse.csr_matrix(Ahat),
                    cusparse.csr_matrix(AhatT),
                    xp.asarray(X),
                )
            self._cache[key] = (Ahat, AhatT, X)
        return self._cache[key]

    def init_params(self, *, seed=0, dtype=np.float32, scheme="random"):
        """Initial parameters.

        ``scheme="random"``: W_x, W_z ~ N(0, 1 / F), U ~ N(0, 1 / D) scaled to
        ||U||_2 = gamma / 2, b = b_z = 0. ``scheme="pagerank"`` (needs F = D):
        U = gamma I, W_x = (1 - gamma) I, b = 0 (W_z, b_z as above), the point
        where, with tanh near the identity, the fixed point is personalised
        PageRank propagation of the features, h* ~ (1 - gamma) sum_k gamma^k
        Ahat^k X (APPNP's propagation, Gasteiger et al. 2019); ||U||_2 = gamma
        already meets the bound :meth:`project` keeps.
        """
        rng = np.random.default_rng(seed)
        F, D = self.F, self.D
        U = rng.normal(0, 1 / np.sqrt(D), (D, D))
        U *= 0.5 * self.gamma / np.linalg.norm(U, 2)
        params = {
            "W_x": rng.normal(0, 1 / np.sqrt(F), (F, D)),
            "b": np.zeros(D),
            "U": U,
            "W_z": rng.normal(0, 1 / np.sqrt(F), (F, D)),
            "b_z": np.zeros(D),
        }
        if scheme == "pagerank":
            if F != D:
                raise ValueError(f'scheme="pagerank" needs dim = F = {F}, got dim = {D}')
            params["U"] = self.gamma * np.eye(D)
            params["W_x"] = (1 - self.gamma) * np.eye(D)
        elif scheme != "random":
            raise ValueError(f"scheme must be 'random' or 'pagerank', got {scheme!r}")
        return {k: v.astype(dtype) for k, v in params.items()}

    def validate(self, h, params):
        """Raise ValueError naming the array whose shape does not fit."""
        F, D = self.F, self.D
        shapes = {"W_x": (F, D), "b": (D,), "U": (D, D), "W_z": (F, D), "b_z": (D,)}
        known = set(shapes) | {"XW", "s", "z"}
        if not set(shapes) <= set(params) <= known:
            raise ValueError(
                f"ContractiveGraphNet params must be {sorted(shapes)}, got {sorted(params)}"
            )
        for k, s in shapes.items():
            if tuple(params[k].shape) != s:
                raise ValueError(f"params[{k!r}] must have shape {s}, got {tuple(params[k].shape)}")
        if tuple(h.shape) != (self.n, D):
            raise ValueError(f"state h must have shape {(self.n, D)}, got {tuple(h.shape)}")

    def prepare(self, params):
        """Add the step-independent XW = X W_x + b, s = sigma(X W_z + b_z) and
        the gate z (once per solve; idempotent)."""
        if "z" in params:
            return params
        xp = get_namespace(params["U"])
        X = self.arrays(xp, params["U"].dtype)[2]
        s = 1 / (1 + xp.exp(-(X @ params["W_z"] + params["b_z"])))
        z = self.z_min + (1 - self.z_min) * s
        derived = {"XW": X @ params["W_x"] + params["b"], "s": s, "z": z}
        return {**{k: params[k] for k in PARAMS}, **derived}

    def _propagated(self, h, p):
        """m = Ahat h and m U."""
        m = kernels.spmm(self.arrays(get_namespace(h), h.dtype)[0], h)
        return m, m @ p["U"]

    def _candidate(self, h, p):
        m, mU = self._propagated(h, p)
        return m, get_namespace(h).tanh(mU + p["XW"])

    def step(self, h, params, x=None):
        """h' = (1 - z) h + z tanh(Ahat h U + X W_x + b)."""
        p = self.prepare(params)
        return kernels.damped_tanh(self._propagated(h, p)[1], p["XW"], p["z"], h)

    def linearize(self, h, params, x=None):
        """Linearisation at h, caching m = Ahat h and c."""
        p = self.prepare(params)
        m, c = self._candidate(h, p)
        return _Linearization(self, p, h, m, c)

    def lipschitz_bound(self, params):
        """sqrt(1 - z_min + ||Ahat||_2^2 ||U||_2^2): the step's Lipschitz constant bound."""
        xp = get_namespace(params["U"])
        u = float(xp.linalg.norm(params["U"].astype(np.float64), 2))
        return float(np.sqrt(1 - self.z_min + (self.ahat_norm * u) ** 2))

    def project(self, params):
        """Params with U scaled to ||U||_2 <= gamma (others unchanged)."""
        xp = get_namespace(params["U"])
        u = float(xp.linalg.norm(params["U"].astype(np.float64), 2))
        if u <= self.gamma:
            return params
        return {**params, "U": params["U"] * params["U"].dtype.type(self.gamma / u)}


class _Linearization:
    """J v = (1 - z) v + z (1 - c^2) (Ahat v U);
    J^T u = (1 - z) u + Ahat^T (g U^T),  g = z (1 - c^2) u."""

    def __init__(self, net, p, h, m, c):
        self.net, self.p, self.h, self.m, self.c = net, p, h, m, c
        self.zd = p["z"] * (1 - c * c)  # z (1 - c^2)

    def _graph(self):
        return self.net.arrays(get_namespace(self.h), self.h.dtype)

    def jvp(self, v):
        Ahat = self._graph()[0]
        return v - self.p["z"] * v + self.zd * (kernels.spmm(Ahat, v) @ self.p["U"])

    def vjp(self, u):
        AhatT = self._graph()[1]
        g = self.zd * u
        return u - self.p["z"] * u + kernels.spmm(AhatT, kernels.matmul_for_spmm(g, self.p["U"].T))

    def vjp_params(self, u):
        """dW_x = X^T g, db = sum g, dU = m^T g with g = z (1 - c^2) u;
        dW_z = X^T q, db_z = sum q with q = u (c - h) (1 - z_min) s (1 - s)."""
        xp = get_namespace(u)
        X = self._graph()[2]
        g = self.zd * u
        s = self.p["s"]
        q = u * (self.c - self.h) * ((1 - self.net.z_min) * s * (1 - s))
        return {
            "W_x": X.T @ g,
            "b": xp.sum(g, axis=0),
            "U": self.m.T @ g,
            "W_z": X.T @ q,
            "b_z": xp.sum(q, axis=0),
        }
