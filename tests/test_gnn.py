"""GRU graph network: hand-written products against finite differences, the
read-out gradient, kernels against references, Planetoid data safety, training."""

import pickle

import numpy as np
import pytest
import scipy.sparse
from conftest import rel, to_xp

import rbptk
from rbptk import kernels
from rbptk.kernels import reference
from rbptk.models import GRUGraphNet, SoftmaxReadout


def random_graph(n=25, density=0.12, seed=1):
    """A random directed graph (A != A^T), so A / A^T mix-ups show."""
    A = scipy.sparse.random(n, n, density=density, random_state=seed, format="csr")
    A.data[:] = 1.0
    return A


def small(n=25, D=4, seed=0):
    net = GRUGraphNet(random_graph(n), D)
    params = net.init_params(seed=seed, dtype=np.float64)
    h = np.random.default_rng(seed).standard_normal((n, D))
    return net, params, h


def test_products_match_finite_differences():
    net, params, h = small()
    errors = rbptk.check.check_dynamics(net, h, params, rtol=1e-6)
    assert max(errors.values()) <= 1e-6


def test_products_on_cupy(cupy):
    net, params, h = small()
    errors = rbptk.check.check_dynamics(net, to_xp(cupy, h), to_xp(cupy, params))
    assert max(errors.values()) <= 1e-6


def test_vjp_and_params_equals_the_two_products():
    net, params, h = small()
    lin = net.linearize(h, params)
    u = np.random.default_rng(7).standard_normal(h.shape)
    v, grads = lin.vjp_and_params(u)
    # the same arithmetic, possibly in another summation order: a few ulps of
    # each array's largest entry (a 1% error in either product fails)
    eps = np.finfo(np.float64).eps
    reference = lin.vjp(u)
    np.testing.assert_allclose(v, reference, rtol=0, atol=64 * eps * np.abs(reference).max())
    for k, g in lin.vjp_params(u).items():
        np.testing.assert_allclose(grads[k], g, rtol=0, atol=64 * eps * np.abs(g).max())


def test_readout_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    readout = SoftmaxReadout(4, 3)
    params = readout.init_params(dtype=np.float64)
    h = rng.standard_normal((10, 4))
    labels, nodes = rng.integers(0, 3, 10), np.array([1, 4, 7, 8])
    loss, dh, grads = readout.loss_and_grads(h, params, labels, nodes)
    eps = 1e-6

    def L(h_, p_):
        return readout.loss_and_grads(h_, p_, labels, nodes)[0]

    d = rng.standard_normal(h.shape)
    fd = (L(h + eps * d, params) - L(h - eps * d, params)) / (2 * eps)
    assert abs(np.sum(dh * d) - fd) <= 1e-7 * abs(fd)
    assert np.all(dh[[0, 2, 3, 5, 6, 9]] == 0)
    for k in params:
        dp = rng.standard_normal(params[k].shape)
        plus, minus = dict(params), dict(params)
        plus[k], minus[k] = params[k] + eps * dp, params[k] - eps * dp
        fd = (L(h, plus) - L(h, minus)) / (2 * eps)
        assert abs(np.sum(grads[k] * dp) - fd) <= 1e-7 * abs(fd)


def test_bptt_matches_finite_differences_of_the_unroll():
    net, params, h0 = small(seed=3)
    q = np.random.default_rng(4).standard_normal(h0.shape)
    T, eps = 7, 1e-6

    def loss(p):
        return float(np.sum(q * rbptk.forward(net, h0, p, T).h))

    grads, _ = rbptk.gradient(net, h0, params, q, method="bptt", steps=T)
    rng = np.random.default_rng(5)
    for k, p in params.items():
        d = rng.standard_normal(p.shape)
        plus, minus = dict(params), dict(params)
        plus[k], minus[k] = p + eps * d, p - eps * d
        fd = (loss(plus) - loss(minus)) / (2 * eps)
        assert abs(np.sum(grads[k] * d) - fd) <= 1e-6 * abs(fd), k


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
def test_gru_kernels_match_reference(backend, dtype):
    from conftest import NAMESPACES

    xp = NAMESPACES[backend]()
    rng = np.random.default_rng(0)
    n, D = 40, 6
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
        close(kernels.spmm(net_graph_on_gpu(xp, A), xp.asarray(h)), A @ h)


def net_graph_on_gpu(cupy, A):
    import cupyx.scipy.sparse

    return cupyx.scipy.sparse.csr_matrix(A)


def train_small(method, steps=60):
    """Lowest training loss of SGD on a small labelled graph; ``method=None``
    trains the read-out alone."""
    rng = np.random.default_rng(0)
    n, D, C = 60, 6, 3
    net, readout = GRUGraphNet(random_graph(n, 0.05, seed=2), D), SoftmaxReadout(D, C)
    h0 = rng.standard_normal((n, D))
    labels = rng.integers(0, C, n)
    h0[np.arange(n), labels] += 2.0  # features carry the label
    nodes = np.arange(20)
    gru, out = net.init_params(dtype=np.float64), readout.init_params(dtype=np.float64)
    gru["W_hh"] *= 0.3  # a contraction, so the RBP family converges
    opt_gru, opt_out = rbptk.optim.SGD(0.2, 0.9), rbptk.optim.SGD(0.2, 0.9)
    losses = []
    for _ in range(steps):
        stash = {}

        def loss_grad(h, out=out, stash=stash):
            loss, dh, stash["out"] = readout.loss_and_grads(h, out, labels, nodes)
            return loss, dh

        grads, info = rbptk.gradient(  # training can leave the contraction regime:
            net,
            h0,
            gru,
            loss_grad,
            method=method or "neumann",
            steps=20,
            truncate=10,
            strict=False,  # take the truncated series' answer as the program does
        )
        losses.append(info.extra["loss"])
        if method is not None:
            gru = opt_gru.step(gru, grads)
        out = opt_out.step(out, stash["out"])
    return min(losses)


@pytest.mark.parametrize("method", ["neumann", "cg"])
def test_training_the_gru_beats_training_the_readout_alone(method):
    # measured lowest losses: read-out alone 1.015 (from 1.14), neumann 0.47,
    # cg 0.68 (lr 0.2 with momentum 0.9 oscillates near the end, hence the minimum).
    # A wrong GRU gradient does no better than the read-out alone.
    assert train_small(method) < 0.85 * train_small(None)


def test_gradients_agree_with_bptt_near_a_fixed_point():
    net, params, h0 = small(seed=7)
    params["W_hh"] *= 0.3
    params["W_ih"] *= 0.3
    q = np.random.default_rng(8).standard_normal(h0.shape)
    kw = dict(steps=200, truncate=60)
    reference_grads, _ = rbptk.gradient(net, h0, params, q, method="bptt", **kw)
    for method in ("neumann", "cg", "rbp"):
        grads, info = rbptk.gradient(net, h0, params, q, method=method, tol=1e-12, eta=0.0, **kw)
        for k in params:
            assert rel(grads[k], reference_grads[k]) <= 1e-6, (method, k)


# --- Planetoid data safety -------------------------------------------------


def test_allow_list_refuses_other_globals(tmp_path):
    from problems.data.planetoid import UnsafePickleError, safe_load

    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    with pytest.raises(UnsafePickleError, match=r"refusing to load global (posix|os)\.system"):
        safe_load(pickle.dumps(Exploit(), protocol=2))
    assert not marker.exists()


def test_planetoid_loads_with_documented_counts():
    from problems.data.planetoid import load_planetoid

    features, labels, A = load_planetoid("cora")
    assert features.shape == (2708, 1433)
    np.testing.assert_array_equal(np.bincount(labels), [351, 217, 418, 818, 426, 298, 180])
    assert A.nnz == 10556 and (A != A.T).nnz == 0 and A.diagonal().sum() == 0


def test_planetoid_checksum_mismatch_is_refused(tmp_path):
    import shutil

    from problems.data.checksums import DATA_DIR, DataIntegrityError
    from problems.data.planetoid import load_planetoid

    shutil.copytree(DATA_DIR / "planetoid", tmp_path / "planetoid")
    target = tmp_path / "planetoid" / "ind.cora.graph"
    data = bytearray(target.read_bytes())
    data[-10] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(DataIntegrityError, match=r"ind\.cora\.graph is corrupted"):
        load_planetoid("cora", tmp_path)


def test_pca_and_split():
    from problems.data.planetoid import pca, random_split

    X = np.random.default_rng(0).standard_normal((50, 8)) @ np.diag([5, 4, 3, 2, 1, 1, 1, 1])
    Z = pca(X, 3)
    centred = X - X.mean(0)
    _, S, _ = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=0), S[:3], rtol=1e-10)
    train, val, test = random_split(1000, seed=3)
    assert (len(train), len(val), len(test)) == (10, 490, 500)
    assert len(np.unique(np.concatenate([train, val, test]))) == 1000
    np.testing.assert_array_equal(train, random_split(1000, seed=3)[0])


def test_citation_program_quick_run(tmp_path):
    import json

    from problems import citation

    rows = citation.main(
        [
            "--dataset",
            "cora",
            "--epochs",
            "2",
            "--seeds",
            "2",
            "--steps",
            "6",
            "--truncate",
            "3",
            "--quiet",
            "--out",
            str(tmp_path),
        ]
    )
    assert [r["method"] for r in rows] == list(rbptk.PAPER_METHODS) + ["no propagation"]
    saved = json.loads((tmp_path / "results.json").read_text())
    for row in saved["table"]:
        assert 0.0 <= row["test_mean"] <= 1.0 and row["test_std"] >= 0.0
    for method in rbptk.PAPER_METHODS:
        runs = saved["methods"][method]
        assert len(runs) == 2 and len(runs[0]["curves"]["val"]) == 2
        assert runs[0]["metrics"]["peak_mb"] > 0 and runs[0]["metrics"]["rho"] > 0
    assert (tmp_path / "val_accuracy_cora.png").stat().st_size > 0
