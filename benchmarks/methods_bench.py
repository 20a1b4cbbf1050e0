"""Method against method on one case: forward and backward phases, total, peak
memory, and the ratio to the roofline of unavoidable products."""

from __future__ import annotations

import argparse
import functools

import rbptk
from problems.common import budget
from rbptk.forward import as_input_fn
from rbptk.registry import spec

from .timing import copy_bandwidth, measure, measure_interleaved, peak_bytes


def keep_for(method, K, T):
    return spec(method).keep(K, T)


def inputs_for(case, method):
    """Methods that linearise the last step see the full-batch last step where
    the case defines one."""
    if not spec(method).trajectory:
        return case.extra.get("inputs_full_last", case.inputs)
    return case.inputs


def adjoint(method, dynamics, traj, params, g, inputs, K):
    """The backward phase alone, on a forward result, with the method's defaults."""
    method_spec = spec(method)
    return method_spec.solve(
        dynamics, traj, params, g, inputs=inputs, K=K, tol=method_spec.default_tol,
        eta=1e-5, seed=0, alpha=1.0, x0=None,
    )  # fmt: skip


def loss_gradient(case, h):
    g = case.loss_grad(h)
    return g[1] if isinstance(g, tuple) else g


def gradient_call(case, method, K=None, T=None):
    """A no-argument callable: the whole gradient through the front door."""
    K, T, inputs = K or case.K, T or case.T, inputs_for(case, method)

    def total():
        return rbptk.gradient(
            case.dynamics,
            case.h0,
            case.params,
            case.loss_grad,
            method=method,
            steps=T,
            **budget(method, argparse.Namespace(truncate=K)),  # K: tbptt's or the solve's
            inputs=inputs,
            strict=False,
            seed=0,
        )

    return total


def pass_floor(passes, repeats=5, gpu=False):
    """Seconds: the sum over ``passes`` (benchmarks.cases.Pass) of each pass's
    floor, a BLAS call's bare time or its bytes over the bandwidth of a copy
    moving as many bytes (so a pass whose arrays fit in cache is held to the
    cache's bandwidth, not to memory's)."""
    bare = [measure(p.gemm, repeats, gpu=gpu)["median"] for p in passes if p.gemm]
    return sum(bare) + sum(p.bytes / _bandwidth(gpu, p.bytes) for p in passes if not p.gemm)


@functools.cache
def _bandwidth(gpu, n_bytes):
    return copy_bandwidth(gpu, n_bytes=max(n_bytes // 2, 4096), repeats=20)


def bench_methods(case, methods, K=None, T=None, repeats=5, gpu=False, forward_phase=True):
    """One row per method: times (median/min/max), peak bytes, products and
    roofline ratio. Every method's phases are timed in turn within each repeat
    (:func:`~benchmarks.timing.measure_interleaved`), so that a slow phase of a
    shared machine hits all rows alike. ``forward_phase=False`` skips timing
    the forward pass on its own (the sweep, whose forward is the same for every
    K)."""
    K, T = K or case.K, T or case.T
    params = rbptk.dynamics.prepare(case.dynamics, case.params)
    phases = {m: _phases(case, m, params, K, T, forward_phase) for m in methods}
    flat = [f for fs in phases.values() for f in fs.values()]
    timed = iter(measure_interleaved(flat, repeats, gpu=gpu))
    times = {m: {name: next(timed) for name in fs} for m, fs in phases.items()}
    floor = {ph: pass_floor(p, repeats, gpu) for ph, p in case.passes.items() if p is not None}
    rows, products = [], {}
    for m in methods:
        if case.passes["adjoint"] is None:  # no pass model: the product, as the method uses it
            inputs = inputs_for(case, m)
            if id(inputs) not in products:
                products[id(inputs)] = _product_time(case, params, inputs, T, repeats, gpu)
            floor["adjoint"] = products[id(inputs)]
        rows.append(_row(case, m, K, T, times[m], phases[m]["total"], floor, gpu))
    return rows


def _product_time(case, params, inputs, T, repeats, gpu):
    """Seconds of one vjp of the last step's linearisation."""
    g = loss_gradient(case, rbptk.forward(case.dynamics, case.h0, params, T, inputs=inputs).h)
    lin = case.dynamics.linearize(case.h0, params, as_input_fn(inputs)(T - 1))
    return measure(lambda: lin.vjp(g), repeats, gpu=gpu)["median"]


def _phases(case, method, params, K, T, forward_phase):
    """{"forward": ..., "backward": ..., "total": ...}: no-argument callables."""
    inputs = inputs_for(case, method)
    keep = keep_for(method, K, T)

    def fwd():
        return rbptk.forward(case.dynamics, case.h0, params, T, inputs=inputs, keep=keep)

    traj = fwd()
    g = loss_gradient(case, traj.h)

    def back():
        return adjoint(method, case.dynamics, traj, params, g, inputs, K)

    out = {"forward": fwd} if forward_phase else {}
    return {**out, "backward": back, "total": gradient_call(case, method, K, T)}


def _row(case, method, K, T, times, total, floor, gpu):
    _, info = total()
    n_param = {"bptt": T, "tbptt": K}.get(method, 1)
    if hasattr(case.dynamics, "vjp_params_sum"):  # BPTT's products summed in one GEMM
        n_param = 1
    roofline = (
        T * floor["step"] + (info.n_vjp + info.n_jvp) * floor["adjoint"] + n_param * floor["param"]
    )
    return {
        "case": case.name,
        "method": method,
        "T": T,
        "K": K,
        "forward": times.get("forward"),
        "backward": times["backward"],
        "total": times["total"],
        "peak_bytes": peak_bytes(total, gpu=gpu),
        "n_vjp": info.n_vjp,
        "n_jvp": info.n_jvp,
        "status": info.status.value,
        "roofline": roofline,
        "roofline_ratio": times["total"]["median"] / roofline,
    }
