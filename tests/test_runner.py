"""problems/runner.py: records, resumption, checkpoints, and the Dask schedulers."""

import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from problems import runner

TASK = "grid_tasks:run"
ROOT = pathlib.Path(__file__).resolve().parent.parent


def toy_specs(tmp_path, methods=("a", "bb"), seeds=(0, 1), **config):
    config = {"epochs": 5, "log": str(tmp_path / "log.txt"), **config}
    return [runner.make_spec(TASK, m, s, config) for m in methods for s in seeds]


def log_lines(tmp_path, word):
    path = tmp_path / "log.txt"
    return (
        [line for line in path.read_text().splitlines() if line.startswith(word)]
        if path.exists()
        else []
    )


def test_spec_hash_is_canonical_and_sensitive():
    a = runner.make_spec("x", "neumann", 0, {"lr": 0.1, "steps": 5})
    b = runner.make_spec("x", "neumann", 0, {"steps": 5, "lr": 0.1})
    assert runner.spec_hash(a) == runner.spec_hash(b) and len(runner.spec_hash(a)) == 16
    assert runner.spec_hash(a) != runner.spec_hash(runner.make_spec("x", "neumann", 1, a["config"]))
    assert runner.spec_hash(a) != runner.spec_hash({**a, "config": {"lr": 0.1, "steps": 6}})


@pytest.mark.parametrize(
    ("text", "seeds"), [("3", [0, 1, 2]), ("2-4", [2, 3, 4]), ("0,3", [0, 3]), ("7-7", [7])]
)
def test_seeds_parse(text, seeds):
    assert runner.parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["0", "-1", "4-2", "1,1", "x", "", "1-"])
def test_bad_seeds_are_refused(text):
    with pytest.raises(ValueError, match="must be a count"):
        runner.parse_seeds(text)


def test_record_round_trip_and_damage(tmp_path):
    spec = runner.make_spec(TASK, "a", 0, {"epochs": 1})
    path = runner.record_path(tmp_path, spec)
    runner.write_record(
        path,
        {
            "format": runner.FORMAT,
            "spec": spec,
            "status": "done",
            "metrics": {"x": np.float64(0.5)},
        },
    )
    assert runner.read_record(path)["metrics"] == {"x": 0.5}
    assert not list(path.parent.glob("*.tmp"))
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # readable as any file written
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # truncated
    with pytest.warns(UserWarning, match="invalid .*unreadable"):
        assert runner.read_record(path) is None
    path.write_text(text.replace('"x": 0.5', '"x": 0.25'))  # edited
    with pytest.warns(UserWarning, match="checksum mismatch"):
        assert runner.read_record(path) is None
    other = runner.record_path(tmp_path, runner.make_spec(TASK, "a", 1, {"epochs": 1}))
    other.write_text(text)  # a valid record under another run's name
    with pytest.warns(UserWarning, match="spec does not match"):
        assert runner.read_record(other) is None


def test_grid_resumes_and_redoes_only_damaged_records(tmp_path):
    specs = toy_specs(tmp_path)
    first = runner.run_grid(specs, tmp_path)
    assert (
        len(list((tmp_path / "runs").glob("*.json"))) == 4 and len(log_lines(tmp_path, "done")) == 4
    )
    again = runner.run_grid(specs, tmp_path)  # a finished grid runs nothing
    assert len(log_lines(tmp_path, "start")) == 4
    assert [r["metrics"] for r in again] == [r["metrics"] for r in first]
    path = runner.record_path(tmp_path, specs[2])
    path.write_text(path.read_text()[:100])
    with pytest.warns(UserWarning, match="will be redone"):
        runner.run_grid(specs, tmp_path)
    assert log_lines(tmp_path, "start")[4:] == [f"start bb 0 {os.getpid()}"]
    runner.run_grid(specs[:1], tmp_path, rerun=True)
    assert len(log_lines(tmp_path, "start")) == 6


def test_a_failing_run_is_reported_and_the_others_recorded(tmp_path):
    specs = toy_specs(tmp_path, methods=("a",)) + [runner.make_spec(TASK, "a", 9, {"epochs": 1})]
    with pytest.raises(
        runner.GridError, match="1 of 3 runs failed:\n  grid_tasks:run a seed 9: KeyError"
    ):
        runner.run_grid(specs, tmp_path)
    assert len(list((tmp_path / "runs").glob("*.json"))) == 2


class Interrupt(BaseException):
    """Stands for a kill right after a checkpoint was written."""


def interrupt_after(monkeypatch, saves):
    original, count = runner.Checkpoint.maybe_save, []

    def maybe_save(self, epoch, state):
        original(self, epoch, state)
        count.append(epoch)
        if len(count) == saves:
            raise Interrupt

    monkeypatch.setattr(runner.Checkpoint, "maybe_save", maybe_save)


def test_a_run_killed_after_a_checkpoint_resumes_to_the_same_result(tmp_path, monkeypatch):
    specs = toy_specs(tmp_path, methods=("a",), seeds=(3,), epochs=6)
    whole = runner.run_grid(specs, tmp_path / "whole")[0]
    with monkeypatch.context() as m:
        interrupt_after(m, 4)
        with pytest.raises(Interrupt):
            runner.run_grid(specs, tmp_path / "cut", checkpoint_every=2)
    assert not (tmp_path / "cut" / "runs").exists() or not list(
        (tmp_path / "cut" / "runs").glob("*.json")
    )
    resumed = runner.run_grid(specs, tmp_path / "cut", checkpoint_every=2)[0]
    assert resumed["resumed_from_epoch"] == 3 and whole["resumed_from_epoch"] is None
    assert resumed["metrics"] == whole["metrics"] and resumed["curves"] == whole["curves"]
    assert not list((tmp_path / "cut" / "checkpoints").glob("*"))  # cleared with the record


def test_citation_resumes_bit_for_bit(tmp_path, monkeypatch):
    from problems import citation

    argv = [
        "--method",
        "neumann",
        "--seeds",
        "1",
        "--epochs",
        "4",
        "--steps",
        "4",
        "--truncate",
        "2",
    ]
    argv += ["--quiet", "--no-plots", "--checkpoint-every", "1"]
    citation.main([*argv, "--out", str(tmp_path / "whole")])
    with monkeypatch.context() as m:
        interrupt_after(m, 2)
        with pytest.raises(Interrupt):
            citation.main([*argv, "--out", str(tmp_path / "cut")])
    citation.main([*argv, "--out", str(tmp_path / "cut")])
    (whole,), (cut,) = (runner.read_records(tmp_path / d) for d in ("whole", "cut"))
    assert cut["resumed_from_epoch"] == 1
    for key in ("loss", "val", "test"):
        assert cut["curves"][key] == whole["curves"][key]
    assert cut["metrics"]["test"] == whole["metrics"]["test"]
    assert cut["metrics"]["rho"] == whole["metrics"]["rho"]  # at the selected parameters


@pytest.mark.parametrize("setting", ["contractive", "reference"])
def test_citation_train_resumes_to_the_same_parameters(tmp_path, setting):
    import argparse

    from problems import citation

    config = {k: v for k, v in citation.SETTINGS[setting].items() if k != "epochs"}
    config.update(dataset="cora", setting=setting, steps=4, truncate=2, forward_tol=None)
    args = argparse.Namespace(**config, epochs=4, dtype="float64", forward="plain", quiet=True)
    net, readout, data, split, h0 = citation.problem(args, 0)
    whole = citation.train(net, readout, "neumann", data, split, h0, args, 0)
    ckpt = runner.Checkpoint(tmp_path / "c.pkl", every=1)
    args.epochs = 2
    citation.train(net, readout, "neumann", data, split, h0, args, 0, ckpt)  # stops after epoch 1
    args.epochs = 4
    resumed = citation.train(net, readout, "neumann", data, split, h0, args, 0, ckpt)
    assert ckpt.resumed_from == 1
    for a, b in zip(whole["params"], resumed["params"], strict=True):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


@pytest.fixture(scope="module")
def distributed():
    return pytest.importorskip("distributed", reason="needs the 'cluster' extra (dask.distributed)")


def test_local_cluster_matches_in_process_bit_for_bit(tmp_path, distributed):
    from problems import citation

    argv = ["--method", "tbptt,neumann", "--seeds", "2", "--epochs", "2", "--steps", "4"]
    argv += ["--truncate", "2", "--quiet", "--no-plots"]
    before = {v: os.environ.get(v) for v in runner.THREAD_VARIABLES}
    threads = str(max(1, os.cpu_count() // 2))  # what each of the 2 workers gets
    # in a process with the workers' thread counts: a reduction's order depends on them
    env = {**os.environ, **{v: threads for v in runner.THREAD_VARIABLES}}
    cmd = [sys.executable, "-m", "problems.citation", *argv, "--out", str(tmp_path / "seq")]
    subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=ROOT)
    citation.main(
        [*argv, "--out", str(tmp_path / "dask"), "--scheduler", "local", "--workers", "2"]
    )
    seq, par = (runner.read_records(tmp_path / d) for d in ("seq", "dask"))
    assert len(par) == 4 and [r["spec_hash"] for r in par] == [r["spec_hash"] for r in seq]
    pids = {r["spec_hash"]: r for r in par}
    for a in seq:
        b = pids[a["spec_hash"]]
        for key in ("val", "test", "epoch", "rho"):
            assert b["metrics"][key] == a["metrics"][key]
        for key in ("loss", "val", "test"):
            assert b["curves"][key] == a["curves"][key]
        assert b["baseline"] == a["baseline"]
    assert {r["threads"]["OMP_NUM_THREADS"] for r in par} == {threads}
    assert {r["threads"]["numba"] for r in par} == {int(threads)}
    # this process's environment is as it was (numba refuses a changed
    # NUMBA_NUM_THREADS once its threads run)
    assert {v: os.environ.get(v) for v in runner.THREAD_VARIABLES} == before


def test_a_killed_worker_loses_nothing_and_duplicates_nothing(tmp_path, distributed):
    specs = toy_specs(tmp_path, epochs=4, sleep=0.5)  # 2 s per run
    killed = []

    def kill_first_started():
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            starts = log_lines(tmp_path, "start")
            if starts:
                pid = int(starts[0].split()[-1])
                time.sleep(0.5)  # mid-task
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.05)

    watcher = threading.Thread(target=kill_first_started)
    watcher.start()
    records = runner.run_grid(specs, tmp_path, scheduler="local", workers=2)
    watcher.join()
    assert killed, "no task started"
    files = sorted((tmp_path / "runs").iterdir())
    assert len(files) == 4 and all(f.suffix == ".json" for f in files)  # no leftovers
    done = log_lines(tmp_path, "done")
    assert len(done) == 4 and len({tuple(d.split()[1:3]) for d in done}) == 4  # each once
    assert not any(d.endswith(f" {killed[0]}") for d in done)
    assert len(log_lines(tmp_path, "start")) == 5  # the killed one started twice
    whole = runner.run_grid(specs, tmp_path / "again")
    assert [r["metrics"]["x"] for r in records] == [r["metrics"]["x"] for r in whole]


def test_no_dask_is_a_clear_error(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    with pytest.raises(ImportError, match=r"pip install 'rbptk\[cluster\]'"):
        runner.run_grid(toy_specs(tmp_path), tmp_path, scheduler="local", workers=1)


def test_every_program_takes_method_and_seed_lists(tmp_path):
    from problems import hyperopt

    argv = ["--method", "neumann,bptt", "--seeds", "0,2", "--meta-iters", "1", "--steps", "3"]
    argv += ["--truncate", "2", "--n-train", "200", "--batch", "100", "--quiet", "--no-plots"]
    rows = hyperopt.main([*argv, "--out", str(tmp_path)])
    assert [r["method"] for r in rows] == ["neumann", "bptt"] and rows[0]["seeds"] == 2
    specs = [r["spec"] for r in runner.read_records(tmp_path)]
    assert sorted((s["method"], s["seed"]) for s in specs) == [
        ("bptt", 0), ("bptt", 2), ("neumann", 0), ("neumann", 2)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--method", "neumann,bogus"], "--method: must be 'all' or distinct names"),
        (["--method", "neumann,neumann"], "--method: must be 'all' or distinct names"),
        (["--seeds", "3-1"], "--seeds: must be a count >= 1, a range"),
        (["--scheduler", "lokal"], "--scheduler: must be none, local or a scheduler address"),
    ],
)
def test_bad_lists_are_refused_in_one_line(argv, message, capsys):
    from problems import citation

    with pytest.raises(SystemExit) as exit_info:
        citation.main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1
