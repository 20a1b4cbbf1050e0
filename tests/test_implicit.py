"""rbptk/methods/_implicit.py and the solvers on it: each implicit method is a
solver of (I - J^T) z = g on an operator, inside one shared frame."""

import pathlib

import numpy as np
import pytest
from helpers import affine_problem, normal_matrix

import rbptk
from rbptk import methods
from rbptk.methods import AdjointOperator


class MatrixLinearization:
    """J given as a matrix: the smallest thing an AdjointOperator wraps."""

    def __init__(self, J):
        self.J = J

    def vjp(self, u):
        return self.J.T @ u

    def jvp(self, v):
        return self.J @ v


def operator(n=10, rho=0.6, seed=0):
    J = normal_matrix(n, rho, seed)
    g = np.random.default_rng(seed + 7).standard_normal(n)
    return AdjointOperator(MatrixLinearization(J), g), J, g


def test_operator_products_are_adjoint_and_counted():
    A, J, _ = operator()
    rng = np.random.default_rng(3)
    z, v = rng.standard_normal(10), rng.standard_normal(10)
    np.testing.assert_allclose(A(z), z - J.T @ z, rtol=1e-14)
    # dot test: <A z, v> = <z, A^T v>, A^T v = v - J v (rounding of two 10-term sums)
    lhs, rhs = A.matvec(z) @ v, z @ A.rmatvec(v)
    assert abs(lhs - rhs) <= 1e-13 * np.linalg.norm(z) * np.linalg.norm(v) * 4
    assert (A.n_vjp, A.n_jvp) == (2, 1)


@pytest.mark.parametrize(
    ("solve", "kw"),
    [
        (methods.rbp_solve, {"seed": 0}),
        (methods.neumann_solve, {}),
        (methods.cg_solve, {"eta": 0.0, "rtol": 1e-13}),
        (methods.krylov_solve, {"solver": "gmres", "rtol": 1e-13}),
        (methods.krylov_solve, {"solver": "bicgstab", "rtol": 1e-13}),
    ],
)
def test_each_solver_solves_the_adjoint_system_on_an_operator(solve, kw):
    A, J, g = operator(rho=0.6)
    z_star = np.linalg.solve(np.eye(10) - J.T, g)
    z, info = solve(A, g, maxiter=kw.pop("maxiter", 80), **kw)
    # rho = 0.6: 80 fixed-point iterations leave 0.6^80 ~ 1e-18 of the start
    assert np.linalg.norm(z - z_star) <= 1e-10 * np.linalg.norm(z_star), info.status
    assert info.iterations >= 1 and info.residuals


@pytest.mark.parametrize("method", ["rbp", "neumann", "cg", "bicgstab", "minres"])
def test_the_callback_sees_every_iterate(method):
    model, params, h_star, g, exact, z_star = affine_problem(rho=0.5)  # symmetric J
    seen = []
    grads, info = rbptk.gradient(model, h_star, params, g, method=method, steps=3, maxiter=12,
                                 rtol=1e-30, callback=lambda z: seen.append(z.copy()),
                                 strict=False)  # fmt: skip
    assert len(seen) == info.iterations >= 1
    assert all(z.shape == g.shape for z in seen)
    # the gradient is the parameter product of the last iterate
    np.testing.assert_allclose(grads["w"], params["B"].T @ seen[-1], rtol=1e-12)


def test_the_gmres_callback_runs_once_per_restart_cycle():
    model, params, h_star, g, exact, _ = affine_problem(n=40, rho=0.95)
    seen = []
    rbptk.gradient(model, h_star, params, g, method="gmres", steps=3, maxiter=40, rtol=1e-30,
                   callback=seen.append, strict=False)  # fmt: skip
    assert len(seen) == 40 // 30  # restart min(K, 30): one whole cycle of 30 in a budget of 40


def test_a_callback_where_there_is_no_iteration_is_refused():
    model, params, h_star, g, _, _ = affine_problem()
    for method in ("bptt", "tbptt"):
        with pytest.raises(ValueError, match="back-propagates and has none"):
            rbptk.gradient(model, h_star, params, g, method=method, steps=3, callback=print)
    with pytest.raises(ValueError, match="is your own solver"):
        rbptk.gradient(model, h_star, params, g, method=lambda m, b, **kw: b, steps=3,
                       callback=print)  # fmt: skip
    with pytest.raises(TypeError, match="callback must be callable"):
        rbptk.gradient(model, h_star, params, g, method="neumann", steps=3, callback=3)


def test_only_the_frame_linearises_and_applies_the_parameter_product():
    """No implicit method file repeats the linearise / iterate / vjp_params frame."""
    folder = pathlib.Path(methods.__file__).parent
    for name in ("rbp.py", "neumann.py", "cg.py", "krylov.py", "user.py"):
        text = (folder / name).read_text()
        assert "linearize_last(" not in text and "vjp_params(" not in text, name
        assert "implicit_gradient(" in text or name == "user.py", name  # user.py: via the registry
    frame = (folder / "_implicit.py").read_text()
    assert "linearize_last(" in frame and "vjp_params(" in frame
