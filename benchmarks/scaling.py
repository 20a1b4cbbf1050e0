"""Per-iteration cost of the adjoint loops against the iteration count K: it
must stay flat (no work that grows with the residual history)."""

from __future__ import annotations

import numpy as np

import rbptk
from rbptk.models import TanhRNN

from .timing import measure

KS = (1_000, 10_000, 100_000)


def scaling(ks=KS, repeats=5, n=64, progress=print):
    """Rows of microseconds per iteration for rbp and neumann at each K, on a
    contractive n-unit tanh RNN (||W|| = 0.5) linearised at its fixed point."""
    params = TanhRNN.init_params(n, 8, scale=0.5, seed=0)
    model, x = TanhRNN(), np.ones(8)
    traj = rbptk.forward(model, np.zeros(n), params, 200, inputs=lambda t: x)
    g = np.ones(n)
    rows = []
    for method in ("rbp", "neumann"):
        solve = getattr(rbptk.methods, method)
        for K in ks:
            t = measure(lambda s=solve, K=K: s(model, traj, params, g, K=K), repeats=repeats)
            per = {k: 1e6 * v / K for k, v in t.items()}
            rows.append({"method": method, "K": K, "us_per_iteration": per})
            progress(f"  scaling {method} K={K}: {per['median']:.2f} us per iteration")
    return rows


def table(rows):
    from problems.common import format_table

    def us(t):
        return f"{t['median']:.2f} ({t['min']:.2f}-{t['max']:.2f})"

    first = {r["method"]: r["us_per_iteration"]["median"] for r in rows if r["K"] == rows[0]["K"]}
    return format_table(
        [
            {
                "method": r["method"],
                "K": r["K"],
                "us": us(r["us_per_iteration"]),
                "ratio": r["us_per_iteration"]["median"] / first[r["method"]],
            }
            for r in rows
        ],
        [
            ("method", "method", "s"),
            ("K", "K", "d"),
            ("us", "us per iteration (min-max)", "s"),
            ("ratio", f"/ K = {rows[0]['K']}", ".2f"),
        ],
    )
