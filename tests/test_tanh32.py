"""rbptk/kernels/tanh32.py: accuracy in units in the last place against float64
tanh, the special values, and packed SIMD code in the compiled loop."""

import pathlib
import re

import numba
import numpy as np
import pytest

from rbptk.kernels.tanh32 import _tanh_loop, tanh32


def ulps(a, b):
    """Distance in float32 units in the last place (same-sign values)."""
    return np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))


def test_accuracy_within_the_a_priori_bound():
    """Every 37th float32 in [0, 10] (28 million values), against float64 tanh
    rounded to float32. Bound: the fit's relative error (3e-8, under one ulp)
    plus the float32 evaluation error of y p(s) / q(s) by Horner's rule, about
    2 + 6 + 10 + 2 roundings and the 2-rounding error of s amplified by at most
    deg P + deg Q = 8: at most 34 u relative, i.e. 34 ulps (u = 2^-24 is half an
    ulp at worst, one ulp at best). Measured: 6."""
    x = np.arange(0, 0x41200000, 37, dtype=np.uint32).view(np.float32)
    exact = np.tanh(x.astype(np.float64)).astype(np.float32)
    assert ulps(tanh32(x), exact).max() <= 35


def test_odd_clamped_and_exact_near_zero():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(100_000) * 5).astype(np.float32)
    np.testing.assert_array_equal(tanh32(-x), -tanh32(x))
    assert np.all(np.abs(tanh32(x)) <= 1)
    tiny = np.float32(2.0**-12) * rng.random(1000, dtype=np.float32)
    np.testing.assert_array_equal(tanh32(tiny), tiny)  # p(s) = q(s) = 1 in float32


def test_special_values():
    x = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, 1e-45, 9.1, -30.0, 3e38], np.float32)
    got = tanh32(x)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:3], [-1, 1])
    assert np.signbit(got[3]) and not np.signbit(got[4])
    np.testing.assert_array_equal(got[5:], np.array([1e-45, 1, -1, 1], np.float32))


def test_shapes_in_place_and_dtype():
    x = np.linspace(-3, 3, 24, dtype=np.float32).reshape(2, 3, 4)
    expected = tanh32(x.copy())
    tanh32(x, out=x)
    np.testing.assert_array_equal(x, expected)
    with pytest.raises(TypeError, match="float32"):
        tanh32(np.zeros(3))


def simd_flags():
    try:
        info = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    return set(re.search(r"^flags\s*:(.*)$", info, re.M).group(1).split())


@pytest.mark.skipif("avx2" not in simd_flags(), reason="the CPU has no AVX2 (or no /proc/cpuinfo)")
def test_the_loop_is_vectorised():
    """Packed single-precision arithmetic on ymm or zmm registers, including the
    division: the loop runs in SIMD, not one element at a time."""
    loop = numba.njit(error_model="numpy")(_tanh_loop.py_func)  # uncached: inspectable
    loop(np.zeros(8, np.float32), np.zeros(8, np.float32))
    asm = loop.inspect_asm(loop.signatures[0])
    assert re.search(r"vdivps\s+[^\n]*%[yz]mm", asm)
    assert len(re.findall(r"v(?:mul|add|fmadd\w*)ps\s+[^\n]*%[yz]mm", asm)) >= 8


@pytest.mark.skipif("avx2" not in simd_flags(), reason="the CPU has no AVX2 (or no /proc/cpuinfo)")
@pytest.mark.parametrize("name", ["_gates_step", "_gates_linearisation"])
def test_the_float32_gru_gate_passes_are_vectorised(name):
    """The GRU gate passes of the CPU kernels evaluate their tanh in SIMD: packed
    divisions (the rational approximation) and no scalar libm tanhf call."""
    from rbptk.kernels import cpu

    kernel = numba.njit(error_model="numpy")(getattr(cpu, name))  # uncached, serial build
    n, D = 8, 16
    x3, x, b = (
        np.zeros((n, 3 * D), np.float32),
        np.zeros((n, D), np.float32),
        np.zeros(3 * D, np.float32),
    )
    outs = [np.zeros_like(x) for _ in range(5 if name == "_gates_linearisation" else 1)]
    kernel(x3, x3, b, b, x, *outs)
    asm = kernel.inspect_asm(kernel.signatures[0])
    assert re.search(r"vdivps\s+[^\n]*%[yz]mm", asm) and "tanhf" not in asm
