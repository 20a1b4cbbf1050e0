"""One GRU graph-network step, part by part, against JAX-jit's whole step.

    python -m benchmarks.step_floor                      # gnn-cora, gnn-pubmed
    python -m benchmarks.step_floor --rounds 15 --out results/step-floor.json

TBPTT's and Neumann-RBP's gradients are 100 forward steps and K = 5 products,
so their ratio to JAX's is close to the ratio of one forward step. Each timed
callable runs 100 steps (or 100 calls of one part, on the step's own arrays);
the callables take turns within each round and the table gives medians over
the rounds, per step. "tanh32 of 3nD values" is the arithmetic of the gate
pass's three tanh per entry (the sigmoids are tanh too) on one thread, about
twice the gate pass's floor on two. "left at 0.8" is 0.8 x JAX's step less rbptk's two
GEMMs: the time the gather, the gate pass and the residual would have to fit
in for issue 16's target. Needs the 'compare' extra (jax) for the JAX column;
writes a JSON record with the machine.
"""

from __future__ import annotations

import pathlib

import numpy as np

from problems import common
from rbptk import kernels
from rbptk.kernels.tanh32 import tanh32

from . import cases
from .peers import case_data
from .timing import measure_interleaved

STEPS = 100
GNN_CASES = ("gnn-cora", "gnn-pubmed")


def jax_steps(case):
    """A callable running JAX-jit's 100 forward steps (one compiled loop), or None."""
    try:
        import jax
    except ImportError:
        return None
    from .peers import jax_peer

    step, _, params, h0 = jax_peer.gnn(case_data(case))
    run = jax.jit(lambda p, h: jax.lax.fori_loop(0, STEPS, lambda _, h: step(p, h), h))
    return lambda: run(params, h0).block_until_ready()


def parts(case):
    """{name: callable running 100 of it}: rbptk's whole step and each pass of it."""
    net, h, p = case.dynamics, case.h0, case.params
    A, _ = net.graph(np, h.dtype)
    m = kernels.spmm(A, h)
    W_ih, W_hh = p["W_ih"].T, p["W_hh"].T
    gi, gh = m @ W_ih, h @ W_hh
    h1 = net.step(h, p)
    scratch = np.empty_like(gi)

    def repeat(fn):
        def run():
            for _ in range(STEPS):
                fn()

        return run

    def forward():
        x = h
        for _ in range(STEPS):
            x = net.step(x, p)

    return {
        "rbptk step": forward,
        "SpMM A h": repeat(lambda: kernels.spmm(A, h)),
        "GEMM m W_ih^T": repeat(lambda: m @ W_ih),
        "GEMM h W_hh^T": repeat(lambda: h @ W_hh),
        "gate pass": repeat(lambda: kernels.gru_forward(gi, gh, p["b_ih"], p["b_hh"], h, False)),
        "residual": repeat(lambda: kernels.diff_norm(h1, h)),
        "tanh 3nD": repeat(lambda: tanh32(gi, scratch)),
    }


def row(name, rounds):
    case = cases.build(name)
    fns = parts(case)
    jax_run = jax_steps(case)
    if jax_run is not None:
        fns["JAX step"] = jax_run
    times = measure_interleaved(list(fns.values()), rounds)
    ms = {k: 1e3 * t["median"] / STEPS for k, t in zip(fns, times, strict=True)}
    gemms = ms["GEMM m W_ih^T"] + ms["GEMM h W_hh^T"]
    out = {"case": name, "n": case.h0.shape[0], "D": case.h0.shape[1], **ms, "GEMMs": gemms,
           "rest now": ms["SpMM A h"] + ms["gate pass"] + ms["residual"]}  # fmt: skip
    if "JAX step" in ms:
        out["left at 0.8"] = 0.8 * ms["JAX step"] - gemms
        out["rbptk / JAX"] = ms["rbptk step"] / ms["JAX step"]
    return out


COLUMNS = [
    ("case", "case", "s"),
    ("JAX step", "JAX step", ".3f"),
    ("rbptk step", "rbptk step", ".3f"),
    ("rbptk / JAX", "ratio", ".2f"),
    ("GEMMs", "rbptk GEMMs", ".3f"),
    ("SpMM A h", "SpMM", ".3f"),
    ("gate pass", "gates", ".3f"),
    ("residual", "residual", ".3f"),
    ("tanh 3nD", "tanh32 of 3nD values, 1 thread", ".3f"),
    ("rest now", "SpMM + gates + residual", ".3f"),
    ("left at 0.8", "left for them at 0.8 x JAX", ".3f"),
]


def main(argv=None):
    parser = common.Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", **common.choice_list_option(GNN_CASES))
    parser.add_argument("--rounds", type=common.integer(1), default=9)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("results/step-floor.json"))
    args = parser.parse_args(argv)
    rows = [row(name, args.rounds) for name in args.cases.split(",")]
    machine = common.machine()
    print(f"\nms per forward step, medians of {args.rounds} rounds of {STEPS}, {machine}\n")
    columns = [c for c in COLUMNS if all(c[0] in r for r in rows)]
    print(common.format_table(rows, columns))
    common.write_record(args.out, {"config": vars(args), "rows": rows}, indent=1)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
