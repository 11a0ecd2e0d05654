"""Machinery: the checks of chapter 2's exercises.

Each check runs the answer on inputs in float32 and in float64 and of several shapes, and compares it with
the book's own function evaluated in float64 on the same inputs, with a tolerance for the answer's precision.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .core import DT, CheckFailed, _as_tensor, _call, _not_answered, _NotAnswered, _short, check_close, tolerances

__all__ = ["check_bce", "check_generator_loss", "check_kl_histogram", "check_logit_grad"]

DTYPES = (torch.float64, torch.float32)


# The tolerances a check asks for, meant for float64: core.check_close raises them to a float32 answer's floor.
TOL = {"rtol": 1e-9, "atol": 1e-12}


def _same(answer: torch.Tensor, other: torch.Tensor, inputs: torch.Tensor) -> bool:
    """Is the answer (numerically) this other, wrong, value? Used to name a typical mistake."""
    a, o = answer.to(DT), other.to(DT)
    if a.shape != o.shape or not torch.isfinite(o).all():
        return False
    dtype = torch.float32 if torch.float32 in (answer.dtype, inputs.dtype) else DT
    rtol, atol = tolerances(dtype, o.abs().max().item() if o.numel() else 1.0, **TOL)
    return bool(torch.allclose(a, o, rtol=rtol, atol=atol))


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- BCE of probabilities, Eq. (ch2-bce) -------------------------------------------------------

def _bce_cases(dtype: torch.dtype) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = _gen(0)
    prob = lambda *shape: (torch.rand(*shape, generator=g, dtype=DT) * 0.98 + 0.01).to(dtype)  # noqa: E731
    return [(prob(8), (torch.rand(8, generator=g) > 0.5).to(dtype)),                  # hard targets
            (prob(3, 4), torch.rand(3, 4, generator=g, dtype=DT).to(dtype)),            # soft, 2-D
            (prob(2, 3, 2), torch.rand(2, 3, 2, generator=g, dtype=DT).to(dtype)),      # soft, 3-D
            (torch.tensor([0.0, 1.0, 0.25, 1.0], dtype=dtype), torch.tensor([0.0, 1.0, 1.0, 1.0], dtype=dtype)),
            (torch.tensor([0.0, 0.4], dtype=dtype), torch.tensor([1.0, 1.0], dtype=dtype))]   # a confident mistake


def check_bce(fn: Callable) -> bool:
    """Chapter 2, Eq. (ch2-bce): ``fn(prob, target)`` returns the mean BCE over *all* entries of a batch.

    Cases: any shape, hard and soft targets, and probabilities of exactly 0 and 1 (a right confident prediction
    costs 0, taking 0 log 0 = 0; a wrong one costs inf).
    """
    from ...losses import bce
    try:
        for dtype in DTYPES:
            for prob, target in _bce_cases(dtype):
                answer = _as_tensor(_call(fn, prob.clone(), target.clone()), "your loss")
                true = bce(prob.to(DT), target.to(DT))
                case = f"prob={_short(prob)}, target={_short(target)} ({dtype})"
                if answer.numel() == 1 and torch.isnan(answer).any() and not torch.isnan(true):
                    raise CheckFailed(f"Your BCE is nan for {case}, where the true value is {true.item():.6g}. "
                                      "A right confident prediction (p = 1 with y = 1, or p = 0 with y = 0) makes "
                                      "0 x log 0, which must count as 0: torch.special.xlogy(y, p) does that.")
                if answer.numel() == 1 and torch.isinf(true) and torch.isfinite(answer).all():
                    raise CheckFailed(f"Your BCE is {answer.item():.6g} for {case}, where the true value is inf: a "
                                      "confident mistake (p = 0 with y = 1) costs -log 0 = inf. A clamped log (as "
                                      "torch's BCELoss does) or an added epsilon hides it.")
                if answer.shape == true.shape and torch.isfinite(true) and true != 0:
                    rows = true * prob.numel() / len(prob)
                    if prob.dim() > 1 and _same(answer, rows, prob):
                        raise CheckFailed(f"Your BCE for a batch of shape {tuple(prob.shape)} is the true one times "
                                          f"{prob.numel() // len(prob)}: you divided by len(prob), the number of rows; "
                                          "the mean runs over all entries (.mean(), or divide by prob.numel()).")
                check_close(f"BCE for {case}", answer, true, truth="the true BCE", quiet=True, **TOL)
    except _NotAnswered:
        return _not_answered("your BCE function")
    print("Correct: your BCE agrees with Eq. (ch2-bce) for 1-, 2- and 3-D batches, hard and soft targets, "
          "p = 0 and 1, in float32 and float64.")
    return True


# --- the gradient of the discriminator's loss, Eqs. (ch2-logit-grad) and (ch2-d-loss) ------------

def check_logit_grad(fn: Callable) -> bool:
    """Chapter 2, Eqs. (ch2-logit-grad), (ch2-d-loss): the gradient of D's loss with respect to both batches of logits.

    ``fn(real_logit, fake_logit, real_target)`` returns ``(grad_real, grad_fake)``, the derivatives of
    L_D = BCE(real_logit, real_target) + BCE(fake_logit, 0), each a batch mean; the two batches may differ in
    size and shape, and ``real_target`` is 1 or a smoothed target such as 0.9.
    """
    from ...losses import discriminator_loss
    shapes = [((5, 1), (3, 1)), ((4,), (7,)), ((2, 3), (2, 3))]
    try:
        for dtype in DTYPES:
            for case, (real_shape, fake_shape) in enumerate(shapes):
                g = _gen(10 + case)
                real, fake = (3 * torch.randn(s, generator=g, dtype=DT) for s in (real_shape, fake_shape))
                real, fake = real.to(dtype), fake.to(dtype)
                for real_target in (1.0, 0.9):
                    result = _call(fn, real.clone(), fake.clone(), real_target)
                    if not (isinstance(result, (tuple, list)) and len(result) == 2):
                        raise CheckFailed(f"Your function returned {type(result).__name__}; return two tensors, "
                                          "(grad_real, grad_fake).")
                    r, f = (t.detach().to(DT).requires_grad_(True) for t in (real, fake))
                    true_real, true_fake = torch.autograd.grad(discriminator_loss(r, f, real_target), (r, f))
                    grad_real, grad_fake = (_as_tensor(t, "your gradient") for t in result)
                    n_all = real.numel() + fake.numel()
                    for name, mine, true, n in (("grad_real", grad_real, true_real, real.numel()),
                                                ("grad_fake", grad_fake, true_fake, fake.numel())):
                        if n != n_all and _same(mine, true * n / n_all, real):
                            raise CheckFailed(f"Your {name} is the true one times {n}/{n_all}: you divided by the "
                                              "number of real and fake logits together. Eq. (ch2-d-loss) is a sum of "
                                              "two means, so each batch divides by its own size.")
                        check_close(f"{name} (real batch {real_shape}, fake batch {fake_shape}, real target "
                                    f"{real_target}, {dtype})", mine, true, truth="autograd's", quiet=True,
                                    **TOL)
    except _NotAnswered:
        return _not_answered("your gradient function")
    print("Correct: both gradients match autograd's for batches of different sizes and shapes, real targets "
          "1 and 0.9, in float32 and float64.")
    return True


# --- the two generator losses, Eqs. (ch2-g-ns) and (ch2-g-sat) ---------------------------------

def _logit_cases(dtype: torch.dtype) -> list[torch.Tensor]:
    g = _gen(20)
    far = 1000.0 if dtype == torch.float64 else 200.0     # past where exp overflows: 709 in float64, 88 in float32
    return [(4 * torch.randn(6, generator=g, dtype=DT)).to(dtype),
            (4 * torch.randn(3, 1, generator=g, dtype=DT)).to(dtype),
            torch.tensor([[-far, -50.0], [0.0, 50.0], [far, 3.0]], dtype=dtype)]


def check_generator_loss(fn: Callable) -> bool:
    """Chapter 2, Eqs. (ch2-g-ns), (ch2-g-sat): ``fn(fake_logit, kind)`` returns the mean generator loss.

    ``kind`` is ``"non_saturating"`` (mean -log sigma(a)) or ``"saturating"`` (mean log(1 - sigma(a))); the
    answer must be finite for every finite logit, including logits far past where exp overflows.
    """
    from ...losses import generator_loss
    softplus = torch.nn.functional.softplus
    try:
        for dtype in DTYPES:
            for logit in _logit_cases(dtype):
                a = logit.to(DT)
                named = {"the non-saturating loss -log sigma(a)": softplus(-a).mean(),
                         "the saturating loss log(1 - sigma(a))": -softplus(a).mean(),
                         "BCE with target 0, -log(1 - sigma(a)), the discriminator's loss on fakes": softplus(a).mean(),
                         "log sigma(a), minus the non-saturating loss": -softplus(-a).mean()}
                for kind in ("non_saturating", "saturating"):
                    answer = _as_tensor(_call(fn, logit.clone(), kind), "your loss")
                    true = generator_loss(a, kind)
                    if answer.numel() == 1 and not torch.isfinite(answer).all():
                        raise CheckFailed(f"Your {kind} loss is {answer.item()} for logits {_short(logit)} ({dtype}), "
                                          f"where the true value is {true.item():.6g}: sigmoid then log rounds to "
                                          "log 0. Write it with the logit itself: log sigma(a) = -softplus(-a) "
                                          "(torch.nn.functional.logsigmoid), Eq. (ch2-logsigmoid).")
                    if answer.shape == true.shape and not _same(answer, true, logit):
                        wrong = [name for name, value in named.items() if _same(answer, value, logit)]
                        if wrong:
                            want = "-log sigma(a), Eq. (ch2-g-ns)" if kind == "non_saturating" else \
                                "log(1 - sigma(a)), Eq. (ch2-g-sat)"
                            raise CheckFailed(f"For kind={kind!r} your function returns {wrong[0]}; the {kind} "
                                              f"loss is the mean of {want}.")
                    check_close(f"{kind} loss for logits {_short(logit)} ({dtype})", answer, true,
                                truth="the true loss", quiet=True, **TOL)
    except _NotAnswered:
        return _not_answered("your generator loss")
    print("Correct: both generator losses match Eqs. (ch2-g-ns) and (ch2-g-sat), finite at every logit, "
          "in float32 and float64.")
    return True


# --- KL divergence of histograms ----------------------------------------------------------------

def _kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return (torch.special.xlogy(p, p) - torch.special.xlogy(p, q)).sum(-1)


def _histograms(shape: tuple[int, ...], g: torch.Generator, zeros: bool) -> torch.Tensor:
    h = torch.rand(shape, generator=g, dtype=DT)
    if zeros:
        h[..., ::3] = 0.0          # empty bins
    return h / h.sum(-1, keepdim=True)


def check_kl_histogram(fn: Callable) -> bool:
    """Chapter 2: ``fn(p, q)`` returns KL(p || q) = sum_k p_k log(p_k / q_k), in nats, over the last dimension.

    ``p`` and ``q`` are histograms (non-negative, summing to 1 along the last dimension), one or a batch of them;
    the answer has one value per histogram. Empty bins count 0 where p_k = 0, and KL is inf where p_k > 0 = q_k.
    """
    try:
        for dtype in DTYPES:
            g = _gen(30)
            cases = [(_histograms((5,), g, False), _histograms((5,), g, False)),
                     (_histograms((3, 10), g, True), _histograms((3, 10), g, False)),
                     (_histograms((2, 2, 4), g, False), _histograms((2, 2, 4), g, False)),
                     (torch.tensor([0.5, 0.5, 0.0], dtype=DT), torch.tensor([0.5, 0.0, 0.5], dtype=DT))]
            for p, q in cases:
                p, q = p.to(dtype), q.to(dtype)
                answer = _as_tensor(_call(fn, p.clone(), q.clone()), "your KL")
                true = _kl(p.to(DT), q.to(DT))
                where = f"histograms of shape {tuple(p.shape)} ({dtype})"
                if answer.shape == true.shape and (torch.isnan(answer) & ~torch.isnan(true)).any():
                    raise CheckFailed(f"Your KL is nan for {where}, where the true KL is {_short(true)}: a bin with "
                                      "p_k = 0 adds 0 log 0 = 0, whatever q_k is (torch.special.xlogy, or a mask).")
                if answer.shape == true.shape and torch.isfinite(true).all():
                    if _same(answer, _kl(q.to(DT), p.to(DT)), p):
                        raise CheckFailed(f"For {where} your answer is KL(q || p): the expectation is under p, "
                                          "the first argument, sum_k p_k log(p_k / q_k).")
                    if _same(answer, true / math.log(2), p):
                        raise CheckFailed(f"For {where} your answer is in bits (log2): the book measures "
                                          "divergences in nats, with the natural log.")
                check_close(f"KL for {where}", answer, true, truth="the true KL", quiet=True, **TOL)
    except _NotAnswered:
        return _not_answered("your KL function")
    print("Correct: your KL matches for single and batched histograms, with empty bins, in float32 and float64.")
    return True
