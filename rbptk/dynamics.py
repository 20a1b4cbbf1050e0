"""The contract between the generic solvers and the hand-differentiated models.

A model is a :class:`Dynamics`: a map ``h_{t+1} = F(h_t, params, x_t)`` on one
state array ``h`` (a model with several state parts packs them into one flat
array). ``params`` is a dict of named arrays; ``x_t`` is the optional input of
step ``t`` (a minibatch for an SGD unroll, ``None`` for autonomous dynamics).

``linearize(h, params, x)`` returns a :class:`Linearization` at ``h``: it
computes once the activations every product at ``h`` reuses, then offers

* ``jvp(v)``         = J v,              J = dF/dh at (h, params, x);
* ``vjp(u)``         = J^T u;
* ``vjp_params(u)``  = (dF/dparams)^T u, a dict with the keys of ``params``.

Time-varying dynamics: the forward pass calls ``inputs(t)`` for the input of
step ``t``; BPTT and TBPTT call it again for every step they replay, so the
callable must return the same input for the same ``t`` (seed any sampling by
``t``). RBP-family methods linearise at the last step only, with
``inputs(T - 1)``.

Derived parameters: a model may define ``prepare(params) -> dict`` that
computes, once per forward pass or adjoint solve, arrays every step reuses
(the Hopfield net's W = P + P^T). ``step`` and ``linearize`` then receive the
prepared dict; ``vjp_params`` still returns the keys of the original params.
Call :func:`prepare` rather than the method: it is the identity for models
without the hook. ``prepare`` must be idempotent (a prepared dict comes back
unchanged), so the front door prepares once and hands the result down.

Summed parameter products: a model may define
``vjp_params_sum(linearizations, cotangents)`` returning
sum_i linearizations[i].vjp_params(cotangents[i]) in one pass (one matrix
product of inner size k instead of k outer products). BPTT uses it for chunks
of steps when present.

Shared cotangent pass: a linearisation may define ``vjp_and_params(u)``
returning ``(vjp(u), vjp_params(u))`` with the work both share done once (the
GRU's gate cotangents). BPTT uses it for models without ``vjp_params_sum``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Dynamics", "Linearization", "prepare"]


@runtime_checkable
class Linearization(Protocol):
    """Jacobian products of one step, at a fixed state."""

    def jvp(self, v: Any) -> Any:
        """J v, with ``v`` and the result shaped like the state."""

    def vjp(self, u: Any) -> Any:
        """J^T u, with ``u`` and the result shaped like the state."""

    def vjp_params(self, u: Any) -> dict:
        """(dF/dparams)^T u: a dict of arrays shaped like ``params``."""


@runtime_checkable
class Dynamics(Protocol):
    """One step of convergent recurrent dynamics and its linearisation.

    Models may also define ``validate(h, params, x=None)`` (or ``validate(h,
    params)``), which raises a ``ValueError`` that names the offending array when
    keys or shapes do not fit; the front door calls it with the first input
    x_0 before any work.
    """

    def step(self, h: Any, params: dict, x: Any = None) -> Any:
        """F(h, params, x): the next state, shaped like ``h``."""

    def linearize(self, h: Any, params: dict, x: Any = None) -> Linearization:
        """The :class:`Linearization` of F at ``h``."""


def prepare(dynamics, params):
    """``dynamics.prepare(params)`` when the model defines it, else ``params``."""
    hook = getattr(dynamics, "prepare", None)
    return params if hook is None else hook(params)
