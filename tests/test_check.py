"""rbptk.check catches wrong derivatives where the README uses it: at h0 = 0."""

import numpy as np
import pytest

import rbptk
from rbptk.models import TanhRNN


class DoubledW(TanhRNN):
    """A TanhRNN whose dL/dW is deliberately twice the truth."""

    def linearize(self, h, params, x=None):
        lin = super().linearize(h, params, x)
        vjp_params = lin.vjp_params

        def doubled(u):
            grads = vjp_params(u)
            return {**grads, "W": 2 * grads["W"]}

        lin.vjp_params = doubled
        return lin


def readme_example():
    params = TanhRNN.init_params(64, 8, scale=0.9)
    return params, np.zeros(64), np.ones(8)


def test_the_readme_check_catches_a_doubled_dL_dW():
    params, h0, x = readme_example()
    rbptk.check.check_dynamics(TanhRNN(), h0, params, x)  # the true model passes
    with pytest.raises(AssertionError, match=r"vjp_params\[W\]"):
        rbptk.check.check_dynamics(DoubledW(), h0, params, x)


def test_a_check_at_a_degenerate_state_is_refused():
    params, h0, x = readme_example()
    with pytest.raises(ValueError, match=r"vjp_params\[W\] vanish at this state"):
        rbptk.check.check_dynamics(DoubledW(), h0, params, x, state="given")


def test_a_check_at_a_given_state_still_catches_the_bug():
    params, _, x = readme_example()
    h = np.random.default_rng(5).standard_normal(64)
    with pytest.raises(AssertionError, match=r"vjp_params\[W\]"):
        rbptk.check.check_dynamics(DoubledW(), h, params, x, state="given")


def test_unknown_state_is_named():
    params, h0, x = readme_example()
    with pytest.raises(ValueError, match="state must be one of"):
        rbptk.check.check_dynamics(TanhRNN(), h0, params, x, state="zero")
