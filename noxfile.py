"""Developer sessions: nox -s tests | tests_gpu | lint | bench | docs."""

import nox

nox.options.sessions = ["tests", "lint"]


@nox.session
def tests(session):
    """CPU test suite (GPU tests skip with their reason)."""
    session.install("-e", ".[test,problems,cluster]")
    session.run("pytest", *session.posargs)


@nox.session
def tests_gpu(session):
    """GPU tests only; needs CuPy and a CUDA device (CUDA 12 wheels)."""
    session.install("-e", ".[test,problems,gpu]")
    session.run("python", "-c", "import rbptk; rbptk.set_backend('gpu')")
    session.run("pytest", "-m", "gpu", *session.posargs)


@nox.session
def lint(session):
    """ruff over the whole tree."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def bench(session):
    """Benchmarks: method against method, the truncation sweep, kernels, and the
    PyTorch / JAX peers (the 'compare' extra; torch 2.13.0 is the CPU build)."""
    session.install("torch==2.13.0")
    session.install("-e", ".[problems,compare]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def docs(session):
    """The examples in rbptk's docstrings, run as doctests."""
    session.install("-e", ".[test]")
    session.run("pytest", "--doctest-modules", "rbptk", "-q")
