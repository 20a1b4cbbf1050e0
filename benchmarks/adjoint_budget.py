"""How far each implicit method lands from the exact implicit gradient, per budget.

    python -m benchmarks.adjoint_budget                    # cora
    python -m benchmarks.adjoint_budget --dataset pubmed

The contractive citation model (problems/citation.py, float64) at the worst
case its projection allows, U = gamma I (rho(J) near gamma = 0.95), W_x =
(1 - gamma) I, the read-out at its seed-0 initialisation: every implicit method
at K = 20 iterations (the paper's budget), and at most 300 iterations with
rtol 1e-6 and 1e-7 (CG undamped), each against GMRES to 1e-12 at the fixed
point (rbptk.diagnostics.implicit_agreement). Accuracy, not time: the numbers
do not depend on the machine beyond rounding. docs/gnn.md quotes this table.
"""

from __future__ import annotations

import argparse

import numpy as np

import rbptk
from problems import citation, common

METHODS = ["rbp", "cg", "neumann", "gmres", "bicgstab"]
BUDGETS = {"K = 20": dict(maxiter=20), "rtol 1e-6": dict(maxiter=300, rtol=1e-6),
           "rtol 1e-7": dict(maxiter=300, rtol=1e-7)}  # fmt: skip


def rows(dataset):
    args = argparse.Namespace(dataset=dataset, setting="contractive", dtype=np.float64,
                              z_min=1.0, gamma=0.95)  # fmt: skip
    net, readout, data, split, h0 = citation.problem(args, 0)
    params = net.init_params(seed=0, dtype=np.float64, scheme="pagerank")
    out = readout.init_params(seed=0, dtype=np.float64)

    def loss_grad(h):
        return readout.loss_and_grads(h, out, data[1], split[0])[:2]

    table = []
    for budget, kw in BUDGETS.items():
        options = {m: {**kw, **({"eta": 0.0} if m == "cg" else {})} for m in METHODS}
        for r in rbptk.diagnostics.implicit_agreement(
            net, h0, params, loss_grad, METHODS, options=options
        )[1:]:
            table.append({"budget": budget, **r})
    return table


def main(argv=None):
    parser = common.Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="cora", choices=sorted(citation.DATASETS))
    args = parser.parse_args(argv)
    columns = [("budget", "budget", "s"), ("method", "method", "s"), ("status", "status", "s"),
               ("iterations", "iterations", "d"), ("rel_diff", "from exact", ".1e")]  # fmt: skip
    print(f"{args.dataset}, U = 0.95 I, float64, {common.machine()}\n")
    print(common.format_table(rows(args.dataset), columns))


if __name__ == "__main__":
    main()
