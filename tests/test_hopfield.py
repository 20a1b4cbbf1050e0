"""Continuous Hopfield network: hand-written products against finite differences,
training on a small network, and the experiment program end to end."""

import json

import numpy as np
import pytest
from conftest import rel, to_xp

import rbptk
from rbptk.models import HopfieldNet


def small(a=1.0, b=0.5, batch=None, seed=0):
    net = HopfieldNet(20, 30, 20, a=a, b=b)
    rng = np.random.default_rng(seed)
    params = net.init_params(scale=0.3, seed=seed, dtype=np.float64)
    shape = (20,) if batch is None else (20, batch)
    x = (rng.random(shape) > 0.5).astype(np.float64)
    h = rng.standard_normal((net.N,) + shape[1:])
    h[:20] = x
    return net, params, h, x


@pytest.mark.parametrize("batch", [None, 4])
@pytest.mark.parametrize("a, b", [(1.0, 0.5), (0.6, 1.7)])
def test_products_match_finite_differences(batch, a, b):
    net, params, h, x = small(a, b, batch)
    errors = rbptk.check.check_dynamics(net, h, params, x, rtol=1e-6)
    assert max(errors.values()) <= 1e-6


def test_products_in_every_namespace(xp):
    net, params, h, x = small(batch=3)
    errors = rbptk.check.check_dynamics(net, to_xp(xp, h), to_xp(xp, params), to_xp(xp, x))
    assert max(errors.values()) <= 1e-6


def test_parameter_gradient_is_symmetric_with_zero_diagonal():
    net, params, h, x = small(batch=2)
    u = np.random.default_rng(3).standard_normal(h.shape)
    dP = net.linearize(h, net.prepare(params), x).vjp_params(u)["P"]
    # symmetric up to the GEMM's summation order; W = P + P^T is exactly symmetric anyway
    np.testing.assert_allclose(dP, dP.T, rtol=0, atol=1e-14 * np.abs(dP).max())
    np.testing.assert_array_equal(np.diag(dP), 0)
    assert np.linalg.norm(dP) > 0


def test_summed_parameter_products_equal_the_sum():
    net, params, _, x = small()
    prepared = net.prepare(params)
    rng = np.random.default_rng(1)
    lins = [net.linearize(rng.standard_normal(net.N), prepared, x) for _ in range(5)]
    us = [rng.standard_normal(net.N) for _ in range(5)]
    total = sum(lin.vjp_params(u)["P"] for lin, u in zip(lins, us, strict=True))
    # one GEMM against five: summation order differs; 5 N terms per entry
    bound = 5 * net.N * np.finfo(np.float64).eps * np.abs(total).max()
    np.testing.assert_allclose(net.vjp_params_sum(lins, us)["P"], total, rtol=0, atol=bound)


def test_bptt_gradient_matches_finite_differences_of_the_unroll():
    net, params, _, x = small(seed=2)
    q = np.random.default_rng(4).standard_normal(net.N)
    T, eps = 6, 1e-6

    def loss(P):
        traj = rbptk.forward(net, net.initial_state(x), {"P": P}, T, inputs=lambda t: x)
        return float(q @ traj.h)

    grads, _ = rbptk.gradient(
        net, net.initial_state(x), params, q, method="bptt", steps=T, inputs=lambda t: x
    )
    rng = np.random.default_rng(5)
    for _ in range(5):
        d = rng.standard_normal(params["P"].shape)
        fd = (loss(params["P"] + eps * d) - loss(params["P"] - eps * d)) / (2 * eps)
        assert abs(np.sum(grads["P"] * d) - fd) <= 1e-6 * abs(fd)


def test_clamped_input_units_stay_clamped():
    net, params, h, x = small(batch=3)
    h_next = net.step(h, net.prepare(params), x)
    np.testing.assert_array_equal(h_next[:20], x)
    with pytest.raises(ValueError, match="needs the presented image"):
        net.step(h, net.prepare(params))
    with pytest.raises(ValueError, match=r"image x must have shape \(20, 3\)"):
        net.step(h, net.prepare(params), x[:, :2])
    with pytest.raises(ValueError, match=r"params\['P'\] must have shape \(70, 70\)"):
        rbptk.gradient(net, h, {"P": np.zeros((5, 5))}, h)


@pytest.mark.parametrize("method", ["neumann", "cg"])
def test_training_reduces_the_loss(method):
    from problems.hopfield import l1_loss_grad

    net = HopfieldNet(20, 30, 20)
    rng = np.random.default_rng(0)
    patterns = (rng.random((20, 4)) > 0.6).astype(np.float64)
    params = net.init_params(scale=1e-3, dtype=np.float64)
    opt = rbptk.optim.Adam(lr=1e-2)
    losses = []
    for step in range(40):
        x = patterns[:, step % 4]
        grads, info = rbptk.gradient(
            net,
            net.initial_state(x),
            params,
            l1_loss_grad(net, x),
            method=method,
            steps=30,
            truncate=15,
            inputs=lambda t, x=x: x,
        )
        losses.append(info.extra["loss"])
        params = opt.step(params, grads)
    # measured: 0.63 -> 0.35 over 40 steps; a wrong-signed or mis-scaled gradient stalls or climbs
    assert np.mean(losses[-4:]) < 0.7 * np.mean(losses[:4])


def test_program_quick_run(tmp_path):
    from problems import hopfield

    results = hopfield.main(
        [
            "--hidden",
            "16",
            "--epochs",
            "2",
            "--steps",
            "8",
            "--truncate",
            "4",
            "--quiet",
            "--out",
            str(tmp_path),
            "--eval-corruptions",
            "2",
            "--rho-every",
            "1",
        ]
    )
    assert [row["method"] for row in results] == ["cue", *rbptk.PAPER_METHODS]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [row["method"] for row in saved["table"]] == ["cue", *rbptk.PAPER_METHODS]
    for row in saved["table"]:
        for key in ("success", "pixel_error", "nearest_success"):
            assert 0.0 <= row[key] <= 1.0
    cue = saved["table"][0]
    assert cue["nearest_success"] > 0.5 and 0.05 < cue["pixel_error"] < 0.15  # half-erased
    assert all(row["s_per_grad"] > 0 and row["peak_mb"] > 0 for row in saved["table"][1:])
    distance = {row["method"]: row["bptt_distance"] for row in saved["table"][1:]}
    assert distance["bptt"] == 0.0 and all(d >= 0 for d in distance.values())
    (tbptt,) = saved["methods"]["tbptt"]  # measured every --rho-every epochs, like rho
    assert [e for e, _ in tbptt["curves"]["bptt_distance"]] == [0, 1]
    assert saved["config"]["protocol"] == "retrieval" and saved["config"]["batch"] == 10
    assert (tmp_path / "loss_curves.png").stat().st_size > 0
    assert (tmp_path / "retrieval.png").stat().st_size > 0


def test_corruption_switches_off_half_the_on_pixels():
    from problems.hopfield import clean_images, corrupt

    images = clean_images()
    assert images.shape == (784, 10) and set(np.unique(images)) == {0.0, 1.0}
    cues = corrupt(images, np.random.default_rng(0))
    on = images.sum(axis=0)
    np.testing.assert_array_equal(cues.sum(axis=0), on - on // 2)
    assert np.all(cues <= images)
    np.testing.assert_array_equal(cues, corrupt(images, np.random.default_rng(0)))


@pytest.mark.gpu
def test_gpu_gradient_matches_cpu(cupy):
    net, params, _, x = small(batch=3)
    q = np.random.default_rng(4).standard_normal((net.N, 3))
    for method in rbptk.PAPER_METHODS:
        kw = dict(method=method, steps=12, truncate=6, seed=0)
        cpu, _ = rbptk.gradient(net, net.initial_state(x), params, q, inputs=lambda t: x, **kw)
        xg = cupy.asarray(x)
        gpu, _ = rbptk.gradient(
            net,
            net.initial_state(xg),
            to_xp(cupy, params),
            cupy.asarray(q),
            inputs=lambda t, xg=xg: xg,
            **kw,
        )
        assert rel(gpu["P"], cpu["P"]) <= 1e-10


def test_program_with_anderson_forward_and_gmres(tmp_path):
    from problems import hopfield

    results = hopfield.main(
        [
            "--hidden",
            "16",
            "--epochs",
            "2",
            "--steps",
            "30",
            "--truncate",
            "10",
            "--quiet",
            "--no-plots",
            "--out",
            str(tmp_path),
            "--eval-corruptions",
            "1",
            "--method",
            "gmres",
            "--forward",
            "anderson",
        ]
    )
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [r["method"] for r in results] == ["cue", "gmres"]
    assert saved["config"]["forward"] == "anderson"
    plain, acc = saved["forward_study"]
    assert plain["forward"] == "plain" and acc["forward"] == "anderson"
    assert acc["steps"] <= plain["steps"]


def test_program_reference_protocol(tmp_path):
    from problems import hopfield

    argv = ["--protocol", "reference", "--method", "neumann", "--hidden", "16", "--epochs", "1"]
    hopfield.main([*argv, "--steps", "6", "--truncate", "3", "--quiet", "--no-plots"]
                  + ["--eval-corruptions", "1", "--out", str(tmp_path)])  # fmt: skip
    config = json.loads((tmp_path / "results.json").read_text())["config"]
    assert (config["batch"], config["input_gain"], config["train_corrupt"]) == (1, 0.0, False)


def test_encoding_study_quick_run(tmp_path):
    from problems import hopfield

    argv = ["--study", "encoding", "--hidden", "16", "--epochs", "1", "--steps", "6"]
    rows = hopfield.main([*argv, "--truncate", "3", "--quiet", "--eval-corruptions", "1"]
                         + ["--out", str(tmp_path)])  # fmt: skip
    assert [r["encoding"] for r in rows] == ["cue itself", "x in {0, 1}", "+-1", "+-2", "+-4",
                                             "+-4", "+-8"]  # fmt: skip
    assert all(0 <= r["pixel_error"] <= 1 for r in rows)


def test_capacity_study_quick_run(tmp_path, monkeypatch):
    from problems import hopfield

    monkeypatch.setattr(hopfield, "CAPACITY_STORED", (10, 20))
    monkeypatch.setattr(hopfield, "CAPACITY_ERASED", (0.25, 0.75))
    argv = ["--study", "capacity", "--method", "neumann", "--hidden", "16", "--epochs", "1"]
    rows = hopfield.main([*argv, "--steps", "6", "--truncate", "3", "--quiet"]
                         + ["--eval-corruptions", "1", "--out", str(tmp_path)])  # fmt: skip
    trained = [r for r in rows if r["method"] == "neumann"]
    assert [(r["stored"], r["erased"]) for r in trained] == [(10, 0.25), (10, 0.75), (20, 0.25),
                                                             (20, 0.75)]  # fmt: skip
    # a quarter erased leaves a cue closer to the digit than three quarters do
    assert trained[0]["cue_pixel_error"] < trained[1]["cue_pixel_error"]
    # the classical rules beside every trained row, on the same cues
    assert [r["method"] for r in rows[:3]] == ["neumann", "hebbian rule", "projection rule"]
    assert len(rows) == 3 * len(trained)
    assert (tmp_path / "capacity.png").stat().st_size > 0


def test_more_digits_per_class_come_digit_major():
    from problems.hopfield import clean_images

    two = clean_images(2)
    assert two.shape == (784, 20)
    np.testing.assert_array_equal(two[:, :10], clean_images(1))
