"""Machinery: the checks of chapter 3's exercises."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from .core import DT, CheckFailed, _as_tensor, _call, _not_answered, _NotAnswered, _short, check_close, check_grad

__all__ = ["check_adam_step", "check_leaky_relu_backward", "check_tanh_backward"]


def check_leaky_relu_backward(fn: Callable, negative_slope: float = 0.2) -> bool:
    """Chapter 3, Eq. (ch3-relu): ``fn(x, grad_y, negative_slope)`` returns dL/dx for y = LeakyReLU(x).

    The test input includes x = 0, where PyTorch uses the negative slope (the left derivative).
    """
    g = torch.Generator().manual_seed(3)
    x = torch.randn(4, 6, generator=g, dtype=DT)
    x[0, :3] = torch.tensor([0.0, -0.0, 1e-12], dtype=DT)
    grad_y = torch.randn(4, 6, generator=g, dtype=DT)
    try:
        answer = _call(fn, x.clone(), grad_y.clone(), negative_slope)
    except _NotAnswered:
        return _not_answered("your LeakyReLU backward rule")
    xr = x.clone().requires_grad_(True)
    (true,) = torch.autograd.grad(torch.nn.functional.leaky_relu(xr, negative_slope), xr, grad_y)
    answer_t = _as_tensor(answer, "your gradient")
    if answer_t.shape == true.shape and not torch.allclose(answer_t[0, :2].to(DT), true[0, :2]):
        if torch.allclose(answer_t[x != 0].to(DT), true[x != 0]):
            raise CheckFailed(f"Your gradient is right everywhere except at x = 0, where yours is "
                              f"{answer_t[0, 0].item():.6g} and PyTorch's is {true[0, 0].item():.6g}: PyTorch uses "
                              f"the negative slope there (x > 0 gets slope 1, x <= 0 gets slope {negative_slope}).")
    return check_close("gradient dL/dx", answer_t, true, truth="autograd's")


def check_tanh_backward(fn: Callable) -> bool:
    """Chapter 3, Eq. (ch3-tanh): ``fn(x, grad_x)`` returns dL/du for x = tanh(u), written with the output x."""
    g = torch.Generator().manual_seed(4)
    u = torch.randn(3, 5, generator=g, dtype=DT) * 2
    x, grad_x = torch.tanh(u), torch.randn(3, 5, generator=g, dtype=DT)
    try:
        answer = _call(fn, x.clone(), grad_x.clone())
    except _NotAnswered:
        return _not_answered("your Tanh backward rule")
    ur = u.clone().requires_grad_(True)
    (true,) = torch.autograd.grad(torch.tanh(ur), ur, grad_x)
    return check_close("gradient dL/du", answer, true, truth="autograd's")


def check_adam_step(fn: Callable, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                    eps: float = 1e-8) -> bool:
    """Chapter 3, Eq. (ch3-adam): one Adam step for one tensor, compared with ``torch.optim.Adam`` over three steps.

    ``fn(param, grad, m, v, step, lr, betas, eps)`` returns ``(new_param, new_m, new_v)``; ``step`` counts from
    1 (the step being taken), and ``m``, ``v`` start at zero.
    """
    g = torch.Generator().manual_seed(5)
    param = torch.randn(2, 3, generator=g, dtype=DT)
    grads = [torch.randn(2, 3, generator=g, dtype=DT) * scale for scale in (1e-6, 1.0, 1e3)]
    w = param.clone().requires_grad_(True)
    opt = torch.optim.Adam([w], lr=lr, betas=betas, eps=eps)
    mine, m, v = param.clone(), torch.zeros_like(param), torch.zeros_like(param)
    try:
        for step, grad in enumerate(grads, start=1):
            w.grad = grad.clone()
            opt.step()
            result = _call(fn, mine.clone(), grad.clone(), m.clone(), v.clone(), step, lr, betas, eps)
            if not (isinstance(result, (tuple, list)) and len(result) == 3):
                raise CheckFailed(f"Your function returned {type(result).__name__}; return three tensors: "
                                  "(new_param, new_m, new_v).")
            mine, m, v = (_as_tensor(r, "your result") for r in result)
            state = opt.state[w]
            after = f"after step {step}"
            check_close(f"m {after}", m, state["exp_avg"], truth="torch.optim.Adam's m", rtol=1e-9, atol=1e-15,
                        quiet=True)
            check_close(f"v {after}", v, state["exp_avg_sq"], truth="torch.optim.Adam's v", rtol=1e-9, atol=1e-24,
                        quiet=True)
            check_close(f"parameter {after}", mine, w.detach(), truth="torch.optim.Adam's", rtol=1e-9, atol=1e-15,
                        quiet=True)
    except _NotAnswered:
        return _not_answered("your Adam step")
    print("Correct: three steps of your Adam match torch.optim.Adam, with gradients from 1e-6 to 1e3.")
    return True
