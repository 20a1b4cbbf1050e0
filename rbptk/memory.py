"""Peak extra memory of a block of code: tracemalloc for NumPy, a CuPy memory
hook on the GPU (bytes taken from CuPy's memory pool)."""

from __future__ import annotations

import contextlib
import tracemalloc

__all__ = ["peak_memory"]


class _Peak:
    bytes = 0


def _cupy_hook(cupy, peak):
    class PeakHook(cupy.cuda.MemoryHook):
        def __init__(self):
            self.name = f"rbptk_peak_{id(self)}"  # unique: nested blocks each get one
            self.current = 0

        def malloc_postprocess(self, **kw):
            self.current += kw["mem_size"]
            peak.bytes = max(peak.bytes, self.current)

        def free_postprocess(self, **kw):
            self.current -= kw["mem_size"]

    return PeakHook()


@contextlib.contextmanager
def peak_memory(gpu=False):
    """Measure the peak memory allocated inside the block, above what was live at entry.

    Parameters
    ----------
    gpu : bool
        False: host memory through ``tracemalloc`` (NumPy reports its buffers
        to it). True: device memory taken from CuPy's memory pool.

    Yields
    ------
    object
        Its ``.bytes`` attribute holds the peak once the block has exited.

    Examples
    --------
    >>> import numpy as np
    >>> with peak_memory() as peak:
    ...     x = np.ones(1000)
    >>> peak.bytes >= 8000
    True
    """
    peak = _Peak()
    if gpu:
        import cupy

        with _cupy_hook(cupy, peak):
            yield peak
        return
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    try:
        yield peak
    finally:
        peak.bytes = max(0, tracemalloc.get_traced_memory()[1] - base)
        if started:
            tracemalloc.stop()
