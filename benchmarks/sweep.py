"""Neumann-RBP against TBPTT over the truncation K: time and peak memory."""

from __future__ import annotations

from .methods_bench import bench_methods

KS = (5, 10, 20, 50, 100, 200, 1000)


def sweep(case, ks=KS, repeats=5, gpu=False, progress=print):
    """Rows for neumann(K) and tbptt(K) with T = max(ks) + 1 forward steps
    (the same forward for every K, so only the backward phase changes)."""
    T = max(ks) + 1
    rows = []
    for K in ks:  # the two methods timed in turn at each K
        pair = bench_methods(case, ("tbptt", "neumann"), K=K, T=T, repeats=repeats, gpu=gpu,
                             forward_phase=False)  # fmt: skip
        for r in pair:
            progress(
                f"  sweep {case.name} {r['method']} K={K}: "
                f"{1e3 * r['total']['median']:.0f} ms, {r['peak_bytes'] / 2**20:.1f} MB"
            )
        rows += pair
    return rows


def plot(rows, out):
    from problems.common import pyplot

    plt = pyplot()
    if plt is None:
        return []
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for method in ("tbptt", "neumann"):
        sel = [r for r in rows if r["method"] == method]
        ks = [r["K"] for r in sel]
        axes[0].plot(ks, [r["peak_bytes"] / 2**20 for r in sel], "o-", label=method)
        axes[1].plot(ks, [1e3 * r["backward"]["median"] for r in sel], "o-", label=method)
    axes[0].set(xscale="log", yscale="log", xlabel="truncation K", ylabel="peak memory (MB)")
    axes[1].set(
        xscale="log", yscale="log", xlabel="truncation K", ylabel="backward phase (ms, median)"
    )
    for ax in axes:
        ax.legend()
    fig.suptitle(f"{rows[0]['case']}: Neumann-RBP vs TBPTT, T = {rows[0]['T']}")
    fig.tight_layout()
    path = out / f"sweep_{rows[0]['case']}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]
