"""A small dense recurrent model for tests and docs: h' = tanh(W h + U x + b)."""

from __future__ import annotations

import numpy as np

from ..backend import get_namespace

__all__ = ["TanhRNN"]


def _as_columns(xp, a):
    """View a state (n,) or batch (n, B) as a matrix (n, B)."""
    return a if a.ndim == 2 else xp.reshape(a, (a.shape[0], 1))


class TanhRNN:
    """h_{t+1} = tanh(W h_t + U x_t + b).

    Parameters (dict): ``W`` (n, n), ``U`` (n, m), ``b`` (n,). State ``h`` of
    shape (n,) or a batch (n, B); input ``x`` of shape (m,) or (m, B), or None
    (no input term). With a = W h + U x + b and d = 1 - tanh(a)^2:

        J v          = d * (W v)
        J^T u        = W^T (d * u)
        dL/dW = (d*u) h^T,  dL/dU = (d*u) x^T,  dL/db = sum over batch of d*u.
    """

    @staticmethod
    def init_params(n, m, *, scale=0.9, seed=0, dtype=np.float64):
        """Random parameters with ||W||_2 = ``scale`` (a contraction when < 1), as NumPy arrays."""
        rng = np.random.default_rng(seed)
        W = rng.standard_normal((n, n))
        W *= scale / np.linalg.norm(W, 2)
        U = rng.standard_normal((n, m)) / np.sqrt(m)
        b = 0.1 * rng.standard_normal(n)
        return {k: v.astype(dtype) for k, v in {"W": W, "U": U, "b": b}.items()}

    def validate(self, h, params, x=None):
        """Raise ValueError naming the array whose shape does not fit (h, the
        parameters, and the first input x against U)."""
        missing, extra = {"W", "U", "b"} - set(params), set(params) - {"W", "U", "b"}
        if missing or extra:
            raise ValueError(
                f"TanhRNN params must be ['U', 'W', 'b']; missing {sorted(missing)}, "
                f"unexpected {sorted(extra)}"
            )
        n = params["W"].shape[0] if params["W"].ndim == 2 else -1
        if tuple(params["W"].shape) != (n, n):
            raise ValueError(f"params['W'] must be square, got shape {tuple(params['W'].shape)}")
        if params["U"].ndim != 2 or params["U"].shape[0] != n:
            raise ValueError(
                f"params['U'] must have shape ({n}, m), got {tuple(params['U'].shape)}"
            )
        if tuple(params["b"].shape) != (n,):
            raise ValueError(f"params['b'] must have shape ({n},), got {tuple(params['b'].shape)}")
        if h.ndim not in (1, 2) or h.shape[0] != n:
            raise ValueError(f"state h must have shape ({n},) or ({n}, B), got {tuple(h.shape)}")
        m = params["U"].shape[1]
        if x is not None and x.dtype != h.dtype:
            raise TypeError(
                f"input x is {x.dtype} but the state is {h.dtype}: U x would promote the "
                "state; cast them alike"
            )
        if x is not None and (x.ndim != h.ndim or x.shape[0] != m or x.shape[1:] != h.shape[1:]):
            raise ValueError(
                f"input x has shape {tuple(x.shape)} but params['U'] has shape "
                f"{tuple(params['U'].shape)}: x must have shape ({m},{' B' if h.ndim == 2 else ''})"
            )

    def _preactivation(self, h, params, x):
        xp = get_namespace(h, *params.values())
        b = params["b"] if h.ndim == 1 else xp.reshape(params["b"], (-1, 1))
        a = params["W"] @ h + b
        return a if x is None else a + params["U"] @ x

    def step(self, h, params, x=None):
        """tanh(W h + U x + b)."""
        xp = get_namespace(h)
        return xp.tanh(self._preactivation(h, params, x))

    def linearize(self, h, params, x=None):
        """Linearisation at h, caching d = 1 - tanh(a)^2."""
        xp = get_namespace(h)
        d = 1 - xp.tanh(self._preactivation(h, params, x)) ** 2
        return _TanhRNNLinearization(params, h, x, d)


class _TanhRNNLinearization:
    def __init__(self, params, h, x, d):
        self.params, self.h, self.x, self.d = params, h, x, d

    def jvp(self, v):
        return self.d * (self.params["W"] @ v)

    def vjp(self, u):
        return self.params["W"].T @ (self.d * u)

    def vjp_params(self, u):
        xp = get_namespace(u)
        du = _as_columns(xp, self.d * u)
        grads = {
            "W": du @ _as_columns(xp, self.h).T,
            "b": xp.sum(du, axis=1),
            "U": 0 * self.params["U"] if self.x is None else du @ _as_columns(xp, self.x).T,
        }
        return grads
