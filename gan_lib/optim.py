"""The update rule, by hand (chapter 3): one SGD step and one Adam step.

Parameters and gradients are dicts ``{name: tensor}`` as returned by
``gan_lib.backprop.generator_grads``; each step returns *new* tensors and leaves
its inputs alone, so a reader can compare before and after.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

Params = dict[str, Tensor]


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    """Eq. (ch3-sgd), the seed article's rule: theta <- theta - eta * dL/dtheta, eta = ``lr`` (plain SGD, no momentum)."""
    _check_names(params, grads)
    return {name: p - lr * grads[name] for name, p in params.items()}


@dataclass
class AdamState:
    """Adam's memory: the step count t and the moving averages m (of g) and v (of g^2)."""
    step: int = 0
    m: Params = field(default_factory=dict)
    v: Params = field(default_factory=dict)


def adam_init(params: Params) -> AdamState:
    """Zero moments for every parameter, step 0."""
    return AdamState(0, {n: torch.zeros_like(p) for n, p in params.items()},
                     {n: torch.zeros_like(p) for n, p in params.items()})


def adam_step(params: Params, grads: Params, state: AdamState, lr: float,
              betas: tuple[float, float] = (0.5, 0.999), eps: float = 1e-8) -> tuple[Params, AdamState]:
    """Eq. (ch3-adam), Adam as ``torch.optim.Adam`` computes it (no weight decay).

    m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,  m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t),
    theta <- theta - lr * m_hat / (sqrt(v_hat) + eps): eps is added *outside* the square root.
    The default betas (0.5, 0.999) are DCGAN's.
    """
    _check_names(params, grads)
    b1, b2 = betas
    if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
        raise ValueError(f"betas must lie in [0, 1), got {betas}.")
    t = state.step + 1
    m = {n: b1 * state.m[n] + (1 - b1) * g for n, g in grads.items()}
    v = {n: b2 * state.v[n] + (1 - b2) * g * g for n, g in grads.items()}
    new_params = {}
    for name, p in params.items():
        m_hat = m[name] / (1 - b1 ** t)
        v_hat = v[name] / (1 - b2 ** t)
        new_params[name] = p - lr * m_hat / (v_hat.sqrt() + eps)
    return new_params, AdamState(t, m, v)


def _check_names(params: Params, grads: Params) -> None:
    if params.keys() != grads.keys():
        raise ValueError(f"params and grads must name the same tensors; only in params: "
                         f"{sorted(params.keys() - grads.keys())}, only in grads: {sorted(grads.keys() - params.keys())}.")
