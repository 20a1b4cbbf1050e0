"""Associative memory with a continuous Hopfield network (Liao et al. 2018, experiment 1).

Trains one network per gradient method on ten binarised MNIST digits, then
presents cues with half of each digit's "on" pixels erased and scores what the
output units show. Two protocols:

- ``retrieval`` (default): cues presented at +-gain (x' = g (2x - 1), g = 4),
  training on fresh half-erased cues, batch 10, L1 on the output states. The
  network completes the erased half (docs/hopfield.md says why).
- ``reference``: the reference code's protocol: the clean image (0/1) clamped
  on the inputs in training, batch 1. It learns to copy its cue.

    python -m problems.hopfield                        # retrieval, all methods
    python -m problems.hopfield --protocol reference   # the reference's protocol
    python -m problems.hopfield --full                 # 1000 epochs, all methods
"""

from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np

import rbptk
from rbptk.models import HopfieldNet

from . import common, runner
from .data.mnist import first_of_each_digit, load_mnist_train

N_PIXELS = 784
PROTOCOLS = {
    # input gain (0: the image as is), corrupt in training, batch, quick epochs
    "retrieval": {"gain": 4.0, "train_corrupt": True, "batch": 10, "epochs": 100},
    "reference": {"gain": 0.0, "train_corrupt": False, "batch": 1, "epochs": 15},
}


def clean_images(per_digit=1):
    """The first ``per_digit`` training images of each digit, binarised
    (pixel > 0 -> 1): (784, 10 per_digit)."""
    images, labels = load_mnist_train()
    chosen = first_of_each_digit(images, labels, per_digit)
    return (chosen.reshape(-1, N_PIXELS) > 0).astype(np.float64).T


def corrupt(images, rng, fraction=0.5):
    """Switch off a random ``fraction`` (default half) of the "on" pixels of
    each column of ``images``."""
    out = images.copy()
    for j in range(images.shape[1]):
        on = np.flatnonzero(images[:, j] > 0)
        out[rng.choice(on, size=int(len(on) * fraction), replace=False), j] = 0
    return out


def encode(x, gain):
    """The cue as the input units see it: g (2x - 1) (pixels at +-g), or x itself
    when g = 0 (the reference's 0/1 encoding)."""
    return gain * (2 * x - 1) if gain > 0 else x


def l1_loss_grad(net, target):
    """h_T -> (mean |h_out - target|, dL/dh_T)."""
    xp = rbptk.get_namespace(target)
    out = net.output_slice

    def loss_grad(h):
        diff = h[out, ...] - target
        g = xp.zeros_like(h)
        g[out, ...] = xp.sign(diff) / diff.size
        return float(xp.mean(xp.abs(diff))), g

    return loss_grad


def retrieve(net, params, cues, steps):
    """Run the dynamics from each cue (columns); return the output units > 0.5."""
    h0 = net.initial_state(cues)
    traj = rbptk.forward(net, h0, params, steps, inputs=lambda t: cues, keep=1)
    return rbptk.to_numpy(traj.h[net.output_slice, ...]) > 0.5


def train(net, method, images, args, dtype, checkpoint=None):
    """Adam on the L1 loss, from the last checkpoint (or the start); returns the
    params and the training history."""
    checkpoint = checkpoint or runner.Checkpoint()
    n_images = images.shape[1]
    n_batches = -(-n_images // args.batch)
    x0 = rbptk.asarray(encode(images[:, 0], args.input_gain).astype(dtype))
    saved = checkpoint.load()
    if saved:
        first, (params, opt, rng, history) = saved[0] + 1, saved[1]
    else:
        first = 0
        params = {"P": rbptk.asarray(net.init_params(seed=args.seed, dtype=dtype)["P"])}
        opt = rbptk.optim.Adam(lr=args.lr)
        rng = np.random.default_rng(args.seed + 1)  # same order and corruptions for every method
        history = {"loss": [], "epoch_loss": [], "rho": [], "grad_seconds": [], "statuses": {}}
    epochs = range(first, args.epochs)
    bar = common.progress(epochs, len(epochs), f"hopfield {method}", args.quiet)
    for epoch in bar:
        order = rng.permutation(n_images)
        epoch_losses = []
        for b in range(n_batches):
            idx = order[b * args.batch : (b + 1) * args.batch]
            target_np = images[:, idx]
            shown_np = corrupt(target_np, rng, args.erase) if args.train_corrupt else target_np
            shown_np = encode(shown_np, args.input_gain)
            if args.batch == 1:
                target_np, shown_np = target_np[:, 0], shown_np[:, 0]
            target = rbptk.asarray(target_np.astype(dtype))
            shown = rbptk.asarray(shown_np.astype(dtype))
            grads, info = common.gradient(
                args,
                method,
                net,
                net.initial_state(shown),
                params,
                l1_loss_grad(net, target),
                inputs=lambda t, shown=shown: shown,
                seed=args.seed,
            )
            status = info.status.value
            history["statuses"][status] = history["statuses"].get(status, 0) + 1
            history["grad_seconds"].append(info.wall_time)
            if grads is None or not rbptk._array.all_finite(grads["P"]):
                continue  # never apply a non-finite update; the status count records it
            params = opt.step(params, grads)
            history["loss"].append(info.extra["loss"])
            epoch_losses.append(info.extra["loss"])
        history["epoch_loss"].append(float(np.mean(epoch_losses)) if epoch_losses else None)
        if epoch % args.rho_every == 0 or epoch == args.epochs - 1:
            h0 = net.initial_state(x0)
            rho = rbptk.diagnostics.spectral_radius_at_end(
                net, h0, params, args.steps, inputs=lambda t: x0
            )
            history["rho"].append((epoch, rho))
            history.setdefault("bptt_distance", []).append(
                (epoch, bptt_distance(net, method, params, images, args, dtype))
            )
        checkpoint.maybe_save(epoch, (params, opt, rng, history))
    return params, history


def bptt_distance(net, method, params, images, args, dtype):
    """||grad - grad_bptt|| / ||grad_bptt|| of ``method`` at ``params`` on the
    first clean digit as cue, BPTT through the plain T-step unroll (0 for
    bptt; None when either gradient failed)."""
    if method == "bptt":
        return 0.0
    x = rbptk.asarray(encode(images[:, 0], args.input_gain).astype(dtype))
    loss_grad = l1_loss_grad(net, rbptk.asarray(images[:, 0].astype(dtype)))
    plain = argparse.Namespace(**{**vars(args), "forward": "plain"})  # BPTT: the T-step unroll
    grads = [
        common.gradient(a, m, net, net.initial_state(x), params, loss_grad,
                        inputs=lambda t: x, seed=args.seed)[0]
        for a, m in ((args, method), (plain, "bptt"))
    ]  # fmt: skip
    if any(g is None for g in grads):
        return None
    diff, ref = (float(np.linalg.norm(rbptk.to_numpy(v))) for v in
                 (grads[0]["P"] - grads[1]["P"], grads[1]["P"]))  # fmt: skip
    return diff / ref if ref > 0 else None


def peak_bytes(net, method, params, images, args, dtype):
    x = rbptk.asarray(encode(images[:, 0], args.input_gain).astype(dtype))
    _, info = common.gradient(
        args,
        method,
        net,
        net.initial_state(x),
        params,
        l1_loss_grad(net, rbptk.asarray(images[:, 0].astype(dtype))),
        inputs=lambda t: x,
        track_memory=True,
    )
    return info.peak_bytes


def scores(out, clean, images, tol_pixels):
    """Retrieval scores of binary outputs ``out`` (784, n) for cues of the
    digits ``clean`` (784, n): pixel error against the clean digit, strict
    success (at most ``tol_pixels`` of the pixels wrong) and nearest-pattern
    success (closer in Hamming distance to its own digit than to every other
    stored digit; ties count as failures)."""
    truth = clean > 0.5
    wrong = (out != truth).sum(axis=0)
    stored = images > 0.5
    distances = (out[:, :, None] != stored[:, None, :]).sum(axis=0)  # (n, 10)
    own = (truth[:, :, None] == stored[:, None, :]).all(axis=0).argmax(axis=1)
    mine = distances[np.arange(len(own)), own]
    others = np.where(np.eye(stored.shape[1], dtype=bool)[own], np.inf, distances)
    return {
        "pixel_error": float(wrong.mean() / out.shape[0]),
        "success": float(np.mean(wrong <= tol_pixels * out.shape[0])),
        "nearest_success": float(np.mean(mine < others.min(axis=1))),
    }


def cues_for_evaluation(images, args):
    """Fresh half-erased cues, ``--eval-corruptions`` per digit (seeded): (clean, cues)."""
    rng = np.random.default_rng(args.seed + 1000)
    clean = np.repeat(images, args.eval_corruptions, axis=1)
    return clean, corrupt(clean, rng, args.erase)


def evaluate(net, params, images, args, dtype):
    """Scores on fresh corruptions, and the pixel error on the clean images."""
    clean, cues = cues_for_evaluation(images, args)
    shown = rbptk.asarray(encode(cues, args.input_gain).astype(dtype))
    out = retrieve(net, params, shown, args.steps)
    clean_shown = rbptk.asarray(encode(images, args.input_gain).astype(dtype))
    clean_out = retrieve(net, params, clean_shown, args.steps)
    return {
        **scores(out, clean, images, args.tol_pixels),
        "clean_pixel_error": float((clean_out != (images > 0.5)).mean()),
        "examples": {
            "clean": images,
            "cue": cues[:, :: args.eval_corruptions],
            "retrieved": out[:, :: args.eval_corruptions].astype(float),
        },
    }


def pack(bits):
    """Boolean image columns as hex text (for records): np.packbits, row-major."""
    return np.packbits(np.asarray(bits, dtype=bool)).tobytes().hex()


def unpack(text, shape):
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), np.uint8))[: np.prod(shape)].reshape(
        shape
    )


def run(spec, checkpoint, options):
    """One run of the grid (problems/runner.py): train ``spec['method']`` on the
    first ``stored`` digits, score recall on fresh cues; metrics, curves, status
    counts, the retrieved examples (and the diagnostic tables when asked)."""
    args = common.run_args(spec, options)
    common.use_backend(args.backend)
    dtype = np.dtype(args.dtype)
    images = clean_images(args.stored // 10)
    net = HopfieldNet(N_PIXELS, args.hidden, N_PIXELS)
    start = time.perf_counter()
    params, history = train(net, args.method, images, args, dtype, checkpoint)
    train_seconds = time.perf_counter() - start
    evaluation = evaluate(net, params, images, args, dtype)
    result = {
        "metrics": {
            **scores_of(evaluation),
            "clean_pixel_error": evaluation["clean_pixel_error"],
            "final_loss": history["epoch_loss"][-1],
            "rho": history["rho"][-1][1],
            "bptt_distance": history["bptt_distance"][-1][1],
            "diverged": history["statuses"].get("diverged", 0),
            "s_per_grad": float(np.median(history["grad_seconds"])),
            "peak_mb": peak_bytes(net, args.method, params, images, args, dtype) / 2**20,
            "train_seconds": train_seconds,
        },
        "curves": {k: history[k] for k in ("epoch_loss", "rho", "bptt_distance")},
        "statuses": history["statuses"],
        "retrieved": pack(evaluation["examples"]["retrieved"][:, :10] > 0.5),
    }
    if options.get("diagnose"):
        x0 = rbptk.asarray(encode(images[:, 0], args.input_gain).astype(dtype))
        target = rbptk.asarray(images[:, 0].astype(dtype))
        result["diagnostics"] = common.diagnostics(
            net, net.initial_state(x0), params, l1_loss_grad(net, target), lambda t: x0,
            args.steps, args.truncate,
        )  # fmt: skip
    return result


def config_args(config, seed=0):
    """A namespace of one run's config (for the cue row and the examples)."""
    return argparse.Namespace(**config, seed=seed)


def cue_scores(config, seed):
    """The ``cue`` row: the corrupted cues themselves scored as outputs."""
    args = config_args(config, seed)
    images = clean_images(config["stored"] // 10)
    clean, cues = cues_for_evaluation(images, args)
    return scores(cues > 0.5, clean, images, args.tol_pixels)


def plot(groups, out, config):
    plt = common.pyplot()
    if plt is None:
        return []
    out = pathlib.Path(out)
    fig, (ax, dist) = plt.subplots(1, 2, figsize=(12, 4))
    for method, records in groups.items():
        curves = records[0]["curves"]
        epochs = np.arange(1, len(curves["epoch_loss"]) + 1)
        color = ax.plot(epochs, curves["epoch_loss"], label=method)[0].get_color()
        points = [(e + 1, d) for e, d in curves.get("bptt_distance", []) if d]
        if points and method != "bptt":
            dist.plot(*zip(*points, strict=True), "o-", ms=3, color=color, label=method)
    ax.set(
        xlabel="epoch",
        ylabel="training L1 loss (epoch mean)",
        yscale="log",
        title=f"Hopfield net, {config['steps']} steps, truncation {config['truncate']}",
    )
    ax.legend()
    dist.set(xlabel="epoch", ylabel="||grad - grad_bptt|| / ||grad_bptt||", yscale="log",
             title="distance from BPTT's gradient (first digit)")  # fmt: skip
    dist.legend()
    fig.tight_layout()
    fig.savefig(out / "loss_curves.png", dpi=120)
    plt.close(fig)
    rows = 2 + len(groups)
    fig, axes = plt.subplots(rows, 10, figsize=(10, rows * 1.05))
    images = clean_images(config["stored"] // 10)
    cues = cues_for_evaluation(images, config_args(config))[1]
    panels = [("clean", images), ("cue", cues[:, :: config["eval_corruptions"]])]
    panels += [(m, unpack(rs[0]["retrieved"], (N_PIXELS, 10))) for m, rs in groups.items()]
    for i, (name, imgs) in enumerate(panels):
        for j in range(10):
            axes[i, j].imshow(imgs[:, j].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
        axes[i, 0].set_ylabel(name, rotation=0, ha="right", va="center")
    fig.tight_layout()
    fig.savefig(out / "retrieval.png", dpi=120)
    plt.close(fig)
    return [out / "loss_curves.png", out / "retrieval.png"]


SCORES = ("nearest_success", "success", "pixel_error")
TABLE = [
    ("method", "method", "s"),
    ("nearest_success", "nearest success", ".2f"),
    ("success", "success", ".2f"),
    ("pixel_error", "pixel error", ".4f"),
    ("final_loss", "final loss", ".4f"),
    ("rho", "rho(J)", ".3f"),
    ("bptt_distance", "dist. to bptt", ".1e"),
    ("diverged", "diverged", "d"),
    ("s_per_grad", "s/gradient", ".3f"),
    ("peak_mb", "MB", ".1f"),
]


def report(records, out, plots=True, args=None):
    """The method table of one grid's records (the ``cue`` row first), with the
    diagnostic tables when a record has them; writes out/results.json."""
    config = records[0]["spec"]["config"]
    seeds = sorted({r["spec"]["seed"] for r in records})
    groups = common.by_method(records)
    cue = [cue_scores(config, s) for s in seeds]
    rows = [{"method": "cue", **{k: float(np.mean([c[k] for c in cue])) for k in SCORES}}]
    keys = [k for k, _, _ in TABLE[1:]]
    rows += [{"method": m, **common.mean_metrics(rs, keys)} for m, rs in groups.items()]
    for row in rows[1:]:
        row["diverged"] = None if row["diverged"] is None else int(round(row["diverged"]))
    diag = next((r for r in records if "diagnostics" in r), None)
    written = plot(groups, out, config) if plots else []
    common.report(
        args or common.records_args(records, out),
        {
            "table": rows,
            "methods": {m: [runner.run_summary(r) for r in rs] for m, rs in groups.items()},
        },
        f"Hopfield associative memory, protocol {records[0]['spec']['protocol']}: "
        f"{config['epochs']} epochs, batch {config['batch']}, "
        f"input gain {config['input_gain']:g}, N = {2 * N_PIXELS + config['hidden']}, "
        f"{len(seeds)} seed(s), backend {config['backend']}, {config['dtype']}",
        common.format_table(rows, TABLE),
        written,
        diag and diag["diagnostics"],
        diag and f"first image, {diag['spec']['method']}'s parameters",
    )
    return rows


ENCODING_STUDY = [  # (input gain, half-erased cues in training)
    (0.0, True),
    (1.0, True),
    (2.0, True),
    (4.0, False),
    (4.0, True),
    (8.0, True),
]
CAPACITY_STORED = (10, 20, 50, 100)
CAPACITY_ERASED = (0.25, 0.5, 0.75)


def specs(args, methods):
    """The grid of ``args.study``: methods x seeds (default); encodings x seeds
    (encoding, one method); methods x stored x erased x seeds (capacity)."""
    config = common.run_config(args)
    protocol = config.pop("protocol")
    if args.study == "encoding":
        variants = [{"input_gain": g, "train_corrupt": c} for g, c in ENCODING_STUDY]
        methods = methods[:1]
    elif args.study == "capacity":
        variants = [{"stored": n, "erase": e} for n in CAPACITY_STORED for e in CAPACITY_ERASED]
    else:
        variants = [{}]
    return [  # method-major: a grid cut short has whole methods
        runner.make_spec("hopfield", m, s, {**config, **v}, protocol=protocol)
        for m in methods
        for v in variants
        for s in args.seeds
    ]


def scores_of(evaluation):
    return {k: evaluation[k] for k in SCORES}


def report_encoding(records, out, plots=True, args=None):
    config = records[0]["spec"]["config"]
    rows = [{"encoding": "cue itself", **cue_scores(config, records[0]["spec"]["seed"])}]
    for (gain, corrupted), rs in _grouped(records, ("input_gain", "train_corrupt")):
        rows.append(
            {
                "encoding": f"+-{gain:g}" if gain > 0 else "x in {0, 1}",
                "training_cues": "half-erased" if corrupted else "clean",
                **common.mean_metrics(rs, [*SCORES, "final_loss"]),
            }
        )
    table = common.format_table(
        rows,
        [
            ("encoding", "input encoding", "s"),
            ("training_cues", "training cues", "s"),
            ("pixel_error", "pixel error", ".4f"),
            ("nearest_success", "nearest success", ".2f"),
            ("success", "success", ".2f"),
            ("final_loss", "final loss", ".4f"),
        ],
    )
    common.report(
        args or common.records_args(records, out),
        {"table": rows},
        f"Hopfield encoding study: {records[0]['spec']['method']}, {config['epochs']} epochs, "
        f"batch {config['batch']}",
        table,
    )
    return rows


def _grouped(records, keys):
    """[(values of ``keys``, records)] in order of first appearance."""
    groups = {}
    for r in records:
        groups.setdefault(tuple(r["spec"]["config"][k] for k in keys), []).append(r)
    return list(groups.items())


def hebbian_weights(images):
    """The classical Hebbian rule on the pixels as +-1: W = xi xi^T / N, zero diagonal."""
    xi = 2 * images - 1
    W = xi @ xi.T / xi.shape[0]
    np.fill_diagonal(W, 0.0)
    return W


def projection_weights(images):
    """The projection (pseudo-inverse) rule of Personnaz et al. (1986):
    W = xi xi^+, zero diagonal; stores any linearly independent patterns."""
    xi = 2 * images - 1
    W = xi @ np.linalg.pinv(xi)
    np.fill_diagonal(W, 0.0)
    return W


CLASSICAL = {"hebbian": hebbian_weights, "projection": projection_weights}


def classical_recall(W, cues, sweeps=10, seed=0):
    """Binary Hopfield dynamics s_i <- sign(sum_j W_ij s_j) (ties to +1), units
    updated one at a time in a seeded random order, from the cues as +-1, for
    up to ``sweeps`` sweeps or until no unit changes; returns s > 0."""
    s = 2 * cues - 1.0
    rng = np.random.default_rng(seed)
    for _ in range(sweeps):
        changed = False
        for i in rng.permutation(W.shape[0]):
            new = np.where(W[i] @ s >= 0, 1.0, -1.0)
            changed = changed or bool((new != s[i]).any())
            s[i] = new
        if not changed:
            break
    return s > 0


def classical_scores(rule, config, seed):
    """Scores of a classical ``rule`` (CLASSICAL) storing the run's digits,
    on the same evaluation cues as the trained networks."""
    args = config_args(config, seed)
    images = clean_images(config["stored"] // 10)
    clean, cues = cues_for_evaluation(images, args)
    out = classical_recall(CLASSICAL[rule](images), cues)
    return scores(out, clean, images, args.tol_pixels)


def report_capacity(records, out, plots=True, args=None):
    """Rows for every (stored, erased) cell of the study: the trained methods
    whose records exist, and the classical rules (computed here, seconds)."""
    rows = []
    base, seed = records[0]["spec"]["config"], records[0]["spec"]["seed"]
    grouped = dict(_grouped(records, ("stored", "erase")))
    cells = sorted({*grouped, *((n, e) for n in CAPACITY_STORED for e in CAPACITY_ERASED)})
    for stored, erase in cells:
        cfg = {**base, "stored": stored, "erase": erase}
        cue = cue_scores(cfg, seed)["pixel_error"]
        for method, mrs in common.by_method(grouped.get((stored, erase), [])).items():
            rows.append({"method": method, "stored": stored, "erased": erase,
                         "cue_pixel_error": cue,
                         **common.mean_metrics(mrs, [*SCORES, "train_seconds"])})  # fmt: skip
        for rule in CLASSICAL:
            rows.append({"method": f"{rule} rule", "stored": stored, "erased": erase,
                         "cue_pixel_error": cue, **classical_scores(rule, cfg, seed)})  # fmt: skip
    table = common.format_table(
        rows,
        [
            ("method", "method", "s"),
            ("stored", "stored", "d"),
            ("erased", "erased", ".2f"),
            ("nearest_success", "nearest success", ".2f"),
            ("pixel_error", "pixel error", ".4f"),
            ("cue_pixel_error", "cue pixel error", ".4f"),
            ("success", "success", ".2f"),
            ("train_seconds", "train s", ".0f"),
        ],
    )
    config = records[0]["spec"]["config"]
    methods = list(common.by_method(records))
    common.report(
        args or common.records_args(records, out),
        {"table": rows},
        f"Hopfield capacity study: {', '.join(methods)}, {config['epochs']} epochs, "
        f"batch {config['batch']}, N = {2 * N_PIXELS + config['hidden']}",
        table,
        plot_capacity(rows, out) if plots else [],
    )
    return rows


def plot_capacity(rows, out):
    """One column per erased fraction: nearest-pattern success (top) and pixel
    error (bottom, symlog so that 0 shows) against the stored digits; one colour
    per method, the classical rules dashed, the cue dotted black."""
    plt = common.pyplot()
    if plt is None:
        return []
    erased = sorted({r["erased"] for r in rows})
    methods = list(dict.fromkeys(r["method"] for r in rows))
    colors = {m: f"C{i}" for i, m in enumerate(methods)}
    fig, axes = plt.subplots(
        2, len(erased), figsize=(4 * len(erased), 6.5), squeeze=False, sharey="row"
    )
    for col, erase in enumerate(erased):
        top, bottom = axes[0, col], axes[1, col]
        for method in methods:
            sel = [r for r in rows if r["method"] == method and r["erased"] == erase]
            stored = [r["stored"] for r in sel]
            style = dict(color=colors[method], marker="o", ms=4,
                         linestyle="--" if method.endswith("rule") else "-")  # fmt: skip
            top.plot(stored, [r["nearest_success"] for r in sel], label=method, **style)
            bottom.plot(stored, [r["pixel_error"] for r in sel], **style)
        cue = sorted({(r["stored"], r["cue_pixel_error"]) for r in rows if r["erased"] == erase})
        bottom.plot(*zip(*cue, strict=True), ":", color="black", label="the cue")
        top.set(title=f"{erase:.0%} of the on pixels erased", ylim=(-0.05, 1.05),
                ylabel="nearest-pattern success" if col == 0 else None)  # fmt: skip
        bottom.set(yscale="symlog", ylabel="pixel error" if col == 0 else None)
        bottom.set_yscale("symlog", linthresh=1e-4)
        for ax in (top, bottom):
            ax.set(xscale="log", xlabel="stored digits")
            ax.set_xticks([10, 20, 50, 100], ["10", "20", "50", "100"])
    axes[0, -1].legend(fontsize=7)
    axes[1, -1].legend(fontsize=7)
    fig.tight_layout()
    path = pathlib.Path(out) / "capacity.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


REPORTS = {None: report, "encoding": report_encoding, "capacity": report_capacity}


def main(argv=None):
    parser = common.base_parser(__doc__.split("\n")[0], "results/hopfield")
    parser.add_argument(
        "--protocol",
        default="retrieval",
        choices=sorted(PROTOCOLS),
        help="retrieval: +-4 cues, fresh half-erased cues in training, batch 10; "
        "reference: the reference code's clean 0/1 training, batch 1",
    )
    parser.add_argument(
        "--epochs",
        type=common.integer(1),
        default=None,
        help="passes over the stored images (default: 100 retrieval, 15 reference)",
    )
    parser.add_argument("--full", action="store_true", help="the reference's 1000 epochs")
    parser.add_argument(
        "--input-gain",
        type=common.number(0),
        default=None,
        help="cues presented as g (2x - 1); 0 presents x in {0, 1} (default: the protocol's)",
    )
    parser.add_argument("--steps", type=common.integer(1), default=50, help="forward steps T")
    parser.add_argument(
        "--truncate", type=common.integer(1), default=20, help="K for tbptt/rbp/cg/neumann"
    )
    parser.add_argument("--hidden", type=common.integer(1), default=1024, help="hidden units")
    parser.add_argument(
        "--batch",
        type=common.integer(1),
        default=None,
        help="images per gradient, 1..10 (default: 10 retrieval, 1 reference)",
    )
    parser.add_argument(
        "--lr", type=common.number(0, low_open=True), default=1e-3, help="Adam learning rate"
    )
    parser.add_argument(
        "--train-corrupt",
        action="store_true",
        help="present fresh corruptions in training (implied by --protocol retrieval)",
    )
    parser.add_argument(
        "--eval-corruptions",
        type=common.integer(1),
        default=5,
        help="corrupted cues per image at evaluation",
    )
    parser.add_argument(
        "--tol-pixels",
        type=common.number(0, 1),
        default=0.02,
        help="retrieved when at most this fraction of pixels is wrong",
    )
    parser.add_argument(
        "--rho-every", type=common.integer(1), default=5, help="epochs between rho(J) estimates"
    )
    parser.add_argument(
        "--erase",
        type=common.number(0, 1, low_open=True, high_open=True),
        default=0.5,
        help="fraction of each digit's on pixels erased in a cue",
    )
    parser.add_argument(
        "--study",
        choices=["encoding", "capacity"],
        help="encoding: recall for each input encoding and training-cue choice (neumann, "
        "or the first --method); capacity: recall for 10-100 stored digits and 25-75%% "
        "erased, for each --method (all: the five, 5 x 12 trainings)",
    )
    args = parser.parse_args(argv)
    protocol = PROTOCOLS[args.protocol]
    args.epochs = 1000 if args.full else args.epochs or protocol["epochs"]
    args.batch = args.batch or protocol["batch"]
    args.input_gain = protocol["gain"] if args.input_gain is None else args.input_gain
    args.train_corrupt = args.train_corrupt or protocol["train_corrupt"]
    args.stored = 10
    if not 1 <= args.batch <= 10:
        parser.error(f"argument --batch: must be between 1 and 10 (the images), got {args.batch}")
    common.check_truncation(parser, args)
    if args.study == "encoding" and args.method == ["all"]:
        args.method = ["neumann"]
    method_names = common.selected_methods(args.method, args.forward)  # exits 2 early
    common.setup_backend(args.backend)
    grid = specs(args, method_names)
    records = common.run_grid(args, grid, diagnose=grid[:1] if args.study is None else ())
    return REPORTS[args.study](records, args.out, not args.no_plots, args)


if __name__ == "__main__":
    main()
