"""The README's usage example runs and does what it says; every Python example
in the README and docs/ compiles, and runs unless it needs a cluster."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_usage_example_runs(capsys):
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    grads, info = namespace["grads"], namespace["info"]
    assert info.status.value == "max_iter" and info.iterations == 20
    assert grads["W"].shape == (64, 64)
    assert "Status.MAX_ITER" in capsys.readouterr().out


DOCS = sorted((README.parent / "docs").glob("*.md")) + [README]
NEEDS_A_CLUSTER = ("dask_jobqueue", "dask_cuda")  # site-specific set-ups: compiled only


def python_blocks():
    for path in DOCS:
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", path.read_text(), re.S)):
            yield pytest.param(code, id=f"{path.name}-{i}")


@pytest.mark.parametrize("code", list(python_blocks()))
def test_every_python_example_in_the_docs_compiles_and_runs(code, capsys):
    compiled = compile(code, "example", "exec")  # a syntax error fails here
    if any(name in code for name in NEEDS_A_CLUSTER):
        return
    exec(compiled, {})
