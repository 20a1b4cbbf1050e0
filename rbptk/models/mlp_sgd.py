"""An MLP trained by SGD with momentum, one optimiser step as dynamics
(Liao et al. 2018, experiment 3; Maclaurin et al. 2015's parametrisation)."""

from __future__ import annotations

import numpy as np

from ..backend import get_namespace

__all__ = ["MLP", "SGDMomentumStep"]

E_MINUS_3 = float(np.exp(-3))  # the paper's initial weight scale
E_MINUS_100 = float(np.exp(-100))  # the paper's (negligible) weight decay


class MLP:
    """Fully connected tanh network with a softmax cross-entropy loss, on one flat
    parameter vector.

    Layers k = 1..L: a_k = z_{k-1} W_k^T + b_k, z_k = tanh(a_k) (k < L), logits
    a_L; z_0 = X (B, n_0). Loss on a batch (X, Y) with Y one-hot (B, C):

        L(w) = -(1/B) sum_i log softmax(a_L)_{i, y_i} + (wd / 2) ||w||^2.

    The parameter vector w packs W_1, b_1, ..., W_L, b_L (row-major), 2L tensors.
    :meth:`grad` is backprop; :meth:`hvp` is Pearlmutter's R-operator (one
    forward and one backward pass in the direction v, no finite differences, no
    Hessian). Derivation: docs/hyperopt.md.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, e.g. (784, 50, 50, 50, 10).
    weight_decay : float
        wd above (the paper's e^-100 is negligible).
    """

    def __init__(self, sizes, weight_decay=E_MINUS_100):
        self.sizes = tuple(int(s) for s in sizes)
        self.wd = float(weight_decay)
        self.shapes = []
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            self.shapes += [(n_out, n_in), (n_out,)]
        sizes_flat = [int(np.prod(s)) for s in self.shapes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes_flat)])
        self.size = int(self.offsets[-1])

    @property
    def n_tensors(self):
        return len(self.shapes)

    def tensor_index(self):
        """(P,) integer array: which tensor each entry of w belongs to."""
        return np.repeat(np.arange(self.n_tensors), np.diff(self.offsets))

    def init(self, *, scale=E_MINUS_3, seed=0, dtype=np.float64):
        """w ~ scale * N(0, 1) for every weight and bias, as a NumPy vector."""
        return (scale * np.random.default_rng(seed).standard_normal(self.size)).astype(dtype)

    def unpack(self, w):
        """Views [W_1, b_1, ..., W_L, b_L] into the flat vector ``w``."""
        xp = get_namespace(w)
        return [
            xp.reshape(w[int(a) : int(b)], s)
            for a, b, s in zip(self.offsets[:-1], self.offsets[1:], self.shapes, strict=True)
        ]

    def pack(self, tensors):
        """Flatten and concatenate tensors in the order of :meth:`unpack`."""
        xp = get_namespace(*tensors)
        return xp.concat([xp.reshape(t, (-1,)) for t in tensors])

    # -- forward and gradient -------------------------------------------------

    def forward(self, w, X):
        """Activations [z_0 = X, z_1, ..., z_{L-1}] and the logits a_L."""
        xp = get_namespace(w, X)
        p = self.unpack(w)
        zs = [X]
        for k in range(len(p) // 2 - 1):
            zs.append(xp.tanh(zs[-1] @ p[2 * k].T + p[2 * k + 1]))
        return zs, zs[-1] @ p[-2].T + p[-1]

    @staticmethod
    def _softmax(xp, logits):
        e = xp.exp(logits - xp.max(logits, axis=1, keepdims=True))
        return e / xp.sum(e, axis=1, keepdims=True)

    def loss(self, w, X, Y):
        """Mean cross-entropy plus weight decay."""
        xp = get_namespace(w, X)
        _, logits = self.forward(w, X)
        shifted = logits - xp.max(logits, axis=1, keepdims=True)
        logp = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
        return float(-xp.sum(logp * Y) / X.shape[0] + 0.5 * self.wd * xp.sum(w * w))

    def accuracy(self, w, X, Y):
        xp = get_namespace(w, X)
        _, logits = self.forward(w, X)
        return float(xp.mean(xp.argmax(logits, axis=1) == xp.argmax(Y, axis=1)))

    def grad(self, w, X, Y, cache=None):
        """dL/dw by backprop. ``cache`` (a dict), when given, receives the
        activations, softmax and layer errors that :meth:`hvp` reuses."""
        zs, logits = self.forward(w, X)
        P = self._softmax(get_namespace(w), logits)
        p = self.unpack(w)
        delta = (P - Y) / X.shape[0]  # dL/da_L
        grads, deltas = [], []
        for k in range(len(p) // 2 - 1, -1, -1):
            deltas.append(delta)
            grads[:0] = [delta.T @ zs[k], get_namespace(w).sum(delta, axis=0)]
            if k > 0:
                delta = (delta @ p[2 * k]) * (1 - zs[k] * zs[k])
        if cache is not None:
            cache.update(zs=zs, P=P, deltas=deltas[::-1], X=X)
        return self.pack(grads) + self.wd * w

    def hvp(self, w, v, cache):
        """H v, H the Hessian of the loss at w, by the R-operator.

        ``cache`` comes from :meth:`grad` at the same w and batch.
        """
        xp = get_namespace(w, v)
        p, q = self.unpack(w), self.unpack(v)
        zs, P, deltas, X = cache["zs"], cache["P"], cache["deltas"], cache["X"]
        L = len(p) // 2
        # R-forward: R(z_0) = 0 (the data do not move), so the first layer has no
        # R(z_0) W_1^T term and no delta_1^T R(z_0) term below.
        Rz = [None]
        for k in range(L - 1):
            Ra = zs[k] @ q[2 * k].T + q[2 * k + 1]
            if Rz[-1] is not None:
                Ra = Ra + Rz[-1] @ p[2 * k].T
            Rz.append((1 - zs[k + 1] * zs[k + 1]) * Ra)
        Ra_L = Rz[-1] @ p[-2].T + zs[-1] @ q[-2].T + q[-1]
        # R(softmax): R(P) = P * (R(a_L) - sum_c P R(a_L))
        RP = P * (Ra_L - xp.sum(P * Ra_L, axis=1, keepdims=True))
        Rdelta = RP / X.shape[0]
        Hv = []
        for k in range(L - 1, -1, -1):
            delta = deltas[k]
            # gW_k = delta_k^T z_{k-1} -> R = R(delta_k)^T z_{k-1} + delta_k^T R(z_{k-1})
            RgW = Rdelta.T @ zs[k]
            if Rz[k] is not None:
                RgW = RgW + delta.T @ Rz[k]
            Hv[:0] = [RgW, xp.sum(Rdelta, axis=0)]
            if k > 0:
                # e = delta_k W_k; delta_{k-1} = e * (1 - z^2)
                e = delta @ p[2 * k]
                Re = Rdelta @ p[2 * k] + delta @ q[2 * k]
                Rdelta = Re * (1 - zs[k] * zs[k]) - e * 2 * zs[k] * Rz[k]
        return self.pack(Hv) + self.wd * v


def _sigmoid(xp, a):
    return 0.5 + 0.5 * xp.tanh(0.5 * a)


class SGDMomentumStep:
    """One SGD-with-momentum step of an :class:`MLP` as dynamics on s = (w, m).

        g  = grad L(w; X_t, Y_t)
        m' = beta * m - (1 - beta) * g
        w' = w + alpha * m'

    with alpha = exp(theta), beta = sigmoid(phi) per weight/bias tensor
    (params ``{"theta": (2L,), "phi": (2L,)}``), broadcast to the entries of
    each tensor. The state is the flat concatenation [w, m] (2P,); the step's
    input x_t is the minibatch (X_t, Y_t). Products (H the Hessian at w,
    symmetric; u = (u_w, u_m), v = (v_w, v_m)):

        J v:   dm' = beta v_m - (1 - beta) H v_w,   dw' = v_w + alpha dm'
        J^T u: r = u_m + alpha u_w,
               (u_w - H((1 - beta) r),  beta r)
        dtheta_k = sum_{i in k} u_w,i m'_i alpha_i
        dphi_k   = sum_{i in k} r_i (m_i + g_i) beta_i (1 - beta_i)
    """

    def __init__(self, mlp):
        self.mlp = mlp
        self.P = mlp.size
        self._index = {}

    def index(self, xp):
        """Tensor index of each entry of w, on the namespace ``xp`` (cached)."""
        if xp.__name__ not in self._index:
            self._index[xp.__name__] = xp.asarray(self.mlp.tensor_index())
        return self._index[xp.__name__]

    def init_params(self, theta=-1.0, phi=0.0, dtype=np.float64):
        """theta = -1 (learning rate e^-1), phi = 0 (momentum 1/2) per tensor."""
        n = self.mlp.n_tensors
        return {"theta": np.full(n, theta, dtype=dtype), "phi": np.full(n, phi, dtype=dtype)}

    def initial_state(self, w0):
        """s_0 = (w_0, 0)."""
        return get_namespace(w0).concat([w0, 0 * w0])

    def validate(self, s, params):
        """Raise ValueError naming the array whose shape does not fit."""
        n = self.mlp.n_tensors
        for k in ("theta", "phi"):
            if k not in params or tuple(params[k].shape) != (n,):
                raise ValueError(f"params[{k!r}] must have shape ({n},)")
        if tuple(s.shape) != (2 * self.P,):
            raise ValueError(
                f"state must have shape ({2 * self.P},) = [w, m], got {tuple(s.shape)}"
            )

    def _rates(self, s, params):
        xp = get_namespace(s)
        ix = self.index(xp)
        alpha = xp.take(xp.exp(params["theta"]), ix)
        beta = xp.take(_sigmoid(xp, params["phi"]), ix)
        return xp, alpha, beta

    def step(self, s, params, x=None):
        """One SGD-momentum step on the minibatch x = (X, Y)."""
        xp, alpha, beta = self._rates(s, params)
        w, m = s[: self.P], s[self.P :]
        g = self.mlp.grad(w, *x)
        m_new = beta * m - (1 - beta) * g
        return xp.concat([w + alpha * m_new, m_new])

    def linearize(self, s, params, x=None):
        """Linearisation at s on the minibatch x, caching g and the activations."""
        xp, alpha, beta = self._rates(s, params)
        w, m = s[: self.P], s[self.P :]
        cache = {}
        g = self.mlp.grad(w, *x, cache=cache)
        return _SGDLinearization(self, xp, w, m, g, alpha, beta, params, cache)


class _SGDLinearization:
    def __init__(self, model, xp, w, m, g, alpha, beta, params, cache):
        self.model, self.xp, self.w, self.m, self.g = model, xp, w, m, g
        self.alpha, self.beta, self.params, self.cache = alpha, beta, params, cache
        self.m_new = beta * m - (1 - beta) * g

    def _H(self, v):
        return self.model.mlp.hvp(self.w, v, self.cache)

    def jvp(self, v):
        P = self.model.P
        v_w, v_m = v[:P], v[P:]
        dm = self.beta * v_m - (1 - self.beta) * self._H(v_w)
        return self.xp.concat([v_w + self.alpha * dm, dm])

    def vjp(self, u):
        P = self.model.P
        u_w, u_m = u[:P], u[P:]
        r = u_m + self.alpha * u_w
        return self.xp.concat([u_w - self._H((1 - self.beta) * r), self.beta * r])

    def vjp_params(self, u):
        xp, P = self.xp, self.model.P
        u_w, u_m = u[:P], u[P:]
        r = u_m + self.alpha * u_w
        n = self.model.mlp.n_tensors
        ix = self.model.index(xp)
        per_alpha = _segment_sum(xp, u_w * self.m_new, ix, n)  # dL/dalpha_k
        per_beta = _segment_sum(xp, r * (self.m + self.g), ix, n)  # dL/dbeta_k
        alpha_k = xp.exp(self.params["theta"])
        beta_k = _sigmoid(xp, self.params["phi"])
        return {"theta": per_alpha * alpha_k, "phi": per_beta * beta_k * (1 - beta_k)}


def _segment_sum(xp, values, index, n):
    """out[k] = sum of values[i] with index[i] == k (index sorted, contiguous segments)."""
    if xp is np:
        return np.bincount(index, weights=values, minlength=n).astype(values.dtype)
    if xp.__name__ == "cupy":
        return xp.bincount(index, weights=values, minlength=n).astype(values.dtype)
    return xp.stack([xp.sum(values[index == k]) for k in range(n)])
