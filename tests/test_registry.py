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
