"""Peers computing the same gradients with autodiff frameworks (benchmarks only;
install with pip install -e '.[compare]'). Each peer module exposes
``available(gpu)``, ``gradient(case_name, data, method, T, K, device)``
returning a callable that computes the parameter gradients as a dict of the
framework's arrays, ``finish(grads)`` (wait for the device) and
``to_numpy(grads)``; the torch peer also ``device_peak_bytes(fn)`` for CUDA."""

from __future__ import annotations

import numpy as np

import rbptk
from problems import common

from ..methods_bench import gradient_call
from ..timing import measure_interleaved, ms, peak_bytes, rss_peak_bytes

PEER_METHODS = ("bptt", "tbptt", "neumann")
PEER_CASES = ("hopfield", "gnn-cora", "gnn-pubmed")


def _peers(gpu):
    from . import jax_peer, torch_peer

    return [p for p in (torch_peer, jax_peer) if p.available(gpu)]


def case_data(case):
    """Plain NumPy float32 arrays of a case, for the peers."""
    data = {k: rbptk.to_numpy(v) for k, v in case.params.items()}
    data["h0"] = rbptk.to_numpy(case.h0)
    data.update(case.extra)
    if case.name == "hopfield":
        data["x"] = data["h0"][:784].copy()
    return data


def _flat(grads):
    return np.concatenate([np.asarray(grads[k], dtype=np.float64).ravel() for k in sorted(grads)])


def run(built, repeats, gpu):
    """Rows: rbptk against each available peer, same case, method, T and K.
    CPU memory on both sides is the peak RSS above the level at the call
    (tracemalloc does not see the frameworks' native allocations); GPU memory
    is the CuPy pool's peak against PyTorch's CUDA allocator peak."""
    peers = _peers(gpu)
    if not peers:
        missing = "no torch that sees a CUDA device" if gpu else "neither torch nor jax"
        print(f"\npeers: {missing} installed (pip install -e '.[compare]'); skipped")
        return []
    rows = []
    for name in PEER_CASES:
        if name not in built:
            continue
        case = built[name]
        data = case_data(case)
        for method in PEER_METHODS:
            ours_once = gradient_call(case, method)
            ref = _flat({k: rbptk.to_numpy(v) for k, v in ours_once()[0].items()})
            ours_mem = peak_bytes(ours_once, gpu=True) if gpu else rss_peak_bytes(ours_once)
            for peer in peers:
                fn = peer.gradient(name, data, method, case.T, case.K, "cuda" if gpu else "cpu")

                def synced(fn=fn, peer=peer):
                    return peer.finish(fn())

                ours_t, t = measure_interleaved([ours_once, synced], repeats, gpu=gpu)
                mem = peer.device_peak_bytes(synced) if gpu else rss_peak_bytes(synced)
                got = _flat(peer.to_numpy(synced()))
                rows.append(
                    {
                        "case": name,
                        "method": method,
                        "peer": peer.NAME + ("-cuda" if gpu else ""),
                        "rbptk": ours_t,
                        "peer_time": t,
                        "time_ratio": ours_t["median"] / t["median"],
                        "rbptk_mb": ours_mem / 2**20,
                        "peer_mb": mem / 2**20,
                        "mem_ratio": ours_mem / max(mem, 1),
                        "grad_rel_diff": float(np.linalg.norm(got - ref) / np.linalg.norm(ref)),
                    }
                )
                print(
                    f"{name:10s} {method:8s} {rows[-1]['peer']:6s} rbptk {ms(ours_t)} ms, "
                    f"peer {ms(t)} ms, grad diff {rows[-1]['grad_rel_diff']:.1e}",
                    flush=True,
                )
    return rows


def table(rows):
    return common.format_table(
        [
            {
                "case": r["case"],
                "method": r["method"],
                "peer": r["peer"],
                "ours": ms(r["rbptk"]),
                "theirs": ms(r["peer_time"]),
                "tr": r["time_ratio"],
                "om": r["rbptk_mb"],
                "pm": r["peer_mb"],
                "mr": r["mem_ratio"],
                "diff": r["grad_rel_diff"],
            }
            for r in rows
        ],
        [
            ("case", "case", "s"),
            ("method", "method", "s"),
            ("peer", "peer", "s"),
            ("ours", "rbptk ms", "s"),
            ("theirs", "peer ms", "s"),
            ("tr", "time ratio", ".2f"),
            ("om", "rbptk MB", ".1f"),
            ("pm", "peer MB", ".1f"),
            ("mr", "mem ratio", ".2f"),
            ("diff", "grad rel diff", ".1e"),
        ],
    )
