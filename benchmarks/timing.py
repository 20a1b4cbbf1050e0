"""Medians over repeats after a warm-up, and peak memory, for any callable."""

from __future__ import annotations

import time

import numpy as np

from rbptk.memory import peak_memory


def _sync(gpu):
    if gpu:
        import cupy

        cupy.cuda.Device().synchronize()


def measure(fn, repeats=5, warmup=1, gpu=False):
    """Wall time of ``fn()``: dict of median, min, max seconds over ``repeats``
    runs after ``warmup`` untimed runs (numba compiled, caches warm)."""
    for _ in range(warmup):
        fn()
    _sync(gpu)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(gpu)
        times.append(time.perf_counter() - start)
    return {"median": float(np.median(times)), "min": float(min(times)), "max": float(max(times))}


def measure_interleaved(fns, repeats=5, warmup=1, gpu=False):
    """Like :func:`measure` for several callables, run in turn within each
    repeat (f, g, f, g, ...), so that a slow phase of a shared machine hits
    all of them alike; returns one timing dict per callable."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    _sync(gpu)
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, t in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            _sync(gpu)
            t.append(time.perf_counter() - start)
    return [
        {"median": float(np.median(t)), "min": float(min(t)), "max": float(max(t))} for t in times
    ]


def copy_bandwidth(gpu=False, n_bytes=256 * 2**20, repeats=5):
    """Bytes per second of a copy of ``n_bytes`` (read + write counted), in host
    memory or, with ``gpu``, in device memory: the bandwidth floor of the
    roofline (at the default size, memory's; at a pass's own size, that of
    the level of cache it fits in)."""
    if gpu:
        import cupy as xp
    else:
        xp = np
    src = xp.ones(n_bytes // 8)
    dst = xp.empty_like(src)
    t = measure(lambda: xp.copyto(dst, src), repeats, gpu=gpu)["median"]
    return 2 * src.nbytes / t


def peak_bytes(fn, gpu=False):
    """Peak extra memory of one ``fn()`` call (tracemalloc or the CuPy pool)."""
    with peak_memory(gpu=gpu) as peak:
        fn()
    return peak.bytes


def ms(t):
    """'median (min-max)' in milliseconds."""
    return f"{1e3 * t['median']:.1f} ({1e3 * t['min']:.1f}-{1e3 * t['max']:.1f})"


def rss_peak_bytes(fn, interval=0.0005):
    """Peak resident memory above the level at the call, sampled from
    /proc/self/statm by a thread every ``interval`` seconds (Linux). Used where
    tracemalloc cannot see the allocations (PyTorch, XLA), and then for both
    sides of a comparison so they are measured alike."""
    import ctypes
    import os
    import threading

    page = os.sysconf("SC_PAGE_SIZE")
    try:  # give freed heap pages back first, so reused cache does not hide the peak
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    base, peak, done = rss(), [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            done.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        fn()
    finally:
        done.set()
        thread.join()
    return max(0, max(peak[0], rss()) - base)
