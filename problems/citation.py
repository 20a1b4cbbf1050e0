"""Semi-supervised document classification with a GRU graph network on Cora or
Pubmed (Liao et al. 2018, experiment 2).

Node states start at the PCA-reduced bag-of-words features and are propagated
T = 100 steps by a GRU on summed neighbour messages; a linear soft-max read-out
classifies the final states. Only the GRU weights go through the chosen
gradient method; the read-out gets its ordinary gradient. The model is selected
on validation accuracy and its TEST accuracy is reported. A baseline with no
propagation (the read-out on the PCA features) shows what propagation adds.

    python -m problems.citation --dataset cora           # quick demo, all methods
    python -m problems.citation --dataset pubmed --full  # the reference's 2000 epochs
"""

from __future__ import annotations

import math
import time

import numpy as np

import rbptk
from rbptk.models import GRUGraphNet, SoftmaxReadout

from . import common
from .data.planetoid import DATASETS, load_planetoid, pca, random_split

DEMO_EPOCHS = {"cora": 60, "pubmed": 40}


def load(name):
    """PCA features (n, D), labels (n,), adjacency (scipy CSR), number of classes."""
    features, labels, A = load_planetoid(name)
    return pca(features, DATASETS[name]["pca"]), labels, A, DATASETS[name]["classes"]


def accuracy(readout, h, params, labels, nodes):
    xp = rbptk.get_namespace(h)
    pred = xp.argmax(readout.logits(h[nodes], params), axis=1)
    return float(xp.mean(pred == labels[nodes]))


def train(net, readout, method, data, split, args, seed):
    """SGD on GRU + read-out; returns the training history of one seed."""
    h0, labels = data
    train_idx, val_idx, test_idx = split
    gru = {k: rbptk.asarray(v) for k, v in net.init_params(seed=seed, dtype=args.dtype).items()}
    out = {k: rbptk.asarray(v) for k, v in readout.init_params(seed=seed, dtype=args.dtype).items()}
    opt_gru = rbptk.optim.SGD(args.lr, args.momentum, args.weight_decay)
    opt_out = rbptk.optim.SGD(args.lr, args.momentum, args.weight_decay)
    hist = {"loss": [], "val": [], "test": [], "epoch_seconds": [], "status": {}}
    best = {"val": -1.0}
    bar = common.progress(range(args.epochs), args.epochs, f"{method} seed {seed}", args.quiet)
    for epoch in bar:
        start = time.perf_counter()
        stash = {}

        def loss_grad(h, out=out, stash=stash):
            loss, dh, stash["out"] = readout.loss_and_grads(h, out, labels, train_idx)
            return loss, dh

        grads, info = common.gradient(args, method, net, h0, gru, loss_grad, seed=seed)
        hist["status"][info.status.value] = hist["status"].get(info.status.value, 0) + 1
        if "out" not in stash:  # the forward pass failed before the loss: counted, skipped
            for key in ("loss", "val", "test"):
                hist[key].append(math.nan)
            hist["epoch_seconds"].append(time.perf_counter() - start)
            continue
        if grads is not None and all(rbptk._array.all_finite(g) for g in grads.values()):
            gru = opt_gru.step(gru, grads)
        out_before = out
        out = opt_out.step(out, stash["out"])
        hT = info.extra["h"]  # states of this epoch's forward pass, before the update
        val = accuracy(readout, hT, out_before, labels, val_idx)
        test = accuracy(readout, hT, out_before, labels, test_idx)
        hist["loss"].append(info.extra["loss"])
        hist["val"].append(val)
        hist["test"].append(test)
        hist["epoch_seconds"].append(time.perf_counter() - start)
        if val > best["val"]:
            best = {"val": val, "test": test, "epoch": epoch, "gru": gru, "out": out_before}
    hist["best"] = {k: best[k] for k in ("val", "test", "epoch")}
    hist["params"] = (best["gru"], best["out"])
    hist["rho"] = rbptk.diagnostics.spectral_radius_at_end(net, h0, best["gru"], args.steps)
    hist["peak_mb"] = peak_mb(net, readout, h0, best, labels, train_idx, method, args)
    return hist


def peak_mb(net, readout, h0, best, labels, train_idx, method, args):
    _, info = common.gradient(
        args,
        method,
        net,
        h0,
        best["gru"],
        lambda h: readout.loss_and_grads(h, best["out"], labels, train_idx)[:2],
        track_memory=True,
    )
    return info.peak_bytes / 2**20


def baseline(readout, data, split, args, seed):
    """The read-out alone on the PCA features (no propagation), same optimiser."""
    h0, labels = data
    train_idx, val_idx, test_idx = split
    out = {k: rbptk.asarray(v) for k, v in readout.init_params(seed=seed, dtype=args.dtype).items()}
    opt = rbptk.optim.SGD(args.lr, args.momentum, args.weight_decay)
    best = (-1.0, 0.0)
    for _ in range(args.epochs):
        val = accuracy(readout, h0, out, labels, val_idx)
        test = accuracy(readout, h0, out, labels, test_idx)
        best = max(best, (val, test), key=lambda p: p[0])
        out = opt.step(out, readout.loss_and_grads(h0, out, labels, train_idx)[2])
    return {"val": best[0], "test": best[1]}


def summarise(method, runs):
    tests = [r["best"]["test"] for r in runs]
    return {
        "method": method,
        "test_mean": float(np.mean(tests)),
        "test_std": float(np.std(tests)),
        "val_best": float(np.mean([r["best"]["val"] for r in runs])),
        "s_per_epoch": float(np.median([s for r in runs for s in r.get("epoch_seconds", [0])])),
        "peak_mb": float(np.mean([r.get("peak_mb", 0.0) for r in runs])),
        "rho": float(np.mean([r.get("rho", 0.0) for r in runs])),
    }


def plot(results, out, args):
    plt = common.pyplot()
    if plt is None:
        return []
    fig, ax = plt.subplots(figsize=(7, 4))
    for method, runs in results.items():
        curves = np.array([r["val"] for r in runs])
        ax.plot(np.arange(1, curves.shape[1] + 1), curves.mean(axis=0), label=method)
    ax.set(
        xlabel="epoch",
        ylabel="validation accuracy (mean over seeds)",
        title=f"{args.dataset}: GRU propagation, T = {args.steps}, K = {args.truncate}",
    )
    ax.legend()
    fig.tight_layout()
    path = out / f"val_accuracy_{args.dataset}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


def main(argv=None):
    parser = common.base_parser(__doc__.split("\n\n")[0], "results/citation")
    parser.add_argument("--dataset", default="cora", choices=sorted(DATASETS))
    parser.add_argument(
        "--epochs",
        type=common.integer(1),
        default=None,
        help="default: 60 (cora), 40 (pubmed), to stay under 10 minutes",
    )
    parser.add_argument("--full", action="store_true", help="the reference's 2000 epochs")
    parser.add_argument(
        "--seeds", type=common.integer(1), default=2, help="random splits and initialisations"
    )
    parser.add_argument("--steps", type=common.integer(1), default=100, help="propagation steps T")
    parser.add_argument(
        "--truncate", type=common.integer(1), default=5, help="K for tbptt/rbp/cg/neumann"
    )
    parser.add_argument("--lr", type=common.number(0, low_open=True), default=1e-3)
    parser.add_argument("--momentum", type=common.number(0, 1, high_open=True), default=0.9)
    parser.add_argument("--weight-decay", type=common.number(0), default=5e-4)
    args = parser.parse_args(argv)
    common.check_truncation(parser, args)
    method_names = common.selected_methods(args.method, args.forward)  # exits 2 early
    if args.full:
        args.epochs = 2000
    elif args.epochs is None:
        args.epochs = DEMO_EPOCHS[args.dataset]
    common.setup_backend(args.backend)
    features, labels_np, A, n_classes = load(args.dataset)
    net = GRUGraphNet(A, features.shape[1])
    readout = SoftmaxReadout(features.shape[1], n_classes)
    data = (rbptk.asarray(features.astype(args.dtype)), rbptk.asarray(labels_np))
    splits = [
        tuple(rbptk.asarray(ix) for ix in random_split(len(labels_np), s))
        for s in range(args.seeds)
    ]
    results = {
        m: [train(net, readout, m, data, splits[s], args, s) for s in range(args.seeds)]
        for m in method_names
    }
    base = [baseline(readout, data, splits[s], args, s) for s in range(args.seeds)]
    rows = [summarise(m, runs) for m, runs in results.items()]
    rows.append(summarise("no propagation", [{"best": b} for b in base]))
    table = common.format_table(
        rows,
        [
            ("method", "method", "s"),
            ("test_mean", "test acc", ".3f"),
            ("test_std", "+-", ".3f"),
            ("val_best", "best val", ".3f"),
            ("rho", "rho(J)", ".3f"),
            ("s_per_epoch", "s/epoch", ".3f"),
            ("peak_mb", "MB", ".1f"),
        ],
    )
    # diagnostics at the parameters the first method selected (seed 0)
    gru, out = results[next(iter(results))][0]["params"]
    h0, labels = data

    def loss_grad(h):
        return readout.loss_and_grads(h, out, labels, splits[0][0])[:2]

    diag = common.diagnostics(net, h0, gru, loss_grad, None, args.steps, args.truncate)
    for runs in results.values():
        for r in runs:
            r.pop("params")
    args.out.mkdir(parents=True, exist_ok=True)
    plots = [] if args.no_plots else plot(results, args.out, args)
    common.report(
        args,
        {"table": rows, "methods": results},
        f"{args.dataset}: {len(labels_np)} nodes, {A.nnz} directed edges, D = {net.D}, "
        f"{args.epochs} epochs x {args.seeds} seeds, backend {args.backend}",
        table,
        plots,
        diag,
        f"{next(iter(results))}'s selected parameters",
    )
    return rows


if __name__ == "__main__":
    main()
