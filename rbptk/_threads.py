"""Thread-pool defaults, set when rbptk is imported, before NumPy and numba
load the libraries that read them. A value the user exported is kept.

On a few cores OpenBLAS's threads (the GEMMs) and numba's OpenMP threads (the
sparse and elementwise passes) share the same cores, one pool right after the
other; a pool whose idle workers spin takes cores from the next.

- ``OMP_WAIT_POLICY=passive``: numba's workers sleep between kernels (with
  spinning workers a GEMM followed by a parallel SpMM took 5.9 ms instead of
  0.34 ms on 2 cores). libgomp reads it when numba first loads it.
- ``OPENBLAS_THREAD_TIMEOUT=17``: OpenBLAS's idle workers spin for 2^17 cycles
  (about 50 us) after a call before they sleep, instead of OpenBLAS's default
  2^28 (about 0.1 s), which covers every numba pass that follows a GEMM.
  Measured on 2 cores: Pubmed's 100-step forward pass 113 ms instead of 146
  (`python -m benchmarks.thread_timeout`, its record in benchmarks/records),
  the step's gate pass 0.37 instead of 0.64 ms (docs/gnn.md). OpenBLAS reads the
  variable once, when NumPy loads it: the setting holds only where rbptk is
  imported before NumPy (the programs in problems/ and benchmarks/ are), or
  where it is exported in the shell.
"""

from __future__ import annotations

import os
import re
import sys

OPENBLAS_THREAD_TIMEOUT = 17  # OpenBLAS's exponent: workers spin 2^n cycles
_OPENBLAS_DEFAULT = 28

_user_timeout = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
_numpy_first = "numpy" in sys.modules
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", str(OPENBLAS_THREAD_TIMEOUT))
os.environ.setdefault("OMP_WAIT_POLICY", "passive")


def openblas_thread_timeout():
    """The exponent n of OpenBLAS's idle spin (2^n cycles) in this process, as
    far as rbptk can tell: the exported value if the user set one, read as
    OpenBLAS reads it (its leading integer; 0, negative or none: the default
    28; otherwise clamped to 4-30), rbptk's 17 if rbptk was imported before
    NumPy, else OpenBLAS's default 28.

    Returns
    -------
    int
    """
    if _user_timeout is None:
        return _OPENBLAS_DEFAULT if _numpy_first else OPENBLAS_THREAD_TIMEOUT
    digits = re.match(r"\s*[+-]?\d+", _user_timeout)
    n = int(digits.group()) if digits else 0
    return min(max(n, 4), 30) if n > 0 else _OPENBLAS_DEFAULT
