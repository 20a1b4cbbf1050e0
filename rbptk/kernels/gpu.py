"""CuPy kernels for CuPy arrays."""

from __future__ import annotations


def symmetrize_zero_diagonal(P):
    """W = P + P^T with a zero diagonal (CuPy's transposed add, then the diagonal)."""
    import cupy

    W = P + P.T
    cupy.fill_diagonal(W, 0)
    return W


_ADAM = None


def adam_update(p, g, m, v, lr, b1, b2, c1, c2, eps):
    """Fused Adam step as one CuPy ElementwiseKernel; m and v are updated in place."""
    import cupy

    global _ADAM
    if _ADAM is None:
        _ADAM = cupy.ElementwiseKernel(
            "T p, T g, float64 lr, float64 b1, float64 b2, float64 c1, float64 c2, float64 eps",
            "T m, T v, T out",
            """
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            out = p - lr * (m / c1) / (sqrt(v / c2) + eps);
            """,
            "rbptk_adam",
        )
    out = cupy.empty_like(p)
    _ADAM(p, g, lr, b1, b2, c1, c2, eps, m, v, out)
    return out
