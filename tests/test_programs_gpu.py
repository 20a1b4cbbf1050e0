"""The three experiment programs on ``--backend gpu``: each runs end to end on
the device and follows the CPU run's curves (float64, same seeds), so the CuPy
path of every model, solver and optimiser a program touches is exercised."""

import json

import numpy as np
import pytest

# float64 on both sides: the curves differ only by summation order on the
# device (cuBLAS, cuSPARSE) and, for a forward pass run to a tolerance, by where
# it stops (up to 15 steps later on the device). With the tolerance at 1e-12 and
# a few epochs that is far below 1e-6 relative; a wrong kernel is off by O(1).
RTOL = 1e-6

PROGRAMS = {
    "hopfield": (
        "epoch_loss",
        ["--method", "neumann,bptt", "--hidden", "16", "--epochs", "2", "--steps", "8",
         "--truncate", "4", "--eval-corruptions", "2", "--rho-every", "1"],
    ),
    "citation-contractive": (
        "loss",
        ["--method", "neumann,cg", "--seeds", "1", "--epochs", "3", "--forward-tol", "1e-12"],
    ),
    "citation-reference": (
        "loss",
        ["--setting", "reference", "--method", "neumann,tbptt", "--seeds", "1",
         "--epochs", "3", "--steps", "6", "--truncate", "3"],
    ),
    "hyperopt": (
        "meta_loss",
        ["--method", "neumann,rbp", "--meta-iters", "2", "--steps", "4", "--truncate", "2",
         "--n-train", "400", "--batch", "100"],
    ),
}  # fmt: skip


def run(name, backend, out):
    import importlib

    module = importlib.import_module(f"problems.{name.split('-')[0]}")
    argv = [*PROGRAMS[name][1], "--backend", backend, "--dtype", "float64"]
    module.main([*argv, "--quiet", "--no-plots", "--out", str(out)])
    return json.loads((out / "results.json").read_text())


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_on_the_gpu_follows_the_cpu_run(cupy, name, tmp_path):
    key = PROGRAMS[name][0]
    cpu, gpu = run(name, "cpu", tmp_path / "cpu"), run(name, "gpu", tmp_path / "gpu")
    assert gpu["config"]["backend"] == "gpu"
    for method, runs in cpu["methods"].items():
        a = np.asarray(runs[0]["curves"][key], dtype=float)
        b = np.asarray(gpu["methods"][method][0]["curves"][key], dtype=float)
        assert a.shape == b.shape and np.all(np.isfinite(b)), (method, b)
        np.testing.assert_allclose(b, a, rtol=RTOL, err_msg=f"{name} {method}")
