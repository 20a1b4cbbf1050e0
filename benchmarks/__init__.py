"""Time and memory benchmarks: method against method, rbptk against peers.

python -m benchmarks --help
"""

# rbptk before NumPy in every benchmark: its OpenBLAS settings (rbptk/_threads.py)
# must be in the environment when OpenBLAS is loaded.
import rbptk  # noqa: F401
