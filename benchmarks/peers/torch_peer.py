"""PyTorch autograd references (float32, on the CPU or a CUDA device): the same
equations as rbptk's models, differentiated by the framework, as the paper's
reference code does."""

from __future__ import annotations

import numpy as np

NAME = "torch"


def available(gpu=False):
    """torch importable (and, for ``gpu``, seeing a CUDA device)."""
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available() if gpu else True


def finish(grads):
    """Wait for the device, so a timing covers the whole computation."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return grads


def to_numpy(grads):
    return {k: v.detach().cpu().numpy() for k, v in grads.items()}


def device_peak_bytes(fn):
    """Peak CUDA memory allocated by PyTorch during ``fn()`` above the level at the call."""
    import torch

    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def _truncated(torch, step, h0, T, K, method):
    """Run T steps; track gradients through all (bptt), the last K (tbptt), or
    return (h_{T-1}, h_T) with only the last step tracked (neumann)."""
    h = h0
    untracked = {"bptt": 0, "tbptt": T - K, "neumann": T - 1}[method]
    with torch.no_grad():
        for _ in range(untracked):
            h = step(h)
    if method == "neumann":
        h = h.detach().requires_grad_(True)
        return h, step(h)
    for _ in range(T - untracked):
        h = step(h)
    return None, h


def _neumann(torch, h_prev, h_T, loss, params, K):
    g = torch.autograd.grad(loss, h_T, retain_graph=True)[0]
    v, s = g, g
    for _ in range(K):
        v = torch.autograd.grad(h_T, h_prev, v, retain_graph=True)[0]
        s = s + v
    return torch.autograd.grad(h_T, params, s)


def gradient(case, data, method, T, K, device="cpu"):
    """A callable returning the parameter gradients as a dict of tensors on ``device``."""
    import torch

    torch.set_grad_enabled(True)

    def tensor(a, **kw):
        return torch.tensor(a, device=device, **kw)

    if case == "hopfield":
        P = tensor(data["P"], requires_grad=True)
        x = tensor(data["x"])
        h0 = tensor(data["h0"])
        n_in, n_out = 784, 784

        def compute():
            W = P + P.T
            W = W - torch.diag(torch.diag(W))

            def step(h):
                return torch.cat([x, (W @ torch.sigmoid(0.5 * h))[n_in:]])

            h_prev, hT = _truncated(torch, step, h0, T, K, method)
            loss = torch.mean(torch.abs(hT[-n_out:] - x))
            if method == "neumann":
                return {"P": _neumann(torch, h_prev, hT, loss, [P], K)[0]}
            return {"P": torch.autograd.grad(loss, P)[0]}

        return compute
    # GRU graph network
    A = data["A"].tocoo()
    index = tensor(np.stack([A.row, A.col]).astype(np.int64))
    At = torch.sparse_coo_tensor(index, tensor(A.data.astype("float32")), A.shape)
    At = At.coalesce()
    names = ("W_ih", "W_hh", "b_ih", "b_hh")
    params = [tensor(data[k], requires_grad=True) for k in names]
    h0 = tensor(data["h0"])
    W_out, b_out = tensor(data["readout"]["W"]), tensor(data["readout"]["b"])
    labels = tensor(data["labels"][data["train"]])
    train = tensor(data["train"])

    def compute():
        def step(h):
            return torch.gru_cell(torch.sparse.mm(At, h), h, *params)

        h_prev, hT = _truncated(torch, step, h0, T, K, method)
        logits = hT[train] @ W_out.T + b_out
        loss = torch.nn.functional.cross_entropy(logits, labels)
        grads = (
            _neumann(torch, h_prev, hT, loss, params, K)
            if method == "neumann"
            else torch.autograd.grad(loss, params)
        )
        return dict(zip(names, grads, strict=True))

    return compute
