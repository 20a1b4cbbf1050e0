"""A failed forward pass under strict=False (robustness issue, item 6): the
front door still reports h and loss, and the training loops count and skip it."""

import numpy as np
import pytest
from helpers import affine_problem

import rbptk
from rbptk.info import AdjointInfo, ForwardInfo, Status


def test_a_non_finite_forward_pass_returns_an_info_with_h_and_loss():
    model, params, _, g, _, _ = affine_problem()
    params["A"] = 10.0 * np.eye(12)  # |h| grows 10x a step: inf within 400 steps
    grads, info = rbptk.gradient(model, np.ones(12), params, g, steps=400, strict=False)
    assert grads is None and info.status is Status.NON_FINITE
    assert info.extra["loss"] is None and info.extra["h"].shape == (12,)
    with pytest.raises(rbptk.ConvergenceError, match="non-finite state"):
        rbptk.gradient(model, np.ones(12), params, g, steps=400)


def _failing_first(monkeypatch):
    """problems.common.gradient that fails the first call as a non-finite
    forward pass does (no loss evaluated), then behaves."""
    from problems import common

    original, calls = common.gradient, []

    def gradient(args, method, dynamics, h0, params, loss_grad, **kw):
        calls.append(method)
        if len(calls) == 1:
            info = AdjointInfo(method, Status.NON_FINITE, forward=ForwardInfo(Status.NON_FINITE, 1))
            info.extra.update(h=h0, loss=None)
            return None, info
        return original(args, method, dynamics, h0, params, loss_grad, **kw)

    monkeypatch.setattr(common, "gradient", gradient)


def test_citation_counts_and_skips_a_failed_step(monkeypatch, tmp_path):
    from problems import citation

    _failing_first(monkeypatch)
    argv = ["--method", "neumann", "--epochs", "2", "--seeds", "1", "--steps", "4"]
    citation.main([*argv, "--truncate", "2", "--quiet", "--no-plots", "--out", str(tmp_path)])
    import json

    run = json.loads((tmp_path / "results.json").read_text())["methods"]["neumann"][0]
    loss = run["curves"]["loss"]
    assert run["statuses"]["non_finite"] == 1 and len(loss) == 2
    assert loss[0] is None and loss[1] is not None  # NaN is written as null


def test_hyperopt_counts_and_skips_a_failed_step(monkeypatch, tmp_path):
    from problems import hyperopt

    _failing_first(monkeypatch)
    argv = ["--method", "neumann", "--meta-iters", "2", "--steps", "4", "--truncate", "2"]
    argv += ["--n-train", "400", "--batch", "100", "--quiet", "--no-plots", "--out", str(tmp_path)]
    hyperopt.main(argv)
    import json

    (r,) = json.loads((tmp_path / "results.json").read_text())["methods"]["neumann"]
    assert r["statuses"]["non_finite"] == 1 and r["curves"]["meta_loss"][0] is None  # NaN: null
    assert np.isfinite(r["curves"]["meta_loss"][1])


def test_citation_with_anderson_runs_the_methods_that_can_use_it(tmp_path):
    from problems import citation

    argv = ["--forward", "anderson", "--epochs", "1", "--seeds", "1", "--steps", "6"]
    rows = citation.main(
        [*argv, "--truncate", "3", "--quiet", "--no-plots", "--out", str(tmp_path)]
    )
    assert [r["method"] for r in rows] == [
        "rbp",
        "cg",
        "neumann",
        "no propagation",
        "linear propagation",
        "GCN",
    ]
