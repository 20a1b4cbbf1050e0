"""Continuous Hopfield network with clamped input units (Liao et al. 2018, experiment 1)."""

from __future__ import annotations

import numpy as np

from ..backend import get_namespace
from ..kernels import symmetrize_zero_diagonal

__all__ = ["HopfieldNet"]


def _sigmoid(xp, z):
    """sigma(z) = 1 / (1 + e^-z), written as (1 + tanh(z/2)) / 2 (no overflow)."""
    return 0.5 + 0.5 * xp.tanh(0.5 * z)


def _zero_input_rows(a, n_in):
    """Copy of ``a`` with its first ``n_in`` rows (the clamped units) set to zero."""
    out = a * 1
    out[:n_in, ...] = 0
    return out


def _columns(xp, a):
    """View a state (N,) or batch (N, B) as a matrix (N, B)."""
    return a if a.ndim == 2 else xp.reshape(a, (-1, 1))


def _symmetric_rank_update(xp, mus, ss):
    """sum_i (mu_i s_i^T + s_i mu_i^T) with a zero diagonal, as one product
    [M S] [S M]^T of inner size 2k (no N x N transpose pass)."""
    M = xp.concat([_columns(xp, a) for a in mus], axis=1)
    S = xp.concat([_columns(xp, a) for a in ss], axis=1)
    out = xp.concat([M, S], axis=1) @ xp.concat([S, M], axis=1).T
    if hasattr(xp, "fill_diagonal"):
        xp.fill_diagonal(out, 0)
        return out
    return out * (1 - xp.eye(out.shape[0], dtype=out.dtype))


class HopfieldNet:
    """h' = clamp((1 - a) h + W sigma(b h)),  W = P + P^T with a zero diagonal.

    Units are ordered input | hidden | output, N = n_in + n_hidden + n_out.
    ``clamp`` sets the input units to the presented image x after every step.
    Parameters (dict): ``P`` of shape (N, N). State ``h``: (N,) or a batch
    (N, B); input ``x``: (n_in,) or (n_in, B), required.

    With m the mask that is 0 on input units and 1 elsewhere,
    s = sigma(b h) and s' = b s (1 - s):

        J v         = m * ((1 - a) v + W (s' * v))
        J^T u       = (1 - a) (m * u) + s' * (W (m * u))          (W symmetric)
        dL/dW       = G = (m * u) s^T  (summed over the batch)
        dL/dP       = G + G^T = (m * u) s^T + s (m * u)^T, zero diagonal

    Derivation: docs/hopfield.md.

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Unit counts (784, 1024, 784 in the paper).
    a, b : float
        Leak (default 1) and gain (default 0.5).
    """

    def __init__(self, n_in, n_hidden, n_out, a=1.0, b=0.5):
        self.n_in, self.n_hidden, self.n_out = int(n_in), int(n_hidden), int(n_out)
        self.N = self.n_in + self.n_hidden + self.n_out
        self.a, self.b = float(a), float(b)

    @property
    def output_slice(self):
        """Index of the output units in the state."""
        return slice(self.n_in + self.n_hidden, self.N)

    def init_params(self, *, scale=1e-3, seed=0, dtype=np.float32):
        """P ~ scale * N(0, 1), as a NumPy array (move it with rbptk.asarray)."""
        rng = np.random.default_rng(seed)
        return {"P": (scale * rng.standard_normal((self.N, self.N))).astype(dtype)}

    def initial_state(self, x):
        """The presented image padded with zeros: h_0 of shape (N,) or (N, B)."""
        xp = get_namespace(x)
        h = xp.zeros((self.N,) + tuple(x.shape[1:]), dtype=x.dtype)
        h[: self.n_in, ...] = x
        return h

    def validate(self, h, params):
        """Raise ValueError naming the array whose shape does not fit."""
        if set(params) != {"P"}:
            raise ValueError(f"HopfieldNet params must be {{'P'}}, got {sorted(params)}")
        if tuple(params["P"].shape) != (self.N, self.N):
            raise ValueError(
                f"params['P'] must have shape {(self.N, self.N)}, got {params['P'].shape}"
            )
        if h.ndim not in (1, 2) or h.shape[0] != self.N:
            raise ValueError(f"state h must have shape ({self.N},) or ({self.N}, B), got {h.shape}")

    def prepare(self, params):
        """Add W = P + P^T with a zero diagonal (once per solve; idempotent)."""
        if "W" in params:
            return params
        return {"P": params["P"], "W": symmetrize_zero_diagonal(params["P"])}

    def _weights(self, params):
        return params["W"] if "W" in params else self.prepare(params)["W"]

    def _check_input(self, h, x):
        if x is None:
            raise ValueError("HopfieldNet needs the presented image x (clamped on the input units)")
        if tuple(x.shape) != (self.n_in,) + tuple(h.shape[1:]):
            raise ValueError(
                f"image x must have shape {(self.n_in,) + tuple(h.shape[1:])}, got {tuple(x.shape)}"
            )

    def step(self, h, params, x=None):
        """(1 - a) h + W sigma(b h), with the input units set to x."""
        self._check_input(h, x)
        xp = get_namespace(h)
        h_next = self._weights(params) @ _sigmoid(xp, self.b * h)
        if self.a != 1.0:
            h_next = h_next + (1 - self.a) * h
        h_next[: self.n_in, ...] = x
        return h_next

    def linearize(self, h, params, x=None):
        """Linearisation at h, caching s = sigma(b h) and s' = b s (1 - s)."""
        self._check_input(h, x)
        s = _sigmoid(get_namespace(h), self.b * h)
        return _HopfieldLinearization(self, self._weights(params), s, self.b * s * (1 - s))

    def vjp_params_sum(self, linearizations, cotangents):
        """sum_i vjp_params_i(u_i) as one matrix product (used by BPTT)."""
        xp = get_namespace(*cotangents)
        mus = [_zero_input_rows(u, self.n_in) for u in cotangents]
        return {"P": _symmetric_rank_update(xp, mus, [lin.s for lin in linearizations])}


class _HopfieldLinearization:
    def __init__(self, net, W, s, ds):
        self.net, self.W, self.s, self.ds = net, W, s, ds

    def jvp(self, v):
        out = self.W @ (self.ds * v)
        if self.net.a != 1.0:
            out = out + (1 - self.net.a) * v
        out[: self.net.n_in, ...] = 0
        return out

    def vjp(self, u):
        mu = _zero_input_rows(u, self.net.n_in)
        out = self.ds * (self.W @ mu)
        return out if self.net.a == 1.0 else out + (1 - self.net.a) * mu

    def vjp_params(self, u):
        return self.net.vjp_params_sum([self], [u])
