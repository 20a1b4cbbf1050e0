"""The paper's experiments as runnable programs: python -m problems.<name> --help."""
