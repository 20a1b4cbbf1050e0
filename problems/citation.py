"""Semi-supervised document classification with a graph network on Cora or
Pubmed (Liao et al. 2018, experiment 2).

Two settings (``--setting``):

- ``contractive`` (default): a gated graph network that is a contraction by
  construction (rbptk.models.ContractiveGraphNet: normalised adjacency, the
  PCA features as input of every step, ||U||_2 <= gamma kept by a projection
  after every step), run to a fixed point (forward tolerance); there every
  implicit method computes the true implicit gradient.
- ``reference``: the reference code's model: node states start at the PCA
  features and a GRU on summed neighbour messages runs T = 100 steps;
  Kaiming-normal weights, zero biases; SGD lr 1e-3, momentum 0.9, weight decay
  5e-4. It is not a contraction (rho(J) > 1).

A linear soft-max read-out classifies the final states; only the propagation's
weights go through the chosen gradient method, the read-out gets its ordinary
gradient. The model is selected on validation accuracy and its TEST accuracy is
reported. A baseline with no propagation (the read-out on the PCA features)
shows what propagation adds; a linear propagation baseline and a two-layer GCN
on the raw features (problems/baselines.py) are the reference points.

    python -m problems.citation --dataset cora           # quick demo, all methods
    python -m problems.citation --dataset pubmed --full  # 2000 epochs
"""

from __future__ import annotations

import argparse
import functools
import math
import pathlib
import time

import numpy as np

import rbptk
from rbptk.models import ContractiveGraphNet, GRUGraphNet, SoftmaxReadout

from . import baselines, common, runner
from .data.planetoid import DATASETS, load_planetoid, pca, random_split

# Every default that differs by setting; a command-line value overrides it.
SETTINGS = {
    "contractive": {
        "epochs": {"cora": 300, "pubmed": 200}, "steps": 200, "truncate": 20,
        "forward_tol": 1e-5, "maxiter": 300, "rtol": 1e-7, "eta": 0.0,
        "optimizer": "adam", "lr": 1e-2, "momentum": 0.0, "weight_decay": 1e-3,
        "init": "pagerank", "prior_decay": 30.0, "z_min": 1.0, "gamma": 0.95,
    },
    "reference": {
        "epochs": {"cora": 60, "pubmed": 40}, "steps": 100, "truncate": 5,
        "forward_tol": None, "maxiter": None, "rtol": None, "eta": None,
        "optimizer": "sgd", "lr": 1e-3, "momentum": 0.9, "weight_decay": 5e-4,
        "init": "reference", "prior_decay": None, "z_min": None, "gamma": None,
    },
}  # fmt: skip


@functools.lru_cache(maxsize=4)
def load(name):
    """PCA features (n, D), labels (n,), adjacency (scipy CSR), number of classes
    (cached: a worker process loads each dataset once)."""
    features, labels, A = load_planetoid(name)
    return pca(features, DATASETS[name]["pca"]), labels, A, DATASETS[name]["classes"]


def problem(args, seed):
    """The model, read-out, data (features X, labels), split of one seed and the
    initial state h0, on the current backend."""
    features, labels, A, n_classes = load(args.dataset)
    if args.setting == "contractive":  # unit RMS: Pubmed's PCA features are 7x smaller than Cora's
        features = features / np.sqrt(np.mean(features**2))
    X = features.astype(args.dtype)
    D = X.shape[1]
    if args.setting == "contractive":
        net = ContractiveGraphNet(A, X, D, z_min=args.z_min, gamma=args.gamma)
        h0 = rbptk.asarray(np.zeros_like(X))
    else:
        net, h0 = GRUGraphNet(A, D), rbptk.asarray(X)
    readout = SoftmaxReadout(D, n_classes)
    data = (rbptk.asarray(X), rbptk.asarray(labels))
    split = tuple(rbptk.asarray(ix) for ix in random_split(len(labels), seed))
    return net, readout, data, split, h0


def accuracy(readout, h, params, labels, nodes):
    xp = rbptk.get_namespace(h)
    pred = xp.argmax(readout.logits(h[nodes], params), axis=1)
    return float(xp.mean(pred == labels[nodes]))


def optimizer(args, weight_decay=None):
    """Adam (decay added to the gradient by ``decayed``), or SGD with momentum
    and its own weight decay (``weight_decay``, default --weight-decay)."""
    if args.optimizer == "adam":
        return rbptk.optim.Adam(args.lr)
    return rbptk.optim.SGD(args.lr, args.momentum, args.weight_decay if weight_decay is None
                           else weight_decay)  # fmt: skip


def decayed(grads, params, args, anchor=None):
    """The gradient plus the decay the optimiser does not apply itself: with
    ``anchor`` (the propagation's initial point; --prior-decay) prior_decay *
    (params - anchor), decay towards that point (L2-SP); else, for Adam,
    weight_decay * params (SGD applies its own)."""
    if anchor is not None:
        return {k: g + args.prior_decay * (params[k] - anchor[k]) for k, g in grads.items()}
    if args.optimizer != "adam" or not args.weight_decay:
        return grads
    return {k: g + args.weight_decay * params[k] for k, g in grads.items()}


def initial_state(net, readout, args, seed):
    """Parameters (--init), optimisers, the anchor of --prior-decay, history."""
    if args.setting == "reference":  # the reference's init, or PyTorch's (--init random)
        scheme = "reference" if args.init == "reference" else "pytorch"
        net_params = net.init_params(seed=seed, dtype=args.dtype, scheme=scheme)
        out = readout.init_params(seed=seed, dtype=args.dtype, scheme=scheme)
    else:
        net_params = net.init_params(seed=seed, dtype=args.dtype, scheme=args.init)
        out = readout.init_params(seed=seed, dtype=args.dtype)
    gru = {k: rbptk.asarray(v) for k, v in net_params.items()}
    prior = bool(args.prior_decay)
    return {
        "gru": gru,
        "out": {k: rbptk.asarray(v) for k, v in out.items()},
        "anchor": {k: v.copy() for k, v in gru.items()} if prior else None,
        "opt_gru": optimizer(args, 0.0 if prior else None),
        "opt_out": optimizer(args),
        "hist": {"loss": [], "val": [], "test": [], "epoch_seconds": [], "statuses": {}},
        "best": {"val": -1.0},
    }


def train(net, readout, method, data, split, h0, args, seed, checkpoint=None):
    """The propagation and the read-out trained from the last checkpoint (or the
    start), from initial state h0; returns the training history of one seed,
    with the selected parameters under "params"."""
    checkpoint = checkpoint or runner.Checkpoint()
    labels = data[1]
    train_idx, val_idx, test_idx = split
    saved = checkpoint.load()
    first, st = (saved[0] + 1, saved[1]) if saved else (0, initial_state(net, readout, args, seed))
    hist = st["hist"]
    epochs = range(first, args.epochs)
    bar = common.progress(epochs, len(epochs), f"{method} seed {seed}", args.quiet)
    for epoch in bar:
        start = time.perf_counter()
        stash = {}

        def loss_grad(h, out=st["out"], stash=stash):
            loss, dh, stash["out"] = readout.loss_and_grads(h, out, labels, train_idx)
            return loss, dh

        grads, info = common.gradient(args, method, net, h0, st["gru"], loss_grad, seed=seed)
        status = info.status.value
        hist["statuses"][status] = hist["statuses"].get(status, 0) + 1
        if "out" not in stash:  # the forward pass failed before the loss: counted, skipped
            for key in ("loss", "val", "test"):
                hist[key].append(math.nan)
        else:
            if grads is not None and all(rbptk._array.all_finite(g) for g in grads.values()):
                update = decayed(grads, st["gru"], args, st.get("anchor"))
                st["gru"] = st["opt_gru"].step(st["gru"], update)
                if hasattr(net, "project"):  # keep the contraction after every step
                    st["gru"] = net.project(st["gru"])
            out_before = st["out"]
            st["out"] = st["opt_out"].step(out_before, decayed(stash["out"], out_before, args))
            hT = info.extra["h"]  # states of this epoch's forward pass, before the update
            val = accuracy(readout, hT, out_before, labels, val_idx)
            hist["loss"].append(info.extra["loss"])
            hist["val"].append(val)
            hist["test"].append(accuracy(readout, hT, out_before, labels, test_idx))
            if val > st["best"]["val"]:
                st["best"] = {"val": val, "test": hist["test"][-1], "epoch": epoch,
                              "gru": st["gru"], "out": out_before}  # fmt: skip
        hist["epoch_seconds"].append(time.perf_counter() - start)
        checkpoint.maybe_save(epoch, st)
    best = st["best"]
    hist["best"] = {k: best.get(k) for k in ("val", "test", "epoch")}
    hist["params"] = (best.get("gru", st["gru"]), best.get("out", st["out"]))
    hist["rho"] = rbptk.diagnostics.spectral_radius_at_end(net, h0, hist["params"][0], args.steps)
    hist["peak_mb"] = peak_mb(net, readout, h0, hist["params"], labels, train_idx, method, args)
    return hist


def peak_mb(net, readout, h0, params, labels, train_idx, method, args):
    gru, out = params
    _, info = common.gradient(
        args,
        method,
        net,
        h0,
        gru,
        lambda h: readout.loss_and_grads(h, out, labels, train_idx)[:2],
        track_memory=True,
    )
    return info.peak_bytes / 2**20


def baseline(readout, data, split, args, seed):
    """The read-out alone on the PCA features (no propagation), same optimiser."""
    X, labels = data
    train_idx, val_idx, test_idx = split
    out = {k: rbptk.asarray(v) for k, v in readout.init_params(seed=seed, dtype=args.dtype).items()}
    opt = optimizer(args)
    best = (-1.0, 0.0)
    for _ in range(args.epochs):
        val = accuracy(readout, X, out, labels, val_idx)
        test = accuracy(readout, X, out, labels, test_idx)
        best = max(best, (val, test), key=lambda p: p[0])
        grads = readout.loss_and_grads(X, out, labels, train_idx)[2]
        out = opt.step(out, decayed(grads, out, args))
    return {"val": best[0], "test": best[1]}


BASELINE = "no propagation"


def run(spec, checkpoint, options):
    """One run of the grid (problems/runner.py): train ``spec['method']`` on the
    seed's split; metrics, curves, status counts, the no-propagation baseline of
    the same seed (and the diagnostic tables at the selected parameters when asked)."""
    args = common.run_args(spec, options)
    common.use_backend(args.backend)
    args.dataset, args.setting = spec["dataset"], spec["setting"]
    net, readout, data, split, h0 = problem(args, args.seed)
    hist = train(net, readout, args.method, data, split, h0, args, args.seed, checkpoint)
    result = {
        "metrics": {
            **hist["best"],
            "rho": hist["rho"],
            "peak_mb": hist["peak_mb"],
            "s_per_epoch": float(np.median(hist["epoch_seconds"])),
        },
        "baseline": baseline(readout, data, split, args, args.seed),
        "curves": {k: hist[k] for k in ("loss", "val", "test", "epoch_seconds")},
        "statuses": hist["statuses"],
    }
    if options.get("diagnose"):
        gru, out = hist["params"]
        labels = data[1]

        def loss_grad(h):
            return readout.loss_and_grads(h, out, labels, split[0])[:2]

        if args.setting == "contractive":  # a fixed point: compare with the exact gradient
            result["diagnostics"] = {
                "forward_study": rbptk.diagnostics.forward_study(
                    net, h0, gru, None, budget=10 * args.steps
                ),
                **exact_agreement(net, readout, h0, hist["params"], data, split, args),
            }
        else:
            result["diagnostics"] = common.diagnostics(
                net, h0, gru, loss_grad, None, args.steps, args.truncate
            )
    return result


def exact_agreement(net, readout, h0, params, data, split, args):
    """The contractive setting's agreement table: every implicit method at the
    program's budget (--maxiter, --rtol, --eta) against the exact implicit
    gradient, GMRES to 1e-12 at the fixed point, all in float64."""
    gru, out = ({k: v.astype(np.float64) for k, v in p.items()} for p in params)
    labels, train_idx = data[1], split[0]

    def loss_grad(h):
        return readout.loss_and_grads(h, out, labels, train_idx)[:2]

    methods = ["rbp", "cg", "neumann", "gmres", "bicgstab"]
    options = {m: common.budget(m, args) for m in methods}
    rows = rbptk.diagnostics.implicit_agreement(
        net, h0.astype(np.float64), gru, loss_grad, methods, options=options
    )
    reference = ("the exact implicit gradient (GMRES to rtol 1e-12 at the fixed point, float64; "
                 "each method at the program's budget)")  # fmt: skip
    return {"agreement": rows, "agreement_reference": reference}


def initial_agreement(args):
    """The reference setting's agreement table at seed 0's initial parameters,
    before any training: no update gate is saturated there, so BPTT's gradient
    is not zero as it can be at the selected parameters. Recomputed by the
    report (deterministic; under a minute on Pubmed). An option that older
    records lack (--init, --prior-decay) takes the setting's default, which
    they ran."""
    args = argparse.Namespace(**{**SETTINGS["reference"], **vars(args)})
    net, readout, data, split, h0 = problem(args, 0)
    state = initial_state(net, readout, args, 0)

    def loss_grad(h):
        return readout.loss_and_grads(h, state["out"], data[1], split[0])[:2]

    return rbptk.diagnostics.bptt_agreement(
        net, h0, state["gru"], loss_grad, None, args.steps, args.truncate,
        common.AGREEMENT_METHODS,
    )  # fmt: skip


def summarise(method, records):
    """A table row: test accuracy at the best validation epoch, mean and std over seeds."""
    mean = common.mean_metrics(records, ["test", "val", "rho", "s_per_epoch", "peak_mb"])
    return {
        "method": method,
        "test_mean": mean["test"],
        "test_std": float(np.std([r["metrics"]["test"] for r in records])),
        "val_best": mean["val"],
        "seeds": len(records),
        "rho": mean["rho"],  # None (n/a) for the baseline
        "s_per_epoch": mean["s_per_epoch"],
        "peak_mb": mean["peak_mb"],
    }


TABLE = [
    ("method", "method", "s"),
    ("test_mean", "test acc", ".3f"),
    ("test_std", "+-", ".3f"),
    ("val_best", "best val", ".3f"),
    ("seeds", "seeds", "d"),
    ("rho", "rho(J)", ".3f"),
    ("s_per_epoch", "s/epoch", ".3f"),
    ("peak_mb", "MB", ".1f"),
]


def plot(groups, out, dataset, config):
    plt = common.pyplot()
    if plt is None:
        return []
    fig, ax = plt.subplots(figsize=(7, 4))
    for method, records in groups.items():
        curves = np.array([r["curves"]["val"] for r in records], dtype=float)
        ax.plot(np.arange(1, curves.shape[1] + 1), curves.mean(axis=0), label=method)
    ax.set(
        xlabel="epoch",
        ylabel="validation accuracy (mean over seeds)",
        title=f"{dataset}: GRU propagation, T = {config['steps']}, K = {config['truncate']}",
    )
    ax.legend()
    fig.tight_layout()
    path = pathlib.Path(out) / f"val_accuracy_{dataset}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


def specs(args, method_names):
    """The grid: every method x every seed."""
    config = common.run_config(args, exclude=("dataset", "setting"))
    return [
        runner.make_spec("citation", m, s, config, dataset=args.dataset, setting=args.setting)
        for m in method_names
        for s in args.seeds
    ]


def report(records, out, plots=True, args=None):
    """Print (and write to out/results.json) the table of one grid's records:
    one row per method, the baseline last, the diagnostic tables when a record
    has them; return the rows."""
    spec0 = records[0]["spec"]
    config, dataset = spec0["config"], spec0["dataset"]
    groups = common.by_method(records)
    rows = [summarise(m, rs) for m, rs in groups.items()]
    first = next(iter(groups.values()))  # the baseline of each seed, from one method's runs
    rows.append(summarise(BASELINE, [{"metrics": r["baseline"]} for r in first]))
    seeds = tuple(sorted({r["spec"]["seed"] for r in records}))
    rows += baselines.baseline_rows(dataset, seeds)  # recomputed: deterministic, seconds
    features, labels, A, _ = load(dataset)
    diag = next((r for r in records if "diagnostics" in r), None)
    args = args or common.records_args(records, out)
    tables = diag and diag["diagnostics"]
    if tables and spec0.get("setting") == "reference":
        tables = {**tables, "agreement_initial": initial_agreement(args)}
    written = plot(groups, out, dataset, config) if plots else []
    common.report(
        args,
        {
            "table": rows,
            "methods": {m: [runner.run_summary(r) for r in rs] for m, rs in groups.items()},
        },
        f"{dataset}, setting {spec0.get('setting', 'GRU with PyTorch initialisation')}: "
        f"{len(labels)} nodes, {A.nnz} directed edges, D = {features.shape[1]}, "
        f"{config['epochs']} epochs x {len(seeds)} seeds, T = {config['steps']}"
        + (f" or to tolerance {config['forward_tol']:g}" if config.get("forward_tol") else "")
        + f", K = {config['truncate']}"
        + (
            f", adjoint solves to rtol {config['rtol']:g} in at most {config['maxiter']} iterations"
            if config.get("rtol")
            else ""
        )
        + f", backend {config['backend']}",
        common.format_table(rows, TABLE),
        written,
        tables,
        diag and f"{diag['spec']['method']}'s selected parameters, seed {diag['spec']['seed']}",
    )
    return rows


def main(argv=None):
    parser = common.base_parser(__doc__.split("\n\n")[0], "results/citation", seeds="2")
    parser.add_argument("--dataset", default="cora", choices=sorted(DATASETS))
    parser.add_argument(
        "--setting",
        default="contractive",
        choices=sorted(SETTINGS),
        help="contractive: a contractive gated graph network run to its fixed point; "
        "reference: the reference code's GRU network (its defaults: SETTINGS in the code)",
    )
    parser.add_argument(
        "--epochs",
        type=common.integer(1),
        default=None,
        help="default: contractive 300 (cora) / 200 (pubmed), reference 60 / 40",
    )
    parser.add_argument("--full", action="store_true", help="2000 epochs (the reference's)")
    parser.add_argument(
        "--steps", type=common.integer(1), default=None, help="propagation steps T (the most)"
    )
    parser.add_argument(
        "--forward-tol",
        type=common.number(0, low_open=True),
        default=None,
        help="stop the forward pass at this relative step (contractive: 1e-5)",
    )
    parser.add_argument(
        "--truncate", type=common.integer(1), default=None, help="K for tbptt/rbp/cg/neumann"
    )
    parser.add_argument(
        "--maxiter", type=common.integer(1), default=None,
        help="iteration budget of the adjoint solve (rbp, cg, neumann, gmres, bicgstab); "
        "contractive 300, reference: --truncate",
    )  # fmt: skip
    parser.add_argument(
        "--rtol", type=common.number(0, low_open=True), default=None,
        help="stop the adjoint solve at this relative tolerance (contractive 1e-7; "
        "reference: rbptk's defaults)",
    )  # fmt: skip
    parser.add_argument(
        "--eta", type=common.number(0), default=None,
        help="CG's damping (contractive 0: I - J^T is non-singular; reference: rbptk's 1e-5)",
    )  # fmt: skip
    parser.add_argument(
        "--init", choices=["pagerank", "random", "reference"], default=None,
        help="initial propagation weights: pagerank (contractive; U = gamma I, W_x = "
        "(1 - gamma) I), random, or the reference code's (reference setting)",
    )  # fmt: skip
    parser.add_argument(
        "--prior-decay", type=common.number(0), default=None,
        help="decay the propagation weights towards their initial point with this "
        "coefficient (instead of --weight-decay, which the read-out keeps); contractive 30",
    )  # fmt: skip
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default=None)
    parser.add_argument("--lr", type=common.number(0, low_open=True), default=None)
    parser.add_argument("--momentum", type=common.number(0, 1, high_open=True), default=None)
    parser.add_argument("--weight-decay", type=common.number(0), default=None)
    parser.add_argument(
        "--z-min", type=common.number(0, 1, low_open=True), default=None,
        help="contractive: lower bound of the update gate",
    )  # fmt: skip
    parser.add_argument(
        "--gamma", type=common.number(0, low_open=True), default=None,
        help="contractive: bound on ||U||_2 (gamma^2 < z_min for a contraction)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    defaults = SETTINGS[args.setting]
    for key, value in defaults.items():
        if key != "epochs" and getattr(args, key) is None:
            setattr(args, key, value)
    args.epochs = 2000 if args.full else args.epochs or defaults["epochs"][args.dataset]
    if args.setting == "contractive" and not args.gamma**2 < args.z_min:
        parser.error(f"--gamma {args.gamma} and --z-min {args.z_min}: the step contracts only "
                     "when gamma^2 < z_min")  # fmt: skip
    wrong_init = {"contractive": "reference", "reference": "pagerank"}[args.setting]
    if args.init == wrong_init:
        parser.error(f"--init {args.init} does not apply to --setting {args.setting}")
    common.check_truncation(parser, args)
    method_names = common.selected_methods(args.method, args.forward)  # exits 2 early
    common.setup_backend(args.backend)
    grid = specs(args, method_names)
    records = common.run_grid(args, grid, diagnose=grid[:1])
    return report(records, args.out, not args.no_plots, args)


if __name__ == "__main__":
    main()
