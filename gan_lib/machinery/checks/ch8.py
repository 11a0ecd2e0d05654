"""Machinery: the checks of chapter 8's exercises: the straight-through Gumbel-softmax token, with its noise given,
and the AUC of a membership-inference score.

Each check runs the answer on several shapes in float32 and float64 and compares it with a reference written here
(the token) or with ``gan_lib.memorisation`` (the AUC), naming the mistakes learners make: the soft token sent
forward, a hard token with no gradient, the detach on the wrong term, a forgotten temperature, ties, a reversed AUC.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

from .core import DT, CheckFailed, _as_tensor, _call, _not_answered, _NotAnswered, check_close, tolerances

__all__ = ["check_auc", "check_straight_through"]

DTYPES = (torch.float64, torch.float32)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- the straight-through Gumbel-softmax, Eq. (ch8-gumbel) ---------------------------------------

def _soft(logit: torch.Tensor, gumbel: torch.Tensor, tau: float) -> torch.Tensor:
    return torch.softmax((logit + gumbel) / tau, dim=-1)


def _hard(logit: torch.Tensor, gumbel: torch.Tensor) -> torch.Tensor:
    return F.one_hot((logit + gumbel).argmax(-1), logit.shape[-1]).to(logit.dtype)


def _token_grad(token_of: Callable, logit: torch.Tensor, weight: torch.Tensor) -> torch.Tensor | None:
    """d(sum(token * weight)) / d logit, or None when no gradient reaches the logits."""
    leaf = logit.detach().clone().requires_grad_(True)
    token = token_of(leaf)
    if not isinstance(token, torch.Tensor) or not token.requires_grad:
        return None
    (grad,) = torch.autograd.grad((token * weight.to(token.dtype)).sum(), leaf, allow_unused=True)
    return grad


def check_straight_through(fn: Callable) -> bool:
    """Chapter 8, Eq. (ch8-gumbel): ``fn(logit, gumbel, tau)`` returns the straight-through token: in value the
    one-hot of argmax(logit + gumbel) over the last dimension, in gradient that of softmax((logit + gumbel) / tau).
    ``gumbel`` is the noise, given (the same shape as ``logit``), so the answer is checked exactly."""
    shapes, taus = [(4,), (3, 5), (2, 3, 6)], (0.5, 1.0, 2.0)
    try:
        for dtype in DTYPES:
            for case, (shape, tau) in enumerate(zip(shapes, taus)):
                g = _gen(100 + case)
                logit = (2 * torch.randn(shape, generator=g, dtype=DT)).to(dtype)
                gumbel = -torch.log(-torch.log(torch.rand(shape, generator=g, dtype=DT).clamp(1e-12, 1 - 1e-12)))
                gumbel = gumbel.to(dtype)
                weight = torch.randn(shape, generator=g, dtype=DT)
                where = f"for logits of shape {shape}, tau = {tau} ({dtype})"
                leaf = logit.clone().requires_grad_(True)
                token = _call(fn, leaf, gumbel.clone(), tau)
                value = _as_tensor(token, "your token")
                hard, soft = _hard(logit.to(DT), gumbel.to(DT)), _soft(logit.to(DT), gumbel.to(DT), tau)
                if value.shape != hard.shape:
                    raise CheckFailed(f"Your token {where} has shape {tuple(value.shape)}; it must have the logits' "
                                      f"shape {tuple(hard.shape)}, a one-hot row over the last dimension.")
                rtol, atol = tolerances(value.dtype if value.is_floating_point() else DT, 1.0, 1e-9, 1e-12)
                if not torch.allclose(value.to(DT), hard, rtol=rtol, atol=atol):
                    if torch.allclose(value.to(DT), soft, rtol=rtol, atol=atol):
                        raise CheckFailed(f"Your token {where} is the soft token softmax((logit + gumbel) / tau): "
                                          "the forward pass must send the hard one-hot token.")
                    if torch.equal(value.to(DT), _hard(logit.to(DT), torch.zeros_like(gumbel, dtype=DT))):
                        raise CheckFailed(f"Your token {where} is the one-hot of argmax(logit), without the noise: "
                                          "the sample is argmax(logit + gumbel), Eq. (ch8-gumbel).")
                    raise CheckFailed(f"Your token {where} is not the one-hot of argmax(logit + gumbel) over the "
                                      "last dimension (dim=-1).")
                if not isinstance(token, torch.Tensor) or not token.requires_grad:
                    raise CheckFailed(f"No gradient reaches the logits through your token {where}: it is the hard "
                                      "token alone. Add the soft token's gradient: hard - soft.detach() + soft.")
                (mine,) = torch.autograd.grad((token * weight.to(token.dtype)).sum(), leaf, allow_unused=True)
                if mine is None:
                    raise CheckFailed(f"No gradient reaches the logits through your token {where}.")
                true = _token_grad(lambda a: _soft(a, gumbel.to(DT), tau), logit.to(DT), weight)
                named = {"minus the true one: the detach is on the wrong term (use hard - soft.detach() + soft)":
                         -true,
                         "that of softmax(logit + gumbel) without the temperature: divide by tau inside the softmax":
                         _token_grad(lambda a: _soft(a, gumbel.to(DT), 1.0), logit.to(DT), weight)}
                rtol, atol = tolerances(mine.dtype, true.abs().max().item() or 1.0, 1e-9, 1e-12)
                if not torch.allclose(mine.to(DT), true, rtol=rtol, atol=atol):
                    for what, other in named.items():
                        if not torch.allclose(other, true) and torch.allclose(mine.to(DT), other, rtol=rtol, atol=atol):
                            raise CheckFailed(f"Your token's gradient {where} is {what}.")
                check_close(f"gradient of your token {where}", mine, true, truth="the soft token's gradient",
                            quiet=True, rtol=1e-9, atol=1e-12)
    except _NotAnswered:
        return _not_answered("your straight-through token")
    print("Correct: your token is the hard sample in value and has the soft token's gradient, for 1-, 2- and 3-D "
          "logits and three temperatures, in float32 and float64.")
    return True


# --- the AUC of a membership score, Eq. (ch8-auc) ------------------------------------------------

def _auc_cases(dtype: torch.dtype) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = _gen(110)
    return [((torch.randn(40, generator=g, dtype=DT) + 0.7).to(dtype), torch.randn(25, generator=g, dtype=DT).to(dtype)),
            (torch.tensor([3.0, 1.0, 2.0, 2.0], dtype=dtype), torch.tensor([2.0, 0.0, 2.0], dtype=dtype)),  # ties
            (torch.randint(0, 4, (30,), generator=g).to(dtype), torch.randint(0, 3, (50,), generator=g).to(dtype))]


def check_auc(fn: Callable) -> bool:
    """Chapter 8, Eq. (ch8-auc): ``fn(member_scores, nonmember_scores)`` (two 1-D tensors, of different lengths)
    returns the AUC: the share of (member, non-member) pairs in which the member scores higher, a tie counting 1/2."""
    from ...memorisation import auc
    try:
        for dtype in DTYPES:
            for member, nonmember in _auc_cases(dtype):
                answer = _as_tensor(_call(fn, member.clone(), nonmember.clone()), "your AUC")
                if answer.numel() != 1:
                    raise CheckFailed(f"Your AUC has shape {tuple(answer.shape)}; return one number, the share of "
                                      "all (member, non-member) pairs.")
                if dtype == torch.float32 and answer.dtype == DT:
                    answer = answer.float()  # a Python float made from float32 scores: a float32 result
                m, n = member.to(DT).numpy(), nonmember.to(DT).numpy()
                true = auc(m, n)
                wins, ties = float((m[:, None] > n[None]).sum()), float((m[:, None] == n[None]).sum())
                where = f"for {len(m)} member and {len(n)} non-member scores ({dtype})"
                named = {"1 - AUC: yours is the chance that the *non-member* scores higher": 1 - true,
                         "what counting a tie as a loss gives: a tie counts one half": wins / (len(m) * len(n)),
                         "what counting a tie as a win gives: a tie counts one half": (wins + ties) / (len(m) * len(n)),
                         "U, the number of winning pairs, not divided by the number of pairs m n": wins + ties / 2}
                value = answer.reshape(()).to(DT).item()
                if abs(value - true) > 1e-9:
                    for what, other in named.items():
                        if abs(other - true) > 1e-9 and abs(value - other) <= 1e-9 * max(1.0, abs(other)):
                            raise CheckFailed(f"Your AUC {where} is {value:.6g}, {what}. The true AUC is {true:.6g}.")
                check_close(f"AUC {where}", answer.reshape(()), torch.tensor(true, dtype=DT), truth="the true AUC",
                            quiet=True, rtol=1e-9, atol=1e-12)
    except _NotAnswered:
        return _not_answered("your AUC function")
    print("Correct: your AUC matches Eq. (ch8-auc) on continuous scores and on scores with ties, for groups of "
          "different sizes, in float32 and float64.")
    return True

