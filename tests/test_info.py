"""The result users read: info.success, message, nit, loss, h and the timings."""

import numpy as np
from helpers import affine_problem

import rbptk


def test_a_converged_gradient_reads_plainly():
    model, params, h_star, g, _, _ = affine_problem(rho=0.5)
    _, info = rbptk.gradient(
        model, h_star, params, lambda h: (0.5 * float(h @ h), h), method="cg", steps=4,
        truncate=30, tol=1e-10, eta=0.0,
    )  # fmt: skip
    assert info.success and info.nit == info.iterations > 0
    assert info.message.startswith("cg ended with status converged after")
    assert info.loss == 0.5 * float(info.h @ info.h)
    assert info.h.shape == h_star.shape
    assert 0 < info.time_forward <= info.wall_time and 0 < info.time_adjoint <= info.wall_time


def test_a_failure_says_what_to_try():
    lam = np.concatenate([[-1.3, 1.25], np.linspace(-0.9, 0.6, 10)])
    from helpers import normal_matrix

    model, params, h_star, g, _, _ = affine_problem(A=normal_matrix(12, None, 0, lam))
    _, info = rbptk.gradient(model, h_star, params, g, method="neumann", steps=3, strict=False)
    assert not info.success and info.status is rbptk.Status.DIVERGED
    assert "try method='cg' or 'gmres'" in info.message
    # a Krylov method that runs out of budget is not a success (the registry's rule)
    _, info = rbptk.gradient(model, h_star, params, g, method="gmres", steps=3, truncate=1,
                             tol=1e-14, strict=False)  # fmt: skip
    assert info.status is rbptk.Status.MAX_ITER and not info.success


def test_a_failed_forward_pass_is_not_a_success():
    model, params, _, g, _, _ = affine_problem()
    params["A"] = 10.0 * np.eye(12)
    grads, info = rbptk.gradient(model, np.ones(12), params, g, steps=400, strict=False)
    assert grads is None and not info.success and "non-finite state" in info.message
