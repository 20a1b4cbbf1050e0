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
    assert [r["method"] for r in rows] == list(rbptk.PAPER_METHODS) + ["no propagation"]
    saved = json.loads((tmp_path / "results.json").read_text())
    for row in saved["table"]:
        assert 0.0 <= row["test_mean"] <= 1.0 and row["test_std"] >= 0.0
    for method in rbptk.PAPER_METHODS:
        runs = saved["methods"][method]
        assert len(runs) == 2 and len(runs[0]["curves"]["val"]) == 2
        assert runs[0]["metrics"]["peak_mb"] > 0 and runs[0]["metrics"]["rho"] > 0
    assert (tmp_path / "val_accuracy_cora.png").stat().st_size > 0
