"""rbptk's thread-pool defaults (rbptk/_threads.py), each in a fresh interpreter
since they act at import time."""

import os
import subprocess
import sys

import pytest

SHOW = "import os, rbptk; print(os.environ['{var}'], rbptk.openblas_thread_timeout())"


def _run(code, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY")
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_rbptk_before_numpy_sets_both_defaults():
    assert _run(SHOW.format(var="OPENBLAS_THREAD_TIMEOUT")) == ["17", "17"]
    assert _run(SHOW.format(var="OMP_WAIT_POLICY"))[0] == "passive"


def test_numpy_first_reports_openblas_default():
    # OpenBLAS has read its environment before rbptk could set it
    assert _run("import numpy; " + SHOW.format(var="OPENBLAS_THREAD_TIMEOUT"))[1] == "28"


@pytest.mark.parametrize("numpy_first", [False, True])
def test_user_timeout_is_kept(numpy_first):
    code = ("import numpy; " if numpy_first else "") + SHOW.format(var="OPENBLAS_THREAD_TIMEOUT")
    assert _run(code, OPENBLAS_THREAD_TIMEOUT="20") == ["20", "20"]


def test_user_wait_policy_is_kept():
    assert _run(SHOW.format(var="OMP_WAIT_POLICY"), OMP_WAIT_POLICY="active")[0] == "active"


@pytest.mark.parametrize("package", ["problems", "benchmarks"])
def test_programs_import_rbptk_before_numpy(package):
    code = f"import sys, {package}; print(sys.modules['rbptk'].openblas_thread_timeout())"
    assert _run(code) == ["17"]


@pytest.mark.parametrize(
    "value, effective",
    [("20", "20"), ("2", "4"), ("40", "30"), ("0", "28"), ("abc", "28"), ("12x", "12")],
)
def test_user_timeout_is_read_as_openblas_reads_it(value, effective):
    # atoi, then 0 or less: OpenBLAS's default; else clamped to 4-30 (its blas_server.c)
    assert _run(SHOW.format(var="OPENBLAS_THREAD_TIMEOUT"), OPENBLAS_THREAD_TIMEOUT=value) == [
        value,
        effective,
    ]
