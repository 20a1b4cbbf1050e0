"""problems/citation.py: the program's quick run."""

import rbptk


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
    assert [r["method"] for r in rows] == [
        *rbptk.PAPER_METHODS,
        "no propagation",
        "linear propagation",
        "GCN",
    ]
    saved = json.loads((tmp_path / "results.json").read_text())
    for row in saved["table"]:
        assert 0.0 <= row["test_mean"] <= 1.0 and row["test_std"] >= 0.0
    for method in rbptk.PAPER_METHODS:
        runs = saved["methods"][method]
        assert len(runs) == 2 and len(runs[0]["curves"]["val"]) == 2
        assert runs[0]["metrics"]["peak_mb"] > 0 and runs[0]["metrics"]["rho"] > 0
    assert (tmp_path / "val_accuracy_cora.png").stat().st_size > 0


def test_the_contractive_setting_stays_a_contraction_through_training(tmp_path):
    """Adam at a large learning rate pushes U hard; the projection after every
    step keeps ||U||_2 <= gamma, so rho(J) at the selected parameters stays
    below the bound L = sqrt(1 - z_min + gamma^2) < 1, and the forward pass
    stops at its tolerance before the step budget."""
    import json

    from problems import citation

    argv = ["--method", "neumann,bptt", "--seeds", "1", "--epochs", "15", "--lr", "0.5"]
    citation.main([*argv, "--quiet", "--no-plots", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())
    z_min, gamma = (
        citation.SETTINGS["contractive"]["z_min"],
        citation.SETTINGS["contractive"]["gamma"],
    )
    bound = (1 - z_min + gamma**2) ** 0.5
    for method in ("neumann", "bptt"):
        (run,) = saved["methods"][method]
        assert 0 < run["metrics"]["rho"] <= bound * (1 + 1e-4)
    plain = saved["forward_study"][0]
    assert plain["status"] == "converged" and plain["steps"] < 1000
    # every implicit method at the setting's budget within 1e-4 of the exact gradient
    rows = {r["method"]: r for r in saved["agreement"]}
    assert set(rows) == {"exact (gmres)", "rbp", "cg", "neumann", "gmres", "bicgstab"}
    assert all(r["status"] == "converged" and r["rel_diff"] <= 1e-4 for r in rows.values())


def test_the_reference_setting_runs_the_reference_model(tmp_path):
    import json

    from problems import citation, common

    argv = ["--setting", "reference", "--method", "neumann", "--seeds", "1", "--epochs", "2"]
    citation.main([*argv, "--steps", "6", "--truncate", "3", "--quiet", "--no-plots",
                   "--out", str(tmp_path)])  # fmt: skip
    saved = json.loads((tmp_path / "results.json").read_text())
    config = saved["config"]
    assert (config["optimizer"], config["lr"], config["momentum"]) == ("sgd", 1e-3, 0.9)
    assert config["setting"] == "reference" and config["forward_tol"] is None
    # before training no gate saturates: BPTT's gradient is finite and not zero
    initial = saved["agreement_initial"]
    assert [r["method"] for r in initial] == ["bptt", *common.AGREEMENT_METHODS]
    assert 0 < initial[0]["grad_norm"] < float("inf")


def test_a_gamma_that_breaks_the_contraction_is_refused(capsys):
    import pytest

    from problems import citation

    with pytest.raises(SystemExit) as exit_info:
        citation.main(["--gamma", "0.9", "--z-min", "0.5"])
    assert exit_info.value.code == 2 and "gamma^2 < z_min" in capsys.readouterr().err


def test_prior_decay_pulls_the_propagation_towards_its_initial_point():
    """With an anchor the decay term is prior_decay * (params - anchor) (zero at
    the anchor, whatever weight_decay says); without one, Adam's weight decay."""
    import argparse

    import numpy as np

    from problems import citation

    args = argparse.Namespace(optimizer="adam", weight_decay=0.5, prior_decay=30.0)
    params, anchor = {"U": np.array([2.0, 1.0])}, {"U": np.array([1.0, 1.0])}
    grads = {"U": np.array([0.1, 0.1])}
    np.testing.assert_allclose(citation.decayed(grads, params, args, anchor)["U"], [30.1, 0.1])
    np.testing.assert_allclose(citation.decayed(grads, params, args)["U"], [1.1, 0.6])


def test_an_initialisation_of_the_other_setting_is_refused(capsys):
    import pytest

    from problems import citation

    for argv in (["--init", "reference"], ["--setting", "reference", "--init", "pagerank"]):
        with pytest.raises(SystemExit) as exit_info:
            citation.main(argv)
        assert exit_info.value.code == 2 and "does not apply" in capsys.readouterr().err
