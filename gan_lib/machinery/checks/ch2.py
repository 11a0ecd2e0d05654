"""Machinery: the checks of chapter 2's exercises."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from .core import DT, CheckFailed, _as_tensor, _call, _not_answered, _NotAnswered, _short, check_close, check_grad

__all__ = ["check_bce", "check_bce_with_logits", "check_logit_grad"]


def _cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(prob, target) batches: hard and soft targets, confident and unsure predictions, N = 1 and N = 8."""
    g = torch.Generator().manual_seed(0)
    prob = torch.rand(8, generator=g, dtype=DT) * 0.98 + 0.01
    return [(prob, (torch.rand(8, generator=g) > 0.5).to(DT)),
            (prob, torch.rand(8, generator=g, dtype=DT)),
            (torch.tensor([0.3], dtype=DT), torch.tensor([1.0], dtype=DT))]


def check_bce(fn: Callable) -> bool:
    """Chapter 2, Eq. (ch2-bce): ``fn(prob, target)`` returns the mean binary cross-entropy of a batch."""
    from ...losses import bce
    try:
        for prob, target in _cases():
            answer = _call(fn, prob.clone(), target.clone())
            check_close(f"BCE for prob={_short(prob)}, target={_short(target)}", answer, bce(prob, target),
                        truth="the true BCE", rtol=1e-9, atol=1e-12, quiet=True)
    except _NotAnswered:
        return _not_answered("your BCE function")
    print("Correct: your BCE agrees with Eq. (ch2-bce) on hard and soft targets.")
    return True


def check_bce_with_logits(fn: Callable) -> bool:
    """Chapter 2, Eq. (ch2-bce-logits): ``fn(logit, target)`` returns the mean BCE on logits, finite for every finite logit."""
    from ...losses import bce_with_logits
    g = torch.Generator().manual_seed(1)
    cases = [(torch.randn(8, generator=g, dtype=DT) * 3, torch.rand(8, generator=g, dtype=DT)),
             (torch.tensor([-200.0, -40.0, 0.0, 40.0, 200.0], dtype=DT), torch.tensor([1.0, 1.0, 0.5, 0.0, 0.0], dtype=DT))]
    try:
        for logit, target in cases:
            answer = _call(fn, logit.clone(), target.clone())
            true = bce_with_logits(logit, target)
            if not torch.isfinite(_as_tensor(answer, "your loss")).all():
                raise CheckFailed(f"Your loss is {_as_tensor(answer, 'your loss').item()} for logits {_short(logit)}, "
                                  f"where the true value is {true.item():.6g}: use the stable form of Eq. (ch2-bce-logits), "
                                  "max(a, 0) - a y + log(1 + exp(-|a|)), which never overflows.")
            check_close(f"BCE for logit={_short(logit)}", answer, true, truth="the true BCE", rtol=1e-9, atol=1e-12,
                        quiet=True)
    except _NotAnswered:
        return _not_answered("your BCE-with-logits function")
    print("Correct: your BCE with logits agrees with Eq. (ch2-bce-logits), including at logits of +-200.")
    return True


def check_logit_grad(fn: Callable) -> bool:
    """Chapter 2, Eq. (ch2-logit-grad): ``fn(logit, target)`` returns d(mean BCE)/d(logit) = (sigma(a) - y) / N."""
    from ...losses import bce_with_logits
    g = torch.Generator().manual_seed(2)
    logit, target = torch.randn(2, 5, generator=g, dtype=DT) * 2, torch.rand(2, 5, generator=g, dtype=DT)
    try:
        answer = _call(fn, logit.clone(), target.clone())
    except _NotAnswered:
        return _not_answered("your gradient function")
    return check_grad(answer, lambda a: bce_with_logits(a, target), logit, name="gradient")
