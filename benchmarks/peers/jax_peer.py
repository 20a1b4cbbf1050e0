"""JAX references with jit (float32, CPU): the whole unroll compiled."""

from __future__ import annotations

import numpy as np

NAME = "jax"


def available(gpu=False):
    """jax importable; the 'compare' extra installs the CPU build, so no GPU rows."""
    if gpu:
        return False
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def finish(grads):
    import jax

    return jax.block_until_ready(grads)


def to_numpy(grads):
    return {k: np.asarray(v) for k, v in grads.items()}


def _unroll(jax, step, h0, T, K, method, params):
    """h_T as a function of params: gradients flow through all steps (bptt), the
    last K (tbptt) or none (neumann: the caller differentiates the last step)."""
    lax = jax.lax
    untracked = {"bptt": 0, "tbptt": T - K, "neumann": T - 1}[method]
    h = lax.fori_loop(0, untracked, lambda _, h: step(lax.stop_gradient(params), h), h0)
    h = lax.stop_gradient(h)
    if method == "neumann":
        return h
    return lax.fori_loop(0, T - untracked, lambda _, h: step(params, h), h)


def _make(jax, jnp, step, loss, h0, T, K, method):
    def bptt_like(params):
        return loss(_unroll(jax, step, h0, T, K, method, params))

    if method != "neumann":
        return jax.jit(jax.grad(bptt_like))

    def neumann(params):
        h_prev = _unroll(jax, step, h0, T, K, method, params)
        h_T, vjp_h = jax.vjp(lambda h: step(params, h), h_prev)
        g = jax.grad(loss)(h_T)

        def term(_, carry):
            v = vjp_h(carry[0])[0]  # v_t = J^T v_{t-1}
            return v, carry[1] + v

        s = jax.lax.fori_loop(0, K, term, (g, g))[1]
        _, vjp_p = jax.vjp(lambda p: step(p, h_prev), params)
        return vjp_p(s)[0]

    return jax.jit(neumann)


def gnn(data):
    """The GRU graph network's step(params, h), loss(h), params and h0 as JAX
    values, from a case's plain arrays (benchmarks.peers.case_data)."""
    import jax
    import jax.numpy as jnp

    A = data["A"].tocoo()
    rows, cols = jnp.asarray(A.row), jnp.asarray(A.col)
    n = A.shape[0]
    h0 = jnp.asarray(data["h0"])
    W_out, b_out = jnp.asarray(data["readout"]["W"]), jnp.asarray(data["readout"]["b"])
    train, labels = jnp.asarray(data["train"]), jnp.asarray(data["labels"][data["train"]])

    def step(p, h):
        m = jax.ops.segment_sum(h[cols], rows, num_segments=n)
        gi, gh = m @ p["W_ih"].T + p["b_ih"], h @ p["W_hh"].T + p["b_hh"]
        D = h.shape[1]
        r = jax.nn.sigmoid(gi[:, :D] + gh[:, :D])
        z = jax.nn.sigmoid(gi[:, D : 2 * D] + gh[:, D : 2 * D])
        c = jnp.tanh(gi[:, 2 * D :] + r * gh[:, 2 * D :])
        return (1 - z) * c + z * h

    def loss(h):
        logits = h[train] @ W_out.T + b_out
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(len(labels)), labels])

    params = {k: jnp.asarray(data[k]) for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
    return step, loss, params, h0


def gradient(case, data, method, T, K, device="cpu"):
    """A jitted callable returning the parameter gradients as a dict of JAX
    arrays (``device`` must be "cpu")."""
    import jax
    import jax.numpy as jnp

    if device != "cpu":
        raise ValueError("the JAX peer runs on the CPU only (the 'compare' extra's jax[cpu])")

    if case == "hopfield":
        x, h0 = jnp.asarray(data["x"]), jnp.asarray(data["h0"])

        def step(params, h):
            W = params["P"] + params["P"].T
            W = W - jnp.diag(jnp.diag(W))
            return jnp.concatenate([x, (W @ jax.nn.sigmoid(0.5 * h))[784:]])

        def loss(h):
            return jnp.mean(jnp.abs(h[-784:] - x))

        params = {"P": jnp.asarray(data["P"])}
    else:
        step, loss, params, h0 = gnn(data)
    fn = _make(jax, jnp, step, loss, h0, T, K, method)

    return lambda: fn(params)
