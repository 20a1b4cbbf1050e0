"""Plain-array reference implementations of every kernel (the tests' ground truth)."""

from __future__ import annotations

from ..backend import get_namespace


def symmetrize_zero_diagonal(P):
    """W = P + P^T with W_ii = 0, for a square matrix P."""
    xp = get_namespace(P)
    W = P + P.T
    return W * (1 - xp.eye(W.shape[0], dtype=W.dtype))


def adam_update(p, g, m, v, lr, b1, b2, c1, c2, eps):
    """One Adam step: updates m and v in place, returns the new parameter array.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p' = p - lr (m / c1) / (sqrt(v / c2) + eps),  c1 = 1 - b1^t,  c2 = 1 - b2^t.
    """
    xp = get_namespace(p, g)
    m[...] = b1 * m + (1 - b1) * g
    v[...] = b2 * v + (1 - b2) * g * g
    return p - lr * (m / c1) / (xp.sqrt(v / c2) + eps)


def diff_norm(a, b):
    """||a - b||, the Euclidean norm over all entries, as a 0-d array of the
    arrays' namespace (left on the device: no host transfer)."""
    xp = get_namespace(a, b)
    d = a - b
    return xp.sqrt(xp.sum(d * d))


def vdot(a, b):
    """<a, b> = sum(a * b) over all entries, as a 0-d array of the arrays'
    namespace (left on the device: no host transfer)."""
    xp = get_namespace(a, b)
    return xp.sum(a * b)


def guarded_ratio(a, b):
    """a / b where b > 0, else 0 (NaN in b gives 0 too)."""
    xp = get_namespace(a, b)
    positive = b > 0
    return xp.where(positive, a / xp.where(positive, b, xp.ones_like(b)), xp.zeros_like(b))


def matmul_for_spmm(Y, W):
    """Y @ W (the layout is the backend's concern; see kernels.matmul_for_spmm)."""
    return Y @ W


def spmm(A, X):
    """A @ X for a sparse CSR matrix A (scipy or cupyx) and a dense matrix X."""
    return A @ X


def _sigmoid(xp, a):
    return 0.5 + 0.5 * xp.tanh(0.5 * a)


def gru_forward(gi, gh, b_ih, b_hh, h, keep=True):
    """GRU gates in PyTorch's GRUCell convention, for rows of nodes.

    gi = m W_ih^T and gh = h W_hh^T, both (n, 3D) ordered [r | z | n], biases
    b_ih, b_hh (3D,) added here:
        r = sigma(gi_r + b_ih_r + gh_r + b_hh_r),  z likewise,
        gh_n' = gh_n + b_hh_n,  c = tanh(gi_n + b_ih_n + r * gh_n'),
        h' = (1 - z) * c + z * h.
    Returns h', r, z, c, gh_n' (each (n, D)), or h' alone when not ``keep``.
    """
    xp = get_namespace(gi, gh, h)
    D = h.shape[1]
    gi, gh = gi + b_ih, gh + b_hh
    r = _sigmoid(xp, gi[:, :D] + gh[:, :D])
    z = _sigmoid(xp, gi[:, D : 2 * D] + gh[:, D : 2 * D])
    ghn = gh[:, 2 * D :]
    c = xp.tanh(gi[:, 2 * D :] + r * ghn)
    out = (1 - z) * c + z * h
    return (out, r, z, c, ghn) if keep else out


def damped_tanh(a, b, z, h):
    """h + z (tanh(a + b) - h), elementwise (all of one shape): the update of
    the contractive GNN, h' = (1 - z) h + z tanh(Ahat h U + X W_x + b)."""
    xp = get_namespace(a, b, z, h)
    return h + z * (xp.tanh(a + b) - h)


def gru_jvp(dgi, dgh, v, h, r, z, c, ghn):
    """Tangent of h' for tangents dgi, dgh of the gate inputs and v of h.

    dr = r(1-r)(dgi_r + dgh_r),  dz = z(1-z)(dgi_z + dgh_z),
    dc = (1 - c^2)(dgi_n + dr * gh_n + r * dgh_n),
    dh' = (1 - z) dc + (h - c) dz + z v.
    """
    D = h.shape[1]
    dr = r * (1 - r) * (dgi[:, :D] + dgh[:, :D])
    dz = z * (1 - z) * (dgi[:, D : 2 * D] + dgh[:, D : 2 * D])
    dc = (1 - c * c) * (dgi[:, 2 * D :] + dr * ghn + r * dgh[:, 2 * D :])
    return (1 - z) * dc + (h - c) * dz + z * v


def gru_vjp(u, h, r, z, c, ghn):
    """Cotangents of the gate inputs for a cotangent u of h'.

    a_c = u (1 - z)(1 - c^2),  a_r = a_c gh_n r(1-r),  a_z = u (h - c) z(1-z);
    a_gi = [a_r | a_z | a_c],  a_gh = [a_r | a_z | a_c r].
    Returns a_gi, a_gh (each (n, 3D)); the direct term u z is the caller's.
    """
    xp = get_namespace(u)
    a_c = u * (1 - z) * (1 - c * c)
    a_r = a_c * ghn * r * (1 - r)
    a_z = u * (h - c) * z * (1 - z)
    return xp.concat([a_r, a_z, a_c], axis=1), xp.concat([a_r, a_z, a_c * r], axis=1)
