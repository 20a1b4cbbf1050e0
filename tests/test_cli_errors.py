"""Invalid flag values (robustness issue, item 5): each program answers with
exit code 2 and one line naming the flag and what it accepts, no traceback,
before any work (so within a few seconds)."""

import time

import pytest

PROBES = [
    ("hyperopt", ["--n-train", "0"], "--n-train: must be an integer >= 1"),
    ("hyperopt", ["--batch", "100000"], "--batch: 100000 exceeds --n-train 10000"),
    ("hyperopt", ["--n-train", "60000"], "--n-train: must be at most 50000"),
    ("hyperopt", ["--meta-iters", "0"], "--meta-iters: must be an integer >= 1"),
    ("hyperopt", ["--meta-iters", "-1"], "--meta-iters: must be an integer >= 1"),
    ("hopfield", ["--epochs", "0"], "--epochs: must be an integer >= 1"),
    ("hopfield", ["--epochs", "-1"], "--epochs: must be an integer >= 1"),
    ("hopfield", ["--eval-corruptions", "0"], "--eval-corruptions: must be an integer >= 1"),
    ("hopfield", ["--rho-every", "0"], "--rho-every: must be an integer >= 1"),
    ("hopfield", ["--batch", "0"], "--batch: must be an integer >= 1"),
    ("hopfield", ["--batch", "11"], "--batch: must be between 1 and 10"),
    ("hopfield", ["--hidden", "-5"], "--hidden: must be an integer >= 1"),
    ("hopfield", ["--hidden", "0"], "--hidden: must be an integer >= 1"),
    ("hopfield", ["--lr", "-1"], r"--lr: must be a number in \(0, inf\]"),
    ("hopfield", ["--lr", "nan"], r"--lr: must be a number in \(0, inf\]"),
    ("hopfield", ["--tol-pixels", "2"], r"--tol-pixels: must be a number in \[0, 1\]"),
    ("hopfield", ["--steps", "0"], "--steps: must be an integer >= 1"),
    ("hopfield", ["--truncate", "0"], "--truncate: must be an integer >= 1"),
    ("hopfield", ["--steps", "5", "--truncate", "9"], "--truncate 9 exceeds --steps 5"),
    ("citation", ["--epochs", "0"], "--epochs: must be an integer >= 1"),
    ("citation", ["--epochs", "-1"], "--epochs: must be an integer >= 1"),
    ("citation", ["--seeds", "0"], "--seeds: must be a count >= 1"),
    ("citation", ["--momentum", "1"], r"--momentum: must be a number in \[0, 1\)"),
    ("citation", ["--weight-decay", "-1"], r"--weight-decay: must be a number in \[0, inf\]"),
    ("citation", ["--forward", "anderson", "--method", "bptt"], "--forward anderson needs"),
    ("benchmarks", ["--repeats", "0"], "--repeats: must be an integer >= 1"),
    ("benchmarks", ["--only", "foo"], "--only: unknown foo; choose from methods"),
    ("benchmarks", ["--cases", "bar"], "--cases: unknown bar; choose from hopfield"),
    ("thread_timeout", ["--cases", "bar"], "--cases: unknown bar; choose from hopfield"),
    ("thread_timeout", ["--values", "28,3"], "--values: each value must be 4 to 30"),
    ("thread_timeout", ["--values", "x"], "--values: expected integers like 28,17"),
    ("thread_timeout", ["--rounds", "0"], "--rounds: must be an integer >= 1"),
    ("step_floor", ["--cases", "hopfield"], "--cases: unknown hopfield; choose from gnn-cora"),
    ("step_floor", ["--rounds", "0"], "--rounds: must be an integer >= 1"),
]


BENCHMARKS = {"benchmarks": "benchmarks.__main__", "thread_timeout": "benchmarks.thread_timeout",
              "step_floor": "benchmarks.step_floor"}  # fmt: skip


def _main(program):
    return __import__(BENCHMARKS.get(program, f"problems.{program}"), fromlist=["main"]).main


@pytest.mark.parametrize(("program", "argv", "message"), PROBES, ids=lambda p: str(p))
def test_invalid_flag_exits_2_with_one_line(program, argv, message, capsys, tmp_path):
    main = _main(program)
    start = time.perf_counter()
    with pytest.raises(SystemExit) as caught:
        main(argv if program in BENCHMARKS else [*argv, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert caught.value.code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert __import__("re").search(message, err), err
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize("program", ["hopfield", "citation", "hyperopt"])
def test_unknown_backend_from_the_environment(program, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("RBPTK_BACKEND", "foo")
    with pytest.raises(SystemExit) as caught:
        _main(program)(["--out", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "RBPTK_BACKEND" in err and "unknown backend 'foo'" in err


def test_gpu_without_a_device_exits_2(capsys, tmp_path):
    import rbptk

    if rbptk.gpu_available():
        pytest.skip("this machine has a CUDA device")
    with pytest.raises(SystemExit) as caught:
        _main("hopfield")(["--backend", "gpu", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "backend 'gpu'" in err
