"""The divergence rule of the RBP iteration and the Neumann series: an
iteration whose residuals stop contracting is reported, and the front door raises."""

import numpy as np
import pytest

import rbptk
from rbptk.info import Status
from rbptk.methods._common import ResidualMonitor, tail_factor
from rbptk.models import TanhRNN


def _expanding_rnn():
    """A tanh RNN whose forward pass wanders (rho(W) = 2) and whose J at the
    last step has rho just above 1: over K = 20 iterations the RBP residuals
    fall at first (5.2 -> 1.2), then stop contracting."""
    params = TanhRNN.init_params(64, 8, seed=1)
    params["W"] *= 2.0 / max(abs(np.linalg.eigvals(params["W"])))
    rng = np.random.default_rng(1)
    h0 = 0.1 * rng.standard_normal(64)
    x = rng.standard_normal(8)
    return TanhRNN(), h0, params, (lambda t: x)


@pytest.mark.parametrize("method", ["rbp", "neumann"])
def test_a_non_contracting_iteration_is_diverged_and_raises(method):
    model, h0, params, inputs = _expanding_rnn()
    with pytest.warns(rbptk.ContractionWarning):
        _, info = rbptk.gradient(
            model, h0, params, np.ones(64), method=method, inputs=inputs, strict=False,
            diagnose=True, seed=0,
        )  # fmt: skip
    assert info.extra["rho"] > 1 and info.status is Status.DIVERGED
    with pytest.raises(rbptk.ConvergenceError, match=f"{method} ended with status diverged"):
        rbptk.gradient(model, h0, params, np.ones(64), method=method, inputs=inputs, seed=0)


def test_the_rule_reads_the_tail():
    def final(residuals, scale=1.0):
        monitor = ResidualMonitor()
        assert monitor.feed([(r, 1.0) for r in residuals]) is None
        return monitor.final(scale)

    shrinking = [0.9**k for k in range(20)]
    assert final(shrinking) is Status.MAX_ITER
    # falls, then grows again over the last quarter: not a contraction
    assert final(shrinking[:15] + [0.3, 0.35, 0.4, 0.45, 0.5]) is Status.DIVERGED
    # an oscillating but contracting sequence (complex pair) is not flagged
    assert final([0.95**k * (1.5 + np.cos(2.1 * k)) for k in range(40)]) is Status.MAX_ITER
    # stalled at the rounding floor of the scale: converged as far as it can
    assert final([1.0, 0.1, 0.01] + [1e-15] * 8, scale=100.0) is Status.MAX_ITER
    assert final([1.0, 0.1, 0.01] + [1e-6] * 8, scale=100.0) is Status.DIVERGED
    assert tail_factor([2.0, 1.0, 0.5, 0.25]) == pytest.approx(0.5)


def test_monitor_work_per_iteration_is_constant():
    monitor = ResidualMonitor(blowup=10.0)
    assert monitor.feed([(1.0, 1.0), (0.5, 1.0), (4.0, 1.0)]) is None
    assert monitor.smallest == 0.5
    assert monitor.feed([(6.0, 1.0)]) is Status.DIVERGED  # 6 > 10 * 0.5
