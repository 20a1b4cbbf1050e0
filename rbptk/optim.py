"""First-order optimisers on dicts of arrays (NumPy or CuPy), for training loops."""

from __future__ import annotations

from .kernels import adam_update

__all__ = ["SGD", "Adam"]


class Adam:
    """Adam (Kingma & Ba 2015) on a dict of arrays.

    m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
    p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).

    ``step(params, grads)`` returns a new dict; ``params`` is not modified. The
    update is one fused kernel (numba on the CPU, CuPy on the GPU).
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.lr, (self.b1, self.b2), self.eps = float(lr), betas, float(eps)
        self.m, self.v, self.t = {}, {}, 0

    def step(self, params, grads):
        """Return the updated parameters."""
        self.t += 1
        c1, c2 = 1 - self.b1**self.t, 1 - self.b2**self.t
        out = {}
        for k, p in params.items():
            g = grads[k]
            if k not in self.m:
                self.m[k], self.v[k] = 0 * g, 0 * g
            out[k] = adam_update(
                p, g, self.m[k], self.v[k], self.lr, self.b1, self.b2, c1, c2, self.eps
            )
        return out


class SGD:
    """SGD with momentum and weight decay, in PyTorch's convention.

    d = g + wd p,   v <- mu v + d,   p <- p - lr v.
    """

    def __init__(self, lr=1e-3, momentum=0.0, weight_decay=0.0):
        self.lr, self.mu, self.wd = float(lr), float(momentum), float(weight_decay)
        self.v = {}

    def step(self, params, grads):
        """Return the updated parameters."""
        out = {}
        for k, p in params.items():
            d = grads[k] + self.wd * p if self.wd else grads[k]
            self.v[k] = self.mu * self.v[k] + d if k in self.v else d
            out[k] = p - self.lr * self.v[k]
        return out
