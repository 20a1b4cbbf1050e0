"""The frame every implicit method shares: linearise the last step, solve the
adjoint system (I - J^T) z = g on an operator, apply the parameter product."""

from __future__ import annotations

import time

from ._common import linearize_last


class AdjointOperator:
    """A = I - J^T, J = dF/dh at the last step, on state-shaped arrays.

    ``A(z)`` and ``A.matvec(z)`` give z - J^T z (one vjp); ``A.rmatvec(v)``
    gives v - J v (one jvp); ``A.JT(z)`` and ``A.J(v)`` the products
    themselves. ``n_vjp`` and ``n_jvp`` count them. ``shape`` and ``dtype`` are
    the state's.
    """

    def __init__(self, linearization, like):
        self.lin = linearization
        self.shape, self.dtype = tuple(like.shape), like.dtype
        self.n_vjp = self.n_jvp = 0

    def JT(self, z):
        self.n_vjp += 1
        return self.lin.vjp(z)

    def J(self, v):
        self.n_jvp += 1
        return self.lin.jvp(v)

    def matvec(self, z):
        return z - self.JT(z)

    def rmatvec(self, v):
        return v - self.J(v)

    __call__ = matvec


def implicit_gradient(solve, dynamics, traj, params, g, *, inputs=None, **options):
    """(dF/dparams)^T z with (I - J^T) z = g solved by ``solve(A, g, **options)
    -> (z, info)`` on the :class:`AdjointOperator` A of the last step.

    ``info`` (an :class:`rbptk.info.AdjointInfo` from the solver) gets the
    product counts and the wall time of the whole (linearise, solve, parameter
    product).
    """
    start = time.perf_counter()
    A = AdjointOperator(linearize_last(dynamics, traj, params, inputs), g)
    z, info = solve(A, g, **options)
    info.n_vjp, info.n_jvp = A.n_vjp, A.n_jvp
    grads = A.lin.vjp_params(z)
    info.wall_time = time.perf_counter() - start
    return grads, info
