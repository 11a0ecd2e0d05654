"""Machinery: the checks of chapter 3's exercises: backward rules, the gradient a leak leaves behind, Adam.

Every check runs the answer in float32 and in float64, on several shapes, against autograd (or torch.optim).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .ch2 import DTYPES, TOL, _gen, _same
from .core import DT, CheckFailed, _as_tensor, _call, _not_answered, _NotAnswered, _short, check_close, check_step

__all__ = ["check_adam_step", "check_elu_backward", "check_leaked_logit_grad", "check_leaky_relu_backward",
           "check_tanh_backward"]

_SHAPES = ((4, 6), (7,), (2, 3, 2))


def _inputs(shape, dtype, seed):
    g = _gen(seed)
    x = 2 * torch.randn(shape, generator=g, dtype=DT)
    x.view(-1)[:2] = torch.tensor([0.0, -0.0], dtype=DT)          # the kink, where a convention is needed
    return x.to(dtype), torch.randn(shape, generator=g, dtype=DT).to(dtype)


def _autograd(f: Callable, *tensors: torch.Tensor, grad_out: torch.Tensor):
    """What autograd sends back to ``tensors`` (in float64) through ``f`` for the upstream gradient ``grad_out``."""
    leaves = [t.detach().to(DT).requires_grad_(True) for t in tensors]
    return torch.autograd.grad(f(*leaves), leaves, grad_out.to(DT))


# --- backward rules, Eqs. (ch3-relu) and (ch3-tanh) -------------------------------------------

def check_leaky_relu_backward(fn: Callable) -> bool:
    """Chapter 3, Eq. (ch3-relu), with a learnable slope (PReLU): ``fn(x, grad_y, negative_slope)`` returns
    ``(grad_x, grad_slope)``, dL/dx and dL/ds for the one slope s of every entry; at x = 0 dL/dx uses s.
    """
    try:
        for dtype in DTYPES:
            for case, shape in enumerate(_SHAPES):
                x, grad_y = _inputs(shape, dtype, 3 + case)
                for slope in (0.2, 0.05):
                    result = _call(fn, x.clone(), grad_y.clone(), slope)
                    if not (isinstance(result, (tuple, list)) and len(result) == 2):
                        raise CheckFailed("Your function must return two tensors: (grad_x, grad_slope).")
                    grad_x, grad_s = (_as_tensor(t, "your gradient") for t in result)
                    true_x, true_s = _autograd(F.prelu, x, torch.tensor([slope], dtype=DT), grad_out=grad_y)
                    kink = x == 0
                    if grad_x.shape == x.shape and not _same(grad_x, true_x, x) and _same(grad_x[~kink], true_x[~kink], x):
                        raise CheckFailed(f"Your dL/dx is right except at x = 0, where yours is "
                                          f"{grad_x[kink][0].item():.6g}: PyTorch uses the negative slope there "
                                          f"(slope 1 for x > 0, {slope} for x <= 0).")
                    where = f"shape {shape}, slope {slope}, {dtype}"
                    check_close(f"dL/dx ({where})", grad_x, true_x, truth="autograd's", quiet=True, **TOL)
                    if grad_s.numel() == x.numel() and x.numel() > 1:
                        raise CheckFailed("Your dL/ds has one entry per element of x, but the slope is one number "
                                          "shared by all of them: add up its contributions.")
                    grad_s = grad_s.reshape(()) if grad_s.numel() == 1 else grad_s
                    if _same(grad_s, (grad_y.to(DT) * x.to(DT)).sum(), x):
                        raise CheckFailed("Your dL/ds adds grad_y * x over every entry; the slope only acts where "
                                          "x <= 0 (for x > 0 the output is x itself).")
                    check_close(f"dL/ds ({where})", grad_s, true_s.reshape(()), truth="autograd's", quiet=True, **TOL)
    except _NotAnswered:
        return _not_answered("your LeakyReLU backward rule")
    print("Correct: dL/dx and dL/ds match autograd's (PReLU) for three shapes, two slopes, float32 and float64.")
    return True


def check_elu_backward(fn: Callable) -> bool:
    """Chapter 3: ``fn(x, y, grad_y, alpha)`` returns dL/dx for y = ELU(x) = x (x > 0), alpha (e^x - 1) (x <= 0).

    A rule the chapter does not derive; ``y`` is the output, to use where it saves work. At x = 0 PyTorch takes
    the x <= 0 branch, which matters when alpha != 1.
    """
    try:
        for dtype in DTYPES:
            for case, shape in enumerate(_SHAPES):
                x, grad_y = _inputs(shape, dtype, 40 + case)
                for alpha in (1.0, 0.5, 2.0):
                    y = F.elu(x, alpha)
                    answer = _as_tensor(_call(fn, x.clone(), y.clone(), grad_y.clone(), alpha), "your gradient")
                    (true,) = _autograd(lambda t: F.elu(t, alpha), x, grad_out=grad_y)
                    kink = x == 0
                    if answer.shape == true.shape and not _same(answer, true, x) and _same(answer[~kink], true[~kink], x):
                        raise CheckFailed(f"Your gradient is right except at x = 0 with alpha = {alpha}, where "
                                          f"yours is {answer[kink][0].item():.6g}: PyTorch uses the x <= 0 branch "
                                          f"there, alpha e^0 = {alpha}.")
                    where = f"shape {shape}, alpha {alpha}, {dtype}"
                    check_close(f"dL/dx ({where})", answer, true, truth="autograd's", quiet=True, **TOL)
    except _NotAnswered:
        return _not_answered("your ELU backward rule")
    print("Correct: your ELU rule matches autograd's for three shapes and alpha = 1, 0.5, 2, float32 and float64.")
    return True


def check_tanh_backward(fn: Callable) -> bool:
    """Chapter 3, Eq. (ch3-tanh): the generator's last two layers, Tanh and Unflatten, backwards.

    ``fn(image, grad_image)`` gets the output images x = tanh(u), shape (N, C, H, W), and dL/dx of the same
    shape, and returns dL/du for the pre-activations u, shape (N, C * H * W), as the last Linear layer gave them.
    """
    try:
        for dtype in DTYPES:
            for case, shape in enumerate(((3, 1, 4, 4), (2, 1, 28, 28), (5, 1, 2, 3))):
                g = _gen(50 + case)
                u = 2 * torch.randn(shape[0], shape[1] * shape[2] * shape[3], generator=g, dtype=DT)
                image = torch.tanh(u).unflatten(1, shape[1:]).to(dtype)
                grad_image = torch.randn(shape, generator=g, dtype=DT).to(dtype)
                answer = _as_tensor(_call(fn, image.clone(), grad_image.clone()), "your gradient")
                (true,) = _autograd(lambda t: torch.tanh(t).unflatten(1, shape[1:]), u, grad_out=grad_image)
                x, gx = image.to(DT).flatten(1), grad_image.to(DT).flatten(1)
                again = gx * (1 - torch.tanh(x) ** 2)                 # the derivative applied to the output again
                if answer.numel() == true.numel() and _same(answer.reshape(true.shape), again, image):
                    raise CheckFailed("Your rule applies tanh to the image again: the image already is tanh(u), so "
                                      "the derivative is 1 - x^2 with x the image itself, Eq. (ch3-tanh).")
                check_close(f"dL/du (images {shape}, {dtype})", answer, true, truth="autograd's", quiet=True, **TOL)
    except _NotAnswered:
        return _not_answered("your Tanh backward rule")
    print("Correct: dL/du matches autograd's for three image shapes, in float32 and float64.")
    return True


# --- what leaks into the generator when both mistakes are made, Eqs. (ch3-bce-grad), (ch3-gen-grad) ----

def check_leaked_logit_grad(fn: Callable) -> bool:
    """Chapter 3: ``fn(fake_logit)`` returns the per-logit sum of the two gradients that reach the generator when the
    discriminator step does not detach and the generator step does not zero: d/da of BCE(a, 0) + the
    non-saturating generator loss, both batch means.
    """
    from ...losses import bce_with_logits, generator_loss
    try:
        for dtype in DTYPES:
            for case, shape in enumerate(((6, 1), (4,), (2, 5))):
                logit = (3 * torch.randn(shape, generator=_gen(60 + case), dtype=DT)).to(dtype)
                answer = _as_tensor(_call(fn, logit.clone()), "your gradient")
                (true,) = _autograd(lambda a: bce_with_logits(a, 0.0) + generator_loss(a), logit,
                                    grad_out=torch.ones((), dtype=DT))
                a, n = logit.to(DT), logit.numel()
                for wrong, why in ((torch.zeros_like(a), "zero, the saturating loss's answer: with the non-saturating "
                                    "loss the two terms do not cancel"),
                                   ((torch.sigmoid(a) - 1) / n, "only the generator's own gradient; add the one the "
                                    "discriminator's loss left behind"),
                                   (torch.sigmoid(a) / n, "only the leaked gradient, from the discriminator's loss on "
                                    "the fakes; add the generator's own")):
                    if answer.shape == true.shape and _same(answer, wrong, logit):
                        raise CheckFailed(f"Your gradient for logits {_short(logit)} is {why}.")
                check_close(f"gradient ({shape}, {dtype})", answer, true, truth="autograd's", quiet=True, **TOL)
    except _NotAnswered:
        return _not_answered("your leaked gradient")
    print("Correct: your sum of the two gradients matches autograd's for three shapes, in float32 and float64.")
    return True


# --- Adam, Eq. (ch3-adam) ---------------------------------------------------------------------

def check_adam_step(fn: Callable, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                    eps: float = 1e-8) -> bool:
    """Chapter 3, Eq. (ch3-adam): one Adam step for one tensor, compared with ``torch.optim.Adam`` over three steps.

    ``fn(param, grad, m, v, step, lr, betas, eps)`` returns ``(new_param, new_m, new_v)``; ``step`` counts from
    1 (the step being taken), and ``m``, ``v`` start at zero. Tried in float64 and float32, on two shapes.
    """
    try:
        for dtype, shape in ((torch.float64, (2, 3)), (torch.float32, (5,))):
            g = _gen(5)
            param = torch.randn(shape, generator=g, dtype=DT).to(dtype)
            grads = [(torch.randn(shape, generator=g, dtype=DT) * scale).to(dtype) for scale in (1e-6, 1.0, 1e3)]
            w = param.clone().requires_grad_(True)
            opt = torch.optim.Adam([w], lr=lr, betas=betas, eps=eps)
            mine, m, v = param.clone(), torch.zeros_like(param), torch.zeros_like(param)
            for step, grad in enumerate(grads, start=1):
                before = mine.clone()
                w.grad = grad.clone()
                opt.step()
                result = _call(fn, mine.clone(), grad.clone(), m.clone(), v.clone(), step, lr, betas, eps)
                if not (isinstance(result, (tuple, list)) and len(result) == 3):
                    raise CheckFailed("Your function must return three tensors: (new_param, new_m, new_v).")
                mine, m, v = (_as_tensor(r, "your result") for r in result)
                state, after = opt.state[w], f"after step {step} ({dtype})"
                for label, mine_t, true_t in (("m", m, state["exp_avg"]), ("v", v, state["exp_avg_sq"])):
                    check_close(f"{label} {after}", mine_t, true_t, truth=f"torch.optim.Adam's {label}", rtol=1e-9,
                                atol=1e-30, quiet=True)
                check_step(f"parameter {after}", mine, before, w.detach(), truth="torch.optim.Adam's", rtol=1e-6,
                           quiet=True)
    except _NotAnswered:
        return _not_answered("your Adam step")
    print("Correct: three steps of your Adam match torch.optim.Adam (gradients 1e-6 to 1e3, float64 and float32).")
    return True
