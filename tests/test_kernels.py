"""Every kernel against its plain-array reference (CPU always, GPU where a device exists)."""

import numpy as np
import pytest
from conftest import to_xp
from helpers import csr_on_gpu, random_graph

import rbptk
from rbptk import kernels
from rbptk.kernels import reference


@pytest.mark.parametrize("n", [1, 63, 64, 130])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_symmetrize_cpu(n, dtype):
    P = np.random.default_rng(n).standard_normal((n, n)).astype(dtype)
    W = kernels.symmetrize_zero_diagonal(P)
    assert W.dtype == dtype
    np.testing.assert_array_equal(W, reference.symmetrize_zero_diagonal(P))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reductions_cpu(dtype):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((31, 7)).astype(dtype) for _ in range(2))
    # summation bounds (Higham 3.1): n eps, times sum|a b| / |sum a b| for the
    # inner product, whose terms cancel; the sum of squares does not
    n, eps = a.size, float(np.finfo(dtype).eps)
    cancel = float(np.sum(np.abs(a * b), dtype=np.float64) / abs(np.sum(a * b, dtype=np.float64)))
    norm_tol, dot_tol = n * eps, n * eps * cancel
    assert kernels.diff_norm(a, b) == pytest.approx(reference.diff_norm(a, b), rel=norm_tol)
    assert kernels.vdot(a, b) == pytest.approx(reference.vdot(a, b), rel=dot_tol)
    assert kernels.vdot(a.T, b.T) == pytest.approx(reference.vdot(a, b), rel=dot_tol)
    assert kernels.diff_norm(a, a) == 0.0
    for bad in (np.nan, np.inf):  # a blow-up must show in the norms
        c = a.copy()
        c[4, 2] = bad
        assert not np.isfinite(kernels.diff_norm(c, b))
        assert not np.isfinite(kernels.vdot(c, c))


def adam_case(dtype, shape=(37, 11)):
    rng = np.random.default_rng(0)
    p, g, m, v = (rng.standard_normal(shape).astype(dtype) for _ in range(4))
    return p, g, m, np.abs(v)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_cpu(dtype):
    p, g, m, v = adam_case(dtype)
    m2, v2 = m.copy(), v.copy()
    args = (1e-3, 0.9, 0.999, 0.19, 0.002, 1e-8)
    out = kernels.adam_update(p, g, m, v, *args)
    expected = reference.adam_update(p, g, m2, v2, *args)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(out, expected, rtol=tol)
    np.testing.assert_allclose(m, m2, rtol=tol)
    np.testing.assert_allclose(v, v2, rtol=tol)


def test_adam_optimizer_reference_values():
    """Two Adam steps on f(p) = p^2 / 2 from p = 1, by hand: p1 = 1 - lr, p2 = p1 - lr."""
    import rbptk

    opt = rbptk.optim.Adam(lr=0.1)
    p = {"p": np.array([1.0])}
    p = opt.step(p, {"p": p["p"].copy()})
    np.testing.assert_allclose(p["p"], [0.9], rtol=1e-7)
    p = opt.step(p, {"p": p["p"].copy()})
    # m2 = 0.9*0.1*1 + 0.1*0.9 = 0.18 -> /0.19; v2 = 0.999e-3 + 0.81e-3 -> /0.001999
    expected = 0.9 - 0.1 * (0.18 / 0.19) / np.sqrt((0.000999 + 0.00081) / 0.001999)
    np.testing.assert_allclose(p["p"], [expected], rtol=1e-7)


@pytest.mark.gpu
def test_kernels_gpu(cupy):
    P = np.random.default_rng(0).standard_normal((70, 70))
    np.testing.assert_array_equal(
        cupy.asnumpy(kernels.symmetrize_zero_diagonal(cupy.asarray(P))),
        reference.symmetrize_zero_diagonal(P),
    )
    p, g, m, v = adam_case(np.float64)
    gm, gv = cupy.asarray(m), cupy.asarray(v)
    args = (1e-3, 0.9, 0.999, 0.19, 0.002, 1e-8)
    out = kernels.adam_update(cupy.asarray(p), cupy.asarray(g), gm, gv, *args)
    expected = reference.adam_update(p, g, m, v, *args)
    np.testing.assert_allclose(cupy.asnumpy(out), expected, rtol=1e-12)
    np.testing.assert_allclose(cupy.asnumpy(gm), m, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, d", [(300, 7), (2000, 40)])  # serial and parallel kernels
def test_spmm_matches_reference(dtype, n, d):
    from rbptk.kernels.cpu import PARALLEL_SPMM_WORK

    A = random_graph(n, 0.015 if n > 300 else 0.03).astype(dtype)
    assert (A.nnz * d >= PARALLEL_SPMM_WORK) == (n > 300)
    A.data *= np.random.default_rng(0).standard_normal(A.nnz).astype(dtype)
    X = np.random.default_rng(1).standard_normal((n, d)).astype(dtype)
    out = kernels.spmm(A, X)
    assert out.dtype == dtype
    np.testing.assert_allclose(
        out, reference.spmm(A, X), rtol=1e-5 if dtype == np.float32 else 1e-13
    )


@pytest.mark.parametrize(
    "backend", ["numpy", pytest.param("cupy", marks=pytest.mark.gpu)]
)  # numba kernels on NumPy arrays, ElementwiseKernels on CuPy arrays
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [40, 40000])  # one thread, and rows in parallel blocks on the CPU
def test_gru_kernels_match_reference(backend, dtype, n):
    from conftest import NAMESPACES

    from rbptk.kernels.cpu import PARALLEL_GATE_WORK

    xp = NAMESPACES[backend]()
    rng = np.random.default_rng(0)
    D = 6
    assert (n * D >= PARALLEL_GATE_WORK) == (n > 40)
    gi, gh, dgi, dgh = (rng.standard_normal((n, 3 * D)).astype(dtype) for _ in range(4))
    b_ih, b_hh = (rng.standard_normal(3 * D).astype(dtype) for _ in range(2))
    h, v, u = (rng.standard_normal((n, D)).astype(dtype) for _ in range(3))
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}

    def close(ours, ref):
        assert ours.dtype == dtype
        np.testing.assert_allclose(rbptk.to_numpy(ours), ref, **tol)

    ref = reference.gru_forward(gi, gh, b_ih, b_hh, h)
    out = kernels.gru_forward(*(to_xp(xp, a) for a in (gi, gh, b_ih, b_hh, h)))
    for a, b in zip(out, ref, strict=True):
        close(a, b)
    step = kernels.gru_forward(*(to_xp(xp, a) for a in (gi, gh, b_ih, b_hh, h)), keep=False)
    np.testing.assert_array_equal(rbptk.to_numpy(step), rbptk.to_numpy(out[0]))  # h' alone
    _, r, z, c, ghn = ref
    cache = [to_xp(xp, a) for a in (h, r, z, c, ghn)]
    close(
        kernels.gru_jvp(to_xp(xp, dgi), to_xp(xp, dgh), to_xp(xp, v), *cache),
        reference.gru_jvp(dgi, dgh, v, h, r, z, c, ghn),
    )
    for a, b in zip(
        kernels.gru_vjp(to_xp(xp, u), *cache),
        reference.gru_vjp(u, h, r, z, c, ghn),
        strict=True,
    ):
        close(a, b)
    if backend == "cupy":
        A = random_graph(n).astype(dtype)
        close(kernels.spmm(csr_on_gpu(xp, A), xp.asarray(h)), A @ h)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [40, 40000])  # one thread, and blocks in parallel
def test_damped_tanh_matches_reference(dtype, n):
    from rbptk.kernels.cpu import PARALLEL_GATE_WORK

    rng = np.random.default_rng(2)
    a, b, h = (3 * rng.standard_normal((n, 6)).astype(dtype) for _ in range(3))
    z = rng.uniform(0.5, 1, (n, 6)).astype(dtype)
    assert (a.size >= PARALLEL_GATE_WORK) == (n > 40)
    out = kernels.damped_tanh(a, b, z, h)
    assert out.dtype == dtype
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-13, "atol": 1e-15}
    np.testing.assert_allclose(out, reference.damped_tanh(a, b, z, h), **tol)
