"""PyTorch autograd references (float32, CPU): the same equations as rbptk's
models, differentiated by the framework, as the paper's reference code does."""

from __future__ import annotations

NAME = "torch"


def available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


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


def gradient(case, data, method, T, K):
    import torch

    torch.set_grad_enabled(True)
    if case == "hopfield":
        P = torch.tensor(data["P"], requires_grad=True)
        x = torch.tensor(data["x"])
        h0 = torch.tensor(data["h0"])
        n_in, n_out = 784, 784

        def compute():
            W = P + P.T
            W = W - torch.diag(torch.diag(W))

            def step(h):
                return torch.cat([x, (W @ torch.sigmoid(0.5 * h))[n_in:]])

            h_prev, hT = _truncated(torch, step, h0, T, K, method)
            loss = torch.mean(torch.abs(hT[-n_out:] - x))
            if method == "neumann":
                return {"P": _neumann(torch, h_prev, hT, loss, [P], K)[0].numpy()}
            return {"P": torch.autograd.grad(loss, P)[0].numpy()}

        return compute
    # GRU graph network
    A = data["A"].tocoo()
    At = torch.sparse_coo_tensor([A.row, A.col], A.data.astype("float32"), A.shape).coalesce()
    names = ("W_ih", "W_hh", "b_ih", "b_hh")
    params = [torch.tensor(data[k], requires_grad=True) for k in names]
    h0 = torch.tensor(data["h0"])
    W_out, b_out = torch.tensor(data["readout"]["W"]), torch.tensor(data["readout"]["b"])
    labels = torch.tensor(data["labels"][data["train"]])
    train = torch.tensor(data["train"])

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
        return {k: g.numpy() for k, g in zip(names, grads, strict=True)}

    return compute
