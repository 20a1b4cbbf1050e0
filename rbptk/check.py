"""Checks for hand-written Jacobian products, usable from any pytest suite.

* :func:`jvp_error`, :func:`vjp_error`, :func:`vjp_params_error`: relative
  errors against central finite differences, (F(p + eps d) - F(p - eps d)) / 2 eps.
* :func:`dot_test`: <J v, u> against <v, J^T u>.
* :func:`check_dynamics`: all of them, raising ``AssertionError`` on failure.
* :func:`spectral_radius`: rho(J) by power iteration on the jvp.

Run the finite-difference checks in float64: in float32 their error floor is
about 1e-3, not the 1e-8 that float64 reaches.
"""

from __future__ import annotations

import math

import numpy as np

from ._array import HostBatch, norm, normal_like, vdot
from .dynamics import prepare

__all__ = [
    "check_dynamics",
    "dot_test",
    "jvp_error",
    "spectral_radius",
    "vjp_error",
    "vjp_params_error",
]


def _relative(a, b):
    """||a - b|| / max(||a||, ||b||) for arrays or lists of floats."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.linalg.norm(a), np.linalg.norm(b), np.finfo(float).tiny)
    return float(np.linalg.norm(a - b) / scale)


def _rng(seed):
    return np.random.default_rng(seed)


def _with(params, name, value):
    out = dict(params)
    out[name] = value
    return out


def _step(dynamics, h, params, x):
    return dynamics.step(h, prepare(dynamics, params), x)


def _linearize(dynamics, h, params, x):
    return dynamics.linearize(h, prepare(dynamics, params), x)


def jvp_error(dynamics, h, params, x=None, *, v=None, eps=1e-6, seed=0):
    """Relative error of ``linearize(h).jvp(v)`` against central differences of F in h.

    Parameters
    ----------
    dynamics : Dynamics
    h : array
        State at which J = dF/dh is taken (use float64).
    params : dict of arrays
    x : optional
        Step input.
    v : array, optional
        Direction; N(0, 1) draws by default.
    eps : float, default 1e-6
    seed : int, default 0

    Returns
    -------
    float
        ||J v - fd|| / max(||J v||, ||fd||).
    """
    v = normal_like(h, _rng(seed)) if v is None else v
    fd = (_step(dynamics, h + eps * v, params, x) - _step(dynamics, h - eps * v, params, x)) / (
        2 * eps
    )
    Jv = _linearize(dynamics, h, params, x).jvp(v)
    return norm(Jv - fd) / max(norm(Jv), norm(fd), 1e-300)


def vjp_error(dynamics, h, params, x=None, *, u=None, n_dirs=4, eps=1e-6, seed=0):
    """Relative error of J^T u against finite differences of <u, F(h + e v)>.

    For ``n_dirs`` random directions v_i, compares d/de <u, F(h + e v_i)> at
    e = 0 (central differences) with <J^T u, v_i>.

    Returns
    -------
    float
        Relative error of the vector of ``n_dirs`` directional derivatives.
    """
    rng = _rng(seed)
    u = normal_like(h, rng) if u is None else u
    JTu = _linearize(dynamics, h, params, x).vjp(u)
    fd, exact = [], []
    for _ in range(n_dirs):
        v = normal_like(h, rng)
        plus, minus = (
            _step(dynamics, h + eps * v, params, x),
            _step(dynamics, h - eps * v, params, x),
        )
        fd.append(vdot(u, plus - minus) / (2 * eps))
        exact.append(vdot(JTu, v))
    return _relative(exact, fd)


def vjp_params_error(dynamics, h, params, x=None, *, u=None, n_dirs=4, eps=1e-6, seed=0):
    """Relative error of (dF/dparams)^T u, per parameter, against finite differences.

    For each parameter name p and ``n_dirs`` random directions d_i, compares
    d/de <u, F(h, p + e d_i)> with <vjp_params(u)[p], d_i>.

    Returns
    -------
    dict of float
        One relative error per parameter name.
    """
    rng = _rng(seed)
    u = normal_like(h, rng) if u is None else u
    grads = _linearize(dynamics, h, params, x).vjp_params(u)
    if set(grads) != set(params):
        raise AssertionError(
            f"vjp_params returned keys {sorted(grads)}, params has {sorted(params)}"
        )
    errors = {}
    for name, p in params.items():
        if tuple(grads[name].shape) != tuple(p.shape):
            raise AssertionError(
                f"vjp_params[{name!r}] has shape {tuple(grads[name].shape)}, "
                f"params[{name!r}] has {tuple(p.shape)}"
            )
        fd, exact = [], []
        for _ in range(n_dirs):
            d = normal_like(p, rng)
            plus = _step(dynamics, h, _with(params, name, p + eps * d), x)
            minus = _step(dynamics, h, _with(params, name, p - eps * d), x)
            fd.append(vdot(u, plus - minus) / (2 * eps))
            exact.append(vdot(grads[name], d))
        errors[name] = _relative(exact, fd)
    return errors


def dot_test(linearization, v, u):
    """Relative mismatch of <J v, u> and <v, J^T u> (zero up to rounding for a
    correct jvp/vjp pair)."""
    a, b = vdot(linearization.jvp(v), u), vdot(v, linearization.vjp(u))
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


STATES = ("random", "given")


def check_dynamics(dynamics, h, params, x=None, *, rtol=1e-6, eps=1e-6, seed=0, state="random"):
    """Run every check on one model; raise if any error exceeds ``rtol``.

    A check can only fail where the products it compares are not zero: at
    h = 0 a tanh RNN's dF/dW = u h^T vanishes, so a wrong dL/dW would pass
    there. By default the checks therefore run at a seeded random state,
    h + N(0, 1) draws, in random directions; ``state="given"`` checks at ``h``
    itself. Either way a product that is exactly zero at the point of the check
    (J v, J^T u, or any parameter's (dF/dparams)^T u) is refused with a
    ValueError naming it.

    Parameters
    ----------
    dynamics : Dynamics
    h : array
        A state of the right shape (use float64); with ``state="random"`` the
        checks run at h + N(0, 1) draws.
    params : dict of arrays
    x : optional
        Step input.
    rtol : float, default 1e-6
        Largest relative error accepted. Central differences with step ``eps``
        = 1e-6 in float64 have an error floor of about eps_mach / eps + eps^2,
        1e-10 relative, so 1e-6 leaves room for curvature and still fails on
        a product off by 1e-4 or more.
    eps : float, default 1e-6
    seed : int, default 0
    state : {"random", "given"}, default "random"

    Returns
    -------
    dict of float
        The errors: ``jvp``, ``vjp``, ``dot`` and ``vjp_params[<name>]``.

    Raises
    ------
    AssertionError
        Listing every check whose relative error exceeds ``rtol``.
    ValueError
        Unknown ``state``, or a product that vanishes at the point of the check.
    """
    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}, got {state!r}")
    rng = _rng(seed)
    if state == "random":
        h = h + normal_like(h, rng)
    _refuse_vanishing_products(dynamics, h, params, x, rng)
    errors = {
        "jvp": jvp_error(dynamics, h, params, x, eps=eps, seed=seed),
        "vjp": vjp_error(dynamics, h, params, x, eps=eps, seed=seed),
        "dot": dot_test(
            _linearize(dynamics, h, params, x), normal_like(h, rng), normal_like(h, rng)
        ),
    }
    for name, err in vjp_params_error(dynamics, h, params, x, eps=eps, seed=seed).items():
        errors[f"vjp_params[{name}]"] = err
    failed = {k: e for k, e in errors.items() if not e <= rtol}
    if failed:
        detail = ", ".join(f"{k}: {e:.2e}" for k, e in failed.items())
        raise AssertionError(f"{type(dynamics).__name__} failed checks (rtol={rtol:g}): {detail}")
    return errors


def _refuse_vanishing_products(dynamics, h, params, x, rng):
    """ValueError naming every product that is exactly zero at h for random directions."""
    lin = _linearize(dynamics, h, params, x)
    products = {"J v": lin.jvp(normal_like(h, rng)), "J^T u": lin.vjp(normal_like(h, rng))}
    for name, value in lin.vjp_params(normal_like(h, rng)).items():
        products[f"vjp_params[{name}]"] = value
    zero = [name for name, value in products.items() if norm(value) == 0.0]
    if zero:
        raise ValueError(
            f"{', '.join(zero)} vanish at this state for random directions, so a check there "
            "cannot fail: check at another state (state='random' draws one)"
        )


def spectral_radius(linearization, like, *, iters=200, seed=0):
    """Estimate rho(J) by power iteration on ``linearization.jvp``.

    v_{k+1} = J v_k / ||J v_k||; the estimate is the geometric mean of the
    growth factors ||J v_k|| over the second half of the iterations, which
    converges to rho(J) also when the dominant eigenvalues are a complex pair.

    Parameters
    ----------
    linearization : Linearization
        J at the point of interest (e.g. the fixed point).
    like : array
        An array shaped like the state (gives shape, dtype, namespace).
    iters : int, default 200
    seed : int, default 0

    Returns
    -------
    float
        The estimate (0.0 when J maps the start vector to zero).
    """
    v = normal_like(like, _rng(seed))
    v = v / norm(v)
    logs = []
    batch = HostBatch()  # on a device: one transfer per HOST_SYNC_EVERY products
    for k in range(iters):
        w = linearization.jvp(v)
        n = norm(w, host=False)
        rows = batch.add(n) + (batch.flush() if k == iters - 1 else [])
        for (value,) in rows:
            if value == 0.0:
                return 0.0
            if not math.isfinite(value):
                return math.inf
            logs.append(math.log(value))
        v = w / n
    tail = logs[len(logs) // 2 :]
    return math.exp(sum(tail) / len(tail))
