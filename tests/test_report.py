"""problems/report.py: a grid's tables from its records, and documents whose
marked tables are regenerated from records."""

import pytest

from problems import report, runner


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    from problems import hyperopt

    out = tmp_path_factory.mktemp("grid")
    argv = ["--method", "neumann,bptt", "--seeds", "2", "--meta-iters", "1", "--steps", "3"]
    argv += ["--truncate", "2", "--n-train", "200", "--batch", "100", "--quiet", "--no-plots"]
    rows = hyperopt.main([*argv, "--out", str(out)])
    return out, rows


def test_the_report_prints_the_programs_table(grid, capsys):
    out, rows = grid
    capsys.readouterr()
    assert report.main([str(out), "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert "4 of 4 runs recorded" in printed
    machine, day = runner.provenance()["machine"], runner.read_records(out)[0]["started"][:10]
    assert f"runs started {day}, on {machine}\n" in printed  # when and where, under the count
    for row in rows:
        assert f"| {row['method']} | {row['meta_first']:.4f} | {row['meta_last']:.4f} |" in printed


def test_a_partial_grid_reports_what_is_recorded(grid, tmp_path, capsys):
    out, _ = grid
    partial = tmp_path / "partial"
    (partial / "runs").mkdir(parents=True)
    (partial / "grid.json").write_text((out / "grid.json").read_text())
    first = sorted((out / "runs").iterdir())[0]
    (partial / "runs" / first.name).write_text(first.read_text())
    assert report.main([str(partial), "--no-plots"]) == 0
    assert "1 of 4 runs recorded" in capsys.readouterr().out


def test_update_regenerates_marked_tables_only(grid, tmp_path):
    out, rows = grid
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n<!-- report: {out} -->\nstale table\n<!-- /report -->\nend\n")
    before = {f: f.read_bytes() for f in out.rglob("*") if f.is_file()}
    assert report.main(["--update", str(doc)]) == 0
    assert {f: f.read_bytes() for f in out.rglob("*") if f.is_file()} == before  # untouched
    text = doc.read_text()
    assert text.startswith("intro\n") and text.endswith("<!-- /report -->\nend\n")
    assert "stale table" not in text and "| neumann |" in text and "wrote " not in text
    assert report.update(doc) == 1 and doc.read_text() == text  # idempotent


def test_a_folder_without_a_grid_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        report.main([str(tmp_path)])
    assert exit_info.value.code == 2 and "no readable grid" in capsys.readouterr().err
    assert runner.read_records(tmp_path) == []
