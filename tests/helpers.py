"""Problem builders shared by the solver tests."""

import numpy as np
import scipy.sparse

from rbptk.models import AffineDynamics


def normal_matrix(n, rho, seed, lam=None):
    """A = Q diag(lambda) Q^T with |lambda| <= rho, max |lambda| = rho: ||A^k|| = rho^k.

    ``lam`` gives the eigenvalues explicitly instead (then rho is unused)."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    if lam is None:
        lam = rng.uniform(-rho, rho, n)
        lam[0] = rho
    return (Q * lam) @ Q.T


def affine_problem(n=12, p=5, rho=0.9, seed=0, A=None):
    """Affine dynamics, params, its fixed point h*, a loss gradient g, and the exact
    implicit gradient dL/dw = B^T (I - A^T)^{-1} g."""
    rng = np.random.default_rng(seed + 1)
    A = normal_matrix(n, rho, seed) if A is None else A
    params = {
        "A": A,
        "B": rng.standard_normal((n, p)),
        "w": rng.standard_normal(p),
        "c": rng.standard_normal(n),
    }
    I = np.eye(n)
    h_star = np.linalg.solve(I - A, params["B"] @ params["w"] + params["c"])
    g = rng.standard_normal(n)
    z_star = np.linalg.solve(I - A.T, g)
    return AffineDynamics(), params, h_star, g, params["B"].T @ z_star, z_star


def random_graph(n=25, density=0.12, seed=1):
    """A random directed graph (A != A^T), so A / A^T mix-ups show."""
    A = scipy.sparse.random(n, n, density=density, random_state=seed, format="csr")
    A.data[:] = 1.0
    return A


def csr_on_gpu(cupy, A):
    """A SciPy CSR matrix as a CuPy one."""
    import cupyx.scipy.sparse

    return cupyx.scipy.sparse.csr_matrix(A)
