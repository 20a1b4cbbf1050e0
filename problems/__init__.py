"""The paper's experiments as runnable programs: python -m problems.<name> --help."""

# rbptk before NumPy: its thread-pool defaults must precede OpenBLAS's loading
# (rbptk/_threads.py).
import rbptk  # noqa: F401
