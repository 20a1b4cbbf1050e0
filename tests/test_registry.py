"""The registry is the one place that knows each method: the front door, the
benchmarks and the programs take its defaults and rules."""

import dataclasses

import numpy as np
import pytest
from helpers import affine_problem

import rbptk
from rbptk import registry
from rbptk.info import Status


def test_the_lists_come_from_the_registry():
    assert rbptk.METHODS == tuple(registry.REGISTRY)
    assert rbptk.PAPER_METHODS == ("bptt", "tbptt", "rbp", "cg", "neumann")
    assert set(rbptk.KRYLOV) == {"gmres", "bicgstab", "minres"}


def _recording(monkeypatch):
    calls = {}
    for name, spec in registry.REGISTRY.items():

        def solve(*args, _spec=spec, **kw):
            calls[_spec.name] = kw
            return _spec.solve(*args, **kw)

        monkeypatch.setitem(registry.REGISTRY, name, dataclasses.replace(spec, solve=solve))
    return calls


@pytest.mark.parametrize("method", registry.METHODS)
def test_front_door_and_benchmarks_use_the_registry_defaults(monkeypatch, method):
    from benchmarks.methods_bench import adjoint

    calls = _recording(monkeypatch)
    model, params, h_star, g, _, _ = affine_problem(rho=0.5)  # symmetric J, for minres
    _, info = rbptk.gradient(model, h_star, params, g, method=method, steps=3, truncate=2,
                             strict=False)  # fmt: skip
    assert calls[method]["tol"] == registry.spec(method).default_tol
    traj = rbptk.forward(model, h_star, params, 3)
    calls.clear()
    adjoint(method, model, traj, params, g, None, 2)
    assert calls[method]["tol"] == registry.spec(method).default_tol
    # the failure rule is the registry's
    assert registry.spec(method).failed(info.status) == (
        info.status.failed or (method in rbptk.KRYLOV and info.status is not Status.CONVERGED)
    )


@pytest.mark.parametrize("method", rbptk.PAPER_METHODS)
def test_the_benchmarks_gradient_is_the_front_door_at_the_cases_budget(method):
    from benchmarks.cases import Case
    from benchmarks.methods_bench import gradient_call

    model, params, h_star, g, _, _ = affine_problem(rho=0.5)
    loss_grad = lambda h: (float(g @ h), g)  # noqa: E731
    case = Case("affine", model, h_star, params, loss_grad, None, 6, 3, passes={})
    K = {"bptt": {}, "tbptt": {"truncate": 3}}.get(method, {"maxiter": 3})
    expected, _ = rbptk.gradient(model, h_star, params, loss_grad, method=method, steps=6,
                                 strict=False, seed=0, **K)  # fmt: skip
    grads, _ = gradient_call(case, method)()
    for k in params:  # a budget other than K = 3 gives other gradients (rho = 0.5)
        np.testing.assert_array_equal(grads[k], expected[k])


def test_states_kept_follow_the_registry():
    from benchmarks.methods_bench import keep_for

    for name in registry.METHODS:
        expected = {"bptt": None, "tbptt": 6}.get(name, 2)
        assert registry.spec(name).keep(5, 50) == keep_for(name, 5, 50) == expected


def test_programs_pick_methods_by_the_registry():
    from problems.common import selected_methods

    assert selected_methods("all") == list(rbptk.PAPER_METHODS)
    assert selected_methods("all", "anderson") == [
        m for m in rbptk.PAPER_METHODS if not registry.spec(m).trajectory
    ]


def test_unknown_methods_are_named():
    with pytest.raises(ValueError, match="unknown method 'adjoint'; choose one of bptt"):
        registry.spec("adjoint")
    with pytest.raises(ValueError, match=r"unknown method \['x'\]"):
        registry.spec(["x"])


def test_adding_a_method_is_one_entry(monkeypatch):
    """A new entry is usable through the front door at once."""
    base = registry.spec("neumann")
    monkeypatch.setitem(registry.REGISTRY, "neumann2", dataclasses.replace(base, name="neumann2"))
    model, params, h_star, g, _, _ = affine_problem(rho=0.5)
    a, _ = rbptk.gradient(model, h_star, params, g, method="neumann2", steps=3, truncate=30)
    b, _ = rbptk.gradient(model, h_star, params, g, method="neumann", steps=3, truncate=30)
    np.testing.assert_array_equal(a["w"], b["w"])


def lgmres_solver(matvec, b, *, x0=None, maxiter, rtol):
    """A user's solver: SciPy's LGMRES on the flattened system."""
    import scipy.sparse.linalg as sla

    n = b.size
    A = sla.LinearOperator((n, n), matvec=lambda v: matvec(v.reshape(b.shape)).ravel())
    z, code = sla.lgmres(A, b.ravel(), x0=None if x0 is None else x0.ravel(),
                         maxiter=maxiter, rtol=rtol, atol=0.0)  # fmt: skip
    return z.reshape(b.shape), {"code": code}


def test_a_users_solver_as_method_reaches_the_closed_form():
    model, params, h_star, g, exact, _ = affine_problem(rho=0.9)
    grads, info = rbptk.gradient(model, h_star, params, g, method=lgmres_solver, steps=3,
                                 truncate=100, tol=1e-12)  # fmt: skip
    assert np.linalg.norm(grads["w"] - exact) <= 1e-10 * np.linalg.norm(exact)
    assert (
        info.success and info.method == "lgmres_solver" and info.extra["solver_info"]["code"] == 0
    )


def test_a_users_solver_that_falls_short_fails_by_default():
    model, params, h_star, g, _, _ = affine_problem(rho=0.9)

    def one_step(matvec, b, *, x0=None, maxiter, rtol):
        return b  # z = g: one Neumann term, far from the solution

    with pytest.raises(rbptk.ConvergenceError, match="one_step ended with status max_iter"):
        rbptk.gradient(model, h_star, params, g, method=one_step, steps=3)
    with pytest.raises(ValueError, match="must return z shaped like g"):
        rbptk.gradient(model, h_star, params, g, method=lambda m, b, **kw: b[:3], steps=3)


@pytest.mark.parametrize("method", ["rbp", "cg", "neumann", "gmres", "bicgstab", "minres"])
def test_a_warm_start_at_the_solution_ends_in_at_most_one_iteration(method):
    model, params, h_star, g, exact, z_star = affine_problem(rho=0.5)  # symmetric J
    kw = {"eta": 0.0} if method == "cg" else {}
    grads, info = rbptk.gradient(model, h_star, params, g, method=method, steps=3, truncate=50,
                                 tol=1e-10, x0=z_star, **kw)  # fmt: skip
    assert info.status is rbptk.Status.CONVERGED and info.iterations <= 1, info.iterations
    assert np.linalg.norm(grads["w"] - exact) <= 1e-10 * np.linalg.norm(exact)
    cold, info_cold = rbptk.gradient(model, h_star, params, g, method=method, steps=3,
                                     truncate=50, tol=1e-10, **kw)  # fmt: skip
    assert info_cold.iterations > 1


def test_warm_start_is_checked():
    model, params, h_star, g, _, _ = affine_problem(rho=0.5)
    with pytest.raises(ValueError, match="tbptt back-propagates and has none"):
        rbptk.gradient(model, h_star, params, g, method="tbptt", steps=3, truncate=2, x0=g)
    with pytest.raises(ValueError, match=r"x0 has shape \(3,\)"):
        rbptk.gradient(model, h_star, params, g, steps=3, x0=g[:3])


def test_old_names_still_work_and_warn():
    model, params, h_star, g, _, _ = affine_problem(rho=0.5)
    with pytest.warns(DeprecationWarning, match="truncate= for the iteration of neumann"):
        old, info_old = rbptk.gradient(model, h_star, params, g, steps=3, truncate=7)
    new, info_new = rbptk.gradient(model, h_star, params, g, steps=3, maxiter=7)
    np.testing.assert_array_equal(old["w"], new["w"])
    assert info_old.iterations == info_new.iterations == 7
    with pytest.warns(DeprecationWarning, match="tol= for the iteration of cg is deprecated"):
        rbptk.gradient(model, h_star, params, g, method="cg", steps=3, tol=1e-9)


def test_budgets_default_from_the_registry():
    model, params, h_star, g, _, _ = affine_problem(rho=0.5)
    for method in ("rbp", "neumann", "tbptt"):
        _, info = rbptk.gradient(model, h_star, params, g, method=method, steps=30, seed=0)
        assert info.iterations == registry.spec(method).default_maxiter == 20
    # truncate is TBPTT's K and nothing else's when maxiter is given
    _, info = rbptk.gradient(model, h_star, params, g, method="tbptt", steps=30, truncate=4)
    assert info.iterations == 4


def test_has_aux_says_what_loss_grad_returns():
    model, params, h_star, g, _, _ = affine_problem(rho=0.5)
    _, info = rbptk.gradient(model, h_star, params, lambda h: (1.5, g), steps=3, has_aux=True)
    assert info.loss == 1.5
    with pytest.raises(TypeError, match=r"has_aux=True says loss_grad returns \(loss, dL/dh_T\)"):
        rbptk.gradient(model, h_star, params, lambda h: g, steps=3, has_aux=True)
    with pytest.raises(TypeError, match="has_aux=False says loss_grad returns dL/dh_T alone"):
        rbptk.gradient(model, h_star, params, lambda h: (1.5, g), steps=3, has_aux=False)


def test_the_methods_table_times_every_method_in_one_interleaved_measurement(monkeypatch):
    from benchmarks import methods_bench
    from benchmarks.cases import Case, Pass

    model, params, h_star, g, _, _ = affine_problem(rho=0.5)
    loss_grad = lambda h: (float(g @ h), g)  # noqa: E731
    passes = {"step": [Pass("step", bytes=8)], "adjoint": None, "param": []}
    case = Case("affine", model, h_star, params, loss_grad, None, 6, 3, passes=passes)
    measured = []

    def interleaved(fns, repeats=5, warmup=1, gpu=False):  # timing k: median k
        measured.append(len(fns))
        return [{"median": float(k + 1), "min": 0.0, "max": 0.0} for k in range(len(fns))]

    monkeypatch.setattr(methods_bench, "measure_interleaved", interleaved)
    methods = ("tbptt", "neumann", "bptt")
    rows = methods_bench.bench_methods(case, methods, repeats=1)
    assert measured == [9]  # one measurement: 3 phases x 3 methods, in turn
    for i, (row, method) in enumerate(zip(rows, methods, strict=True)):
        assert row["method"] == method
        got = [row[phase]["median"] for phase in ("forward", "backward", "total")]
        assert got == [3 * i + 1, 3 * i + 2, 3 * i + 3]
        assert row["roofline_ratio"] == row["total"]["median"] / row["roofline"]
    sweep_rows = methods_bench.bench_methods(case, methods[:2], repeats=1, forward_phase=False)
    assert measured[-1] == 4 and [r["forward"] for r in sweep_rows] == [None, None]
