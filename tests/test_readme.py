"""The README's usage example runs and does what it says."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_usage_example_runs(capsys):
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    grads, info = namespace["grads"], namespace["info"]
    assert info.status.value == "max_iter" and info.iterations == 20
    assert grads["W"].shape == (64, 64)
    assert "Status.MAX_ITER" in capsys.readouterr().out
