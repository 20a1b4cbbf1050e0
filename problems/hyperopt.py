"""Hyperparameter optimisation through SGD (Liao et al. 2018, experiment 3).

An MLP (784-50-50-50-10, tanh) is trained for T = 100 steps of SGD with
momentum on 10,000 mean-centred MNIST images; the meta-parameters are one
learning rate exp(theta) and one momentum sigmoid(phi) per weight/bias tensor.
The meta-objective is the training cross-entropy after the inner loop; its
gradient with respect to (theta, phi) comes from the chosen method, and Adam
updates the meta-parameters.

    python -m problems.hyperopt                 # quick demo, all methods
    python -m problems.hyperopt --full          # 100 meta-iterations, lr x0.1 at 50
"""

from __future__ import annotations

import functools
import math
import pathlib

import numpy as np

import rbptk
from rbptk.models import MLP, SGDMomentumStep
from rbptk.registry import spec

from . import common, runner
from .data.mnist import load_mnist_train

SIZES = (784, 50, 50, 50, 10)
TENSORS = ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"]


@functools.lru_cache(maxsize=2)
def load(n_train=10_000, n_val=10_000):
    """Mean-centred images (pixels / 255 minus the training mean) and one-hot
    labels (cached per process; callers must not modify them)."""
    images, labels = load_mnist_train()
    X = images[: n_train + n_val].reshape(-1, 784).astype(np.float64) / 255.0
    X -= X[:n_train].mean(axis=0)
    Y = np.eye(10)[labels[: n_train + n_val]]
    return (X[:n_train], Y[:n_train]), (X[n_train:], Y[n_train:])


def minibatch_schedule(n, batch, steps, seed):
    """Index arrays of the T minibatches: reshuffled each epoch, seeded."""
    if not 1 <= batch <= n:
        raise ValueError(f"batch must be between 1 and n = {n}, got {batch}")
    rng = np.random.default_rng(seed)
    per_epoch = n // batch
    batches = []
    while len(batches) < steps:
        order = rng.permutation(n)
        batches += [order[i * batch : (i + 1) * batch] for i in range(per_epoch)]
    return batches[:steps]


def make_inputs(train, schedule, full_last):
    """inputs(t) = the minibatch of step t; the full training set at the last
    step when ``full_last`` (RBP-family methods, as the reference does)."""
    X, Y = train
    batches = [(X[ix], Y[ix]) for ix in schedule]
    if full_last:
        batches[-1] = (X, Y)
    return batches.__getitem__


def meta_train(method, data, args, dtype, checkpoint=None):
    """Adam on the meta-parameters from the last checkpoint (or the start);
    returns the history with the final evaluation."""
    checkpoint = checkpoint or runner.Checkpoint()
    train, val = data
    mlp = MLP(SIZES)
    step = SGDMomentumStep(mlp)
    w0 = rbptk.asarray(mlp.init(seed=args.seed, dtype=dtype))
    s0 = step.initial_state(w0)
    Xtr, Ytr = train
    full_last = not spec(method).trajectory  # methods that linearise the last step only
    saved = checkpoint.load()
    if saved:
        first, (meta, opt, hist) = saved[0] + 1, saved[1]
    else:
        first = 0
        meta = {k: rbptk.asarray(v) for k, v in step.init_params(dtype=dtype).items()}
        opt = rbptk.optim.Adam(lr=args.meta_lr)
        hist = {"meta_loss": [], "seconds": [], "statuses": {}}

    def loss_grad(s):
        w = s[: mlp.size]
        g = rbptk.get_namespace(s).zeros_like(s)
        g[: mlp.size] = mlp.grad(w, Xtr, Ytr) - mlp.wd * w  # cross-entropy only
        return mlp.loss(w, Xtr, Ytr) - 0.5 * mlp.wd * float(w @ w), g

    def hypergradient(meta, inputs, **kw):
        return common.gradient(
            args, method, step, s0, meta, loss_grad, inputs=inputs, seed=args.seed, **kw
        )

    iters = range(first, args.meta_iters)
    bar = common.progress(iters, len(iters), f"hyperopt {method}", args.quiet)
    for it in bar:
        if it == args.meta_iters // 2:
            opt.lr *= 0.1
        schedule = minibatch_schedule(len(Xtr), args.batch, args.steps, args.seed + it)
        grads, info = hypergradient(meta, make_inputs(train, schedule, full_last))
        hist["statuses"][info.status.value] = hist["statuses"].get(info.status.value, 0) + 1
        loss = info.extra["loss"]  # None when the inner loop's forward pass failed
        hist["meta_loss"].append(math.nan if loss is None else loss)
        hist["seconds"].append(info.wall_time)
        if grads is not None and all(rbptk._array.all_finite(g) for g in grads.values()):
            meta = opt.step(meta, grads)
        checkpoint.maybe_save(it, (meta, opt, hist))
    # final evaluation: one more inner loop with the learned hyperparameters
    schedule = minibatch_schedule(len(Xtr), args.batch, args.steps, args.seed + args.meta_iters)
    traj = rbptk.forward(step, s0, meta, args.steps, inputs=make_inputs(train, schedule, False))
    w = traj.h[: mlp.size]
    Xv, Yv = val
    hist["final_train_loss"] = mlp.loss(w, Xtr, Ytr)
    hist["val_loss"] = mlp.loss(w, Xv, Yv)
    hist["val_acc"] = mlp.accuracy(w, Xv, Yv)
    hist["learning_rates"] = np.exp(rbptk.to_numpy(meta["theta"]))
    hist["momenta"] = 1 / (1 + np.exp(-rbptk.to_numpy(meta["phi"])))
    _, info = hypergradient(meta, make_inputs(train, schedule, full_last), track_memory=True)
    hist["peak_mb"] = info.peak_bytes / 2**20
    return hist


def run(spec, checkpoint, options):
    """One run of the grid (problems/runner.py): meta-train ``spec['method']``;
    metrics, curves, the learned hyperparameters, status counts."""
    args = common.run_args(spec, options)
    common.use_backend(args.backend)
    train, val = load(args.n_train)
    data = tuple(tuple(rbptk.asarray(a.astype(args.dtype)) for a in part) for part in (train, val))
    hist = meta_train(args.method, data, args, np.dtype(args.dtype), checkpoint)
    return {
        "metrics": {
            "meta_first": hist["meta_loss"][0],
            "meta_last": hist["meta_loss"][-1],
            "final_train_loss": hist["final_train_loss"],
            "val_loss": hist["val_loss"],
            "val_acc": hist["val_acc"],
            "diverged": hist["statuses"].get("diverged", 0),
            "s_per_iter": float(np.median(hist["seconds"])),
            "peak_mb": hist["peak_mb"],
        },
        "curves": {"meta_loss": hist["meta_loss"], "seconds": hist["seconds"]},
        "hyperparameters": {"learning_rates": hist["learning_rates"], "momenta": hist["momenta"]},
        "statuses": hist["statuses"],
    }


def plot(groups, out):
    plt = common.pyplot()
    if plt is None:
        return []
    out = pathlib.Path(out)
    fig, ax = plt.subplots(figsize=(7, 4))
    for method, records in groups.items():
        ax.plot(np.log10(np.array(records[0]["curves"]["meta_loss"], dtype=float)), label=method)
    ax.set(
        xlabel="meta-iteration",
        ylabel="log10 training loss after the inner loop",
        title="Hyperparameter optimisation through SGD",
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "meta_loss.png", dpi=120)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    x = np.arange(len(TENSORS))
    width = 0.8 / max(1, len(groups))
    for i, (method, records) in enumerate(groups.items()):
        hyper = records[0]["hyperparameters"]
        axes[0].bar(x + i * width, hyper["learning_rates"], width, label=method)
        axes[1].bar(x + i * width, hyper["momenta"], width, label=method)
    for ax, name in zip(axes, ["learning rate exp(theta)", "momentum sigmoid(phi)"], strict=True):
        ax.set_xticks(x + 0.4 - width / 2, TENSORS)
        ax.set_title(name)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "hyperparameters.png", dpi=120)
    plt.close(fig)
    return [out / "meta_loss.png", out / "hyperparameters.png"]


TABLE = [
    ("method", "method", "s"),
    ("meta_first", "meta-loss first", ".4f"),
    ("meta_last", "meta-loss last", ".4f"),
    ("val_loss", "val loss", ".4f"),
    ("val_acc", "val acc", ".4f"),
    ("diverged", "diverged", "d"),
    ("s_per_iter", "s/meta-iter", ".3f"),
    ("peak_mb", "MB", ".1f"),
]


def specs(args, methods):
    config = common.run_config(args)
    return [runner.make_spec("hyperopt", m, s, config) for m in methods for s in args.seeds]


def report(records, out, plots=True, args=None):
    """The method table of one grid's records (means over seeds), the learned
    hyperparameters of each method's first seed; writes out/results.json."""
    config = records[0]["spec"]["config"]
    groups = common.by_method(records)
    rows = []
    for method, rs in groups.items():
        row = {"method": method, "seeds": len(rs)}
        row.update(common.mean_metrics(rs, [key for key, _, _ in TABLE[1:]]))
        row["diverged"] = int(sum(r["metrics"]["diverged"] for r in rs))
        rows.append(row)
    lines = [
        f"{m:8s} lr "
        + " ".join(f"{a:.3f}" for a in rs[0]["hyperparameters"]["learning_rates"])
        + " | momentum "
        + " ".join(f"{b:.2f}" for b in rs[0]["hyperparameters"]["momenta"])
        for m, rs in groups.items()
    ]
    common.report(
        args or common.records_args(records, out),
        {
            "table": rows,
            "methods": {m: [runner.run_summary(r) for r in rs] for m, rs in groups.items()},
        },
        f"Hyperparameter optimisation: {config['meta_iters']} meta-iterations, "
        f"T = {config['steps']}, K = {config['truncate']}, backend {config['backend']}, "
        f"{config['dtype']}",
        common.format_table(rows, TABLE),
        plot(groups, out) if plots else [],
        lines=lines,
    )
    return rows


def main(argv=None):
    parser = common.base_parser(__doc__.split("\n\n")[0], "results/hyperopt")
    parser.set_defaults(dtype="float64")
    parser.add_argument("--meta-iters", type=common.integer(1), default=10)
    parser.add_argument("--full", action="store_true", help="100 meta-iterations")
    parser.add_argument("--steps", type=common.integer(1), default=100, help="inner SGD steps T")
    parser.add_argument(
        "--truncate", type=common.integer(1), default=50, help="K for tbptt/rbp/cg/neumann"
    )
    parser.add_argument("--batch", type=common.integer(1), default=200)
    parser.add_argument(
        "--meta-lr",
        type=common.number(0, low_open=True),
        default=0.05,
        help="Adam; x0.1 at half-way",
    )
    parser.add_argument("--n-train", type=common.integer(1), default=10_000)
    args = parser.parse_args(argv)
    common.check_truncation(parser, args)
    method_names = common.selected_methods(args.method, args.forward)  # exits 2 early
    if args.n_train > 50_000:  # the rest of MNIST's 60,000 training images is the validation set
        parser.error(f"argument --n-train: must be at most 50000, got {args.n_train}")
    if args.batch > args.n_train:
        parser.error(f"argument --batch: {args.batch} exceeds --n-train {args.n_train}")
    if args.full:
        args.meta_iters = 100
    common.setup_backend(args.backend)
    records = common.run_grid(args, specs(args, method_names))
    return report(records, args.out, not args.no_plots, args)


if __name__ == "__main__":
    main()
