"""Affine dynamics F(h) = A h + B w + c: the model whose implicit gradient is
known in closed form, for testing solvers."""

from __future__ import annotations

from ..backend import get_namespace

__all__ = ["AffineDynamics"]


class AffineDynamics:
    """h_{t+1} = A h_t + B w + c, with params ``A`` (n, n), ``B`` (n, p), ``w`` (p,), ``c`` (n,).

    J = A everywhere, and at the fixed point h* = (I - A)^{-1} (B w + c) the
    implicit gradient of L(h*) is dL/dw = B^T (I - A^T)^{-1} g. Products:

        J v = A v,   J^T u = A^T u,
        dL/dA = u h^T,  dL/dB = u w^T,  dL/dw = B^T u,  dL/dc = u.
    """

    def validate(self, h, params, x=None):
        """Raise ValueError naming the array whose shape does not fit (x is unused)."""
        if set(params) != set("ABwc"):
            raise ValueError(
                f"AffineDynamics params must be ['A', 'B', 'c', 'w'], got {sorted(params)}"
            )
        A, B, w, c = (params[k] for k in "ABwc")
        if h.ndim != 1:
            raise ValueError(f"state h must be 1-D, got shape {tuple(h.shape)}")
        n = h.shape[0]
        if tuple(A.shape) != (n, n):
            raise ValueError(f"params['A'] must have shape ({n}, {n}), got {tuple(A.shape)}")
        if B.ndim != 2 or B.shape[0] != n or tuple(w.shape) != (B.shape[1],):
            raise ValueError(
                "params['B'] (n, p) and params['w'] (p,) do not fit: "
                f"{tuple(B.shape)}, {tuple(w.shape)}"
            )
        if tuple(c.shape) != (n,):
            raise ValueError(f"params['c'] must have shape ({n},), got {tuple(c.shape)}")

    def step(self, h, params, x=None):
        """A h + B w + c."""
        return params["A"] @ h + params["B"] @ params["w"] + params["c"]

    def linearize(self, h, params, x=None):
        """The (state-independent) Jacobian products, recording h for dL/dA."""
        return _AffineLinearization(params, h)


class _AffineLinearization:
    def __init__(self, params, h):
        self.params, self.h = params, h

    def jvp(self, v):
        return self.params["A"] @ v

    def vjp(self, u):
        return self.params["A"].T @ u

    def vjp_params(self, u):
        xp = get_namespace(u)
        column = xp.reshape(u, (-1, 1))
        return {
            "A": column @ xp.reshape(self.h, (1, -1)),
            "B": column @ xp.reshape(self.params["w"], (1, -1)),
            "w": self.params["B"].T @ u,
            "c": u,
        }
