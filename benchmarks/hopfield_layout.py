"""Hopfield batches: W (N, N), symmetric, times B = 10 states, in each layout.

    python -m benchmarks.hopfield_layout

W @ S with the states as (N, B) columns (C or Fortran order), S^T W with the
states as (B, N) rows (W = W^T), ten GEMVs, and a numba kernel taking four rows
of W at a time against every state (multi-right-hand-side dot products), beside
one GEMV; median wall time of 30 runs with the thread counts of the
environment, and the rate in GFLOP/s.
"""

import time

import numba
import numpy as np


def wall(f, n=30):
    f()
    ts = []
    for _ in range(n):
        s = time.perf_counter()
        f()
        ts.append(time.perf_counter() - s)
    return 1e3 * np.median(ts)


@numba.njit(parallel=True, fastmath={"reassoc"}, error_model="numpy")
def multi_rhs4(W, ST, out):  # pragma: no cover - compiled
    N, B = W.shape[0], ST.shape[0]
    for q in numba.prange(N // 4):
        i0 = 4 * q
        for b in range(B):
            a0 = a1 = a2 = a3 = np.float32(0)
            for k in range(N):
                s = ST[b, k]
                a0 += W[i0, k] * s
                a1 += W[i0 + 1, k] * s
                a2 += W[i0 + 2, k] * s
                a3 += W[i0 + 3, k] * s
            out[b, i0], out[b, i0 + 1], out[b, i0 + 2], out[b, i0 + 3] = a0, a1, a2, a3


def main():
    N, B = 2592, 10
    rng = np.random.default_rng(0)
    W = rng.standard_normal((N, N)).astype(np.float32)
    W = W + W.T
    S = rng.standard_normal((N, B)).astype(np.float32)
    SF, ST, v = np.asfortranarray(S), np.ascontiguousarray(S.T), S[:, 0].copy()
    out = np.empty((B, N), np.float32)
    multi_rhs4(W, ST, out)
    np.testing.assert_allclose(out.T, W @ S, rtol=1e-3, atol=1e-2)
    rows = {
        "W @ S, S (N, B) C order": (wall(lambda: W @ S), B),
        "W @ S, S Fortran order": (wall(lambda: W @ SF), B),
        "S^T W, states (B, N)": (wall(lambda: ST @ W), B),
        "10 GEMVs": (wall(lambda: [W @ ST[b] for b in range(B)]), B),
        "numba, 4 rows x all states": (wall(lambda: multi_rhs4(W, ST, out)), B),
        "one GEMV (B = 1)": (wall(lambda: W @ v), 1),
    }
    print("| product | ms | GFLOP/s |\n|---|---|---|")
    for name, (t, b) in rows.items():
        print(f"| {name} | {t:.2f} | {2 * N * N * b / t / 1e6:.1f} |")


if __name__ == "__main__":
    main()
