"""Machinery: the checks of chapter 6's exercises: a divergence in closed form, and the WGAN-GP gradient penalty.

The penalty's check runs the answer on small critics (no batch norm) in float32 and float64, on flat and on
image-shaped batches, and compares both its value and the gradient it sends to the critic's weights with
``gan_lib.losses.gradient_penalty``; it recognises the usual mistakes by computing them.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import nn

from ...losses import gradient_penalty
from ...metrics import kl_from_uniform
from .ch2 import DTYPES, TOL, _gen, _same
from .core import DT, CheckFailed, _as_tensor, _call, _not_answered, _NotAnswered, check_close

__all__ = ["check_gradient_penalty", "check_kl_half_on_one"]


# --- KL from uniform of a histogram with half its mass on one mode, Eq. (ch6-kl) ---------------------

def _half_on_one(num_modes: int) -> torch.Tensor:
    counts = torch.ones(num_modes, dtype=DT)
    counts[0] = num_modes - 1      # half of the mass on mode 0, the other half shared by the other K - 1
    return counts


def check_kl_half_on_one(fn: Callable) -> bool:
    """Chapter 6, Eq. (ch6-kl): ``fn(K)`` returns KL(p || u) in nats for K modes, where p puts half of its mass on
    one mode and spreads the other half evenly over the other K - 1, and u is uniform on all K."""
    try:
        for num_modes in (2, 3, 5, 8, 25, 100):
            answer = _as_tensor(_call(fn, num_modes), "your KL divergence")
            true = torch.tensor(kl_from_uniform(_half_on_one(num_modes)), dtype=DT)
            p = _half_on_one(num_modes) / _half_on_one(num_modes).sum()
            reverse = torch.sum(torch.log((1 / num_modes) / p) / num_modes)
            if answer.numel() == 1 and _same(answer.reshape(()), true, true):
                continue
            if answer.numel() == 1 and _same(answer.reshape(()), true / math.log(2), true):
                raise CheckFailed(f"For K = {num_modes} your divergence is {answer.item():.6g}, which is the true "
                                  "one in bits: the book measures divergences in nats (natural logarithms).")
            if answer.numel() == 1 and num_modes > 2 and _same(answer.reshape(()), reverse, true):
                raise CheckFailed(f"For K = {num_modes} your divergence is {answer.item():.6g}, which is KL(u || p), "
                                  "the other direction: Eq. (ch6-kl) weights each log-ratio by p, not by u.")
            check_close(f"KL divergence for K = {num_modes}", answer, true, truth="metrics.kl_from_uniform's", quiet=True,
                        **TOL)
    except _NotAnswered:
        return _not_answered("your KL divergence")
    print("Correct: your closed form matches metrics.kl_from_uniform for K = 2, 3, 5, 8, 25 and 100.")
    return True


# --- the gradient penalty of WGAN-GP, Eq. (ch6-gp) -------------------------------------------------------

def _critic(shape: tuple[int, ...], dtype: torch.dtype, seed: int) -> nn.Module:
    """A small critic without batch norm for inputs of ``shape`` (per example), one score per example."""
    torch.manual_seed(seed)
    width = int(torch.tensor(shape).prod())
    return nn.Sequential(nn.Flatten(), nn.Linear(width, 8), nn.Tanh(), nn.Linear(8, 1)).to(dtype)


def _variants(critic, real, fake, epsilon) -> dict[str, torch.Tensor]:
    """Penalties with the usual mistakes, each named by the hint it deserves."""
    def penalty(eps_real, reduce, score=lambda s: s.sum()):
        x_hat = (eps_real * real + (1 - eps_real) * fake).detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(score(critic(x_hat)), x_hat, create_graph=True)
        return 10 * reduce(grad.flatten(1))
    per_example = lambda g: (g.norm(dim=1) - 1).pow(2).mean()  # noqa: E731
    return {
        "Your penalty takes one norm of the whole batch's gradient; Eq. (ch6-gp) takes one norm per example, "
        "||grad_x critic(x_hat_i)||, and averages (norm_i - 1)^2 over the batch.": penalty(epsilon, lambda g: (g.norm() - 1) ** 2),
        "Your penalty uses the squared norm; Eq. (ch6-gp) penalises (||grad|| - 1)^2, the norm itself.":
            penalty(epsilon, lambda g: (g.pow(2).sum(1) - 1).pow(2).mean()),
        "Your penalty pulls the gradient's norm towards 0; Eq. (ch6-gp) pulls it towards 1, (||grad|| - 1)^2.":
            penalty(epsilon, lambda g: g.norm(dim=1).pow(2).mean()),
        "Your penalty differentiates the *mean* of the scores, which divides every example's gradient by the batch "
        "size: differentiate their sum, so each example's gradient is its own.":
            penalty(epsilon, per_example, score=lambda s: s.mean()),
        "Your x_hat swaps real and fake: x_hat_i = epsilon_i * real_i + (1 - epsilon_i) * fake_i.":
            penalty(1 - epsilon, per_example),
    }


def _weight_grads(critic: nn.Module, loss: torch.Tensor) -> list[torch.Tensor] | None:
    params = list(critic.parameters())
    if not loss.requires_grad:
        return None
    grads = torch.autograd.grad(loss, params, allow_unused=True)  # the last bias never reaches an input gradient
    if all(g is None for g in grads):
        return None
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


def check_gradient_penalty(fn: Callable) -> bool:
    """Chapter 6, Eq. (ch6-gp): ``fn(critic, real, fake, epsilon)`` returns 10 * mean_i (||grad_x critic(x_hat_i)||
    - 1)^2 with x_hat_i = epsilon_i real_i + (1 - epsilon_i) fake_i, as a tensor whose graph reaches the critic's
    weights (so that the penalty can train them). ``epsilon`` has one entry per example, shape (N, 1, ..., 1)."""
    try:
        for dtype in DTYPES:
            for case, shape in enumerate(((6,), (1, 4, 4))):
                for n in (5, 8):
                    g = _gen(60 + 10 * case + n)
                    real = torch.randn(n, *shape, generator=g, dtype=DT).to(dtype)
                    fake = torch.randn(n, *shape, generator=g, dtype=DT).to(dtype)
                    epsilon = torch.rand(n, *[1] * len(shape), generator=g, dtype=DT).to(dtype)
                    critic = _critic(shape, dtype, seed=case + n)
                    mine_critic = copy.deepcopy(critic)
                    answer = _call(fn, mine_critic, real.clone(), fake.clone(), epsilon.clone())
                    answer_value = _as_tensor(answer, "your penalty")
                    true = gradient_penalty(critic, real, fake, epsilon, 10.0)
                    where = f"a batch of {n} examples of shape {shape}, {dtype}"
                    if answer_value.numel() == 1 and not _same(answer_value.reshape(()), true.detach(), real):
                        for hint, wrong in _variants(critic, real, fake, epsilon).items():
                            if _same(answer_value.reshape(()), wrong.detach(), real):
                                raise CheckFailed(f"On {where}: {hint}")
                    check_close(f"penalty on {where}", answer_value.reshape(()) if answer_value.numel() == 1 else
                                answer_value, true.detach(), truth="losses.gradient_penalty's", quiet=True, **TOL)
                    mine = _weight_grads(mine_critic, answer) if isinstance(answer, torch.Tensor) else None
                    if mine is None:
                        raise CheckFailed(f"On {where}: your penalty has the right value, but no gradient reaches the "
                                          "critic's weights through it: compute the input gradient with "
                                          "torch.autograd.grad(..., create_graph=True), so that the penalty can "
                                          "itself be differentiated.")
                    for got, want in zip(mine, _weight_grads(critic, true)):
                        check_close(f"gradient of your penalty with respect to the critic's weights on {where}", got,
                                    want, truth="losses.gradient_penalty's", quiet=True, **TOL)
    except _NotAnswered:
        return _not_answered("your gradient penalty")
    print("Correct: your penalty and the gradient it sends to the critic match losses.gradient_penalty for flat and "
          "image-shaped batches of 5 and 8 examples, in float32 and float64.")
    return True
