"""Machinery: checks for the exercises that ask for code: each says, in plain words, whether an answer is right.

A check compares the student's answer with the book's own (``gan_lib`` or ``torch.autograd``) and either
prints ``Correct: ...`` and returns ``True``, or raises :class:`CheckFailed` (an ``AssertionError``) whose
message names what differs, where, and by how much::

    Your gradient differs from the true one by 3.0e-02 at entry (0, 4): yours is 0.1234, the true value is 0.1534.

An answer that is not written yet (a stub that returns ``None`` or ``...``, or raises ``NotImplementedError``)
is not an error: the check prints what to do and returns ``False``, so a student notebook still runs top to
bottom before every exercise is done.

* :func:`check_close` - any tensor (or number) against the true one.
* :func:`check_grad` - a gradient against autograd's gradient of a function.
* :func:`check_num_params` - chapter 1: a parameter count by hand.
* :func:`check_bce`, :func:`check_bce_with_logits`, :func:`check_logit_grad` - chapter 2.
* :func:`check_leaky_relu_backward`, :func:`check_tanh_backward`, :func:`check_adam_step` - chapter 3.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

# float64 throughout: the checks compare derivations, not rounding.
DT = torch.float64


class CheckFailed(AssertionError):
    """A wrong answer to an exercise; the message says what differs and where."""


class _NotAnswered(Exception):
    pass


def _not_answered(name: str) -> bool:
    print(f"Not answered yet: {name} is still the stub (it returned None or raised NotImplementedError). "
          "Write your answer in the cell above and run this check again.")
    return False


def _call(fn: Callable, *args):
    """Run the student's function; a stub (None, ..., NotImplementedError) means 'not answered yet'."""
    try:
        result = fn(*args)
    except NotImplementedError as err:
        raise _NotAnswered from err
    if result is None or result is Ellipsis:
        raise _NotAnswered
    return result


def _as_tensor(value, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach()
    try:
        return torch.as_tensor(value, dtype=DT)
    except (TypeError, ValueError, RuntimeError) as err:
        raise CheckFailed(f"{name.capitalize()} is a {type(value).__name__}, not a tensor or a number: "
                          "return a torch.Tensor.") from err


def _entry(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(i) for i in index) + ")" if len(index) != 1 else f"({index[0]})"


def _shape_hint(answer: torch.Tensor, expected: torch.Tensor) -> str:
    a, e = tuple(answer.shape), tuple(expected.shape)
    if answer.dim() == 2 and a == e[::-1]:
        return " It looks transposed: try .T."
    if [s for s in a if s != 1] == [s for s in e if s != 1]:
        return (" The entries could match, but a dimension of size 1 is extra or missing: "
                "use .squeeze() or .reshape() to give it the true shape.")
    if answer.numel() == expected.numel():
        return " It has the right number of entries, arranged differently: use .reshape()."
    if answer.dim() == 0 and expected.dim() > 0:
        return " Yours is a single number: did you sum or average where you should not have?"
    if expected.dim() == 0 and answer.dim() > 0:
        return " The true answer is a single number: did you forget to take the mean over the batch?"
    return ""


def _ratio_hint(answer: torch.Tensor, expected: torch.Tensor) -> str:
    """Name a constant factor between the two (a forgotten 1/N, a sign), if there is one."""
    mask = expected.abs() > 1e-12
    if mask.sum() < 2:
        return ""
    ratio = answer[mask] / expected[mask]
    r = ratio.mean().item()
    if not torch.isfinite(ratio).all() or not torch.allclose(ratio, torch.full_like(ratio, r), rtol=1e-6, atol=0):
        return ""
    if abs(r + 1) < 1e-6:
        return " Every entry has the wrong sign: check the sign of your derivative."
    n = expected.numel()
    if abs(r - n) < 1e-6 * n:
        return f" Yours is exactly {n} times the true one (the batch size): did you forget the 1/N of the mean?"
    if abs(r * n - 1) < 1e-6:
        return f" Yours is exactly 1/{n} of the true one: you divided by the batch size once too often."
    return f" Yours is the true one times {r:.4g} everywhere: a constant factor is wrong."


def check_close(name: str, answer, expected, rtol: float = 1e-6, atol: float = 1e-9,
                truth: str = "the true one", quiet: bool = False) -> bool:
    """Compare ``answer`` with ``expected`` entry by entry, like ``torch.allclose(answer, expected, rtol, atol)``.

    Prints ``Correct: ...`` and returns True, or raises :class:`CheckFailed` naming the entry where the answer
    is furthest outside the tolerance, e.g. "your gradient differs from the true one by 3.0e-02 at entry (0, 4)".
    ``name`` is what the student computed ("gradient"); ``truth`` names the reference ("torch.optim.Adam's").
    ``quiet=True`` prints nothing when the answer is right (for checks made of several comparisons).
    """
    if answer is None or answer is Ellipsis:
        return _not_answered(f"your {name}")
    answer, expected = _as_tensor(answer, f"your {name}"), _as_tensor(expected, truth)
    if answer.shape != expected.shape:
        raise CheckFailed(f"Your {name} has shape {tuple(answer.shape)}, but {truth} has shape "
                          f"{tuple(expected.shape)}.{_shape_hint(answer, expected)}")
    if not (answer.is_floating_point() or answer.is_complex()):
        answer = answer.to(DT)
    answer, expected = answer.to(DT).cpu(), expected.to(DT).cpu()
    bad_nan = torch.isnan(answer) & ~torch.isnan(expected)
    if bad_nan.any():
        index = tuple(int(i) for i in bad_nan.nonzero()[0])
        raise CheckFailed(f"Your {name} is nan at entry {_entry(index)} ({int(bad_nan.sum())} of {answer.numel()} "
                          f"entries), where {truth} is {expected[index].item():.6g}. A nan usually comes from "
                          "0/0, inf - inf or log of a negative number.")
    both_inf = torch.isinf(answer) & (answer == expected)
    error = torch.where(both_inf | (torch.isnan(answer) & torch.isnan(expected)),
                        torch.zeros_like(answer), (answer - expected).abs())
    error = torch.nan_to_num(error, nan=float("inf"))
    allowed = atol + rtol * expected.abs().nan_to_num(0.0, posinf=0.0, neginf=0.0)
    excess = error - allowed
    if (excess <= 0).all():
        if not quiet:
            print(f"Correct: your {name} matches {truth} (largest difference {error.max().item():.1e}).")
        return True
    flat = int(excess.flatten().argmax())
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), answer.shape)) if answer.dim() else ()
    where = f" at entry {_entry(index)}" if index else ""
    count = int((excess > 0).sum())
    mine, true = answer[index].item(), expected[index].item()
    raise CheckFailed(
        f"Your {name} differs from {truth} by {error[index].item():.1e}{where}: yours is {mine:.6g}, "
        f"the true value is {true:.6g} (allowed: {atol:.0e} + {rtol:.0e} x |true value|; "
        f"{count} of {answer.numel()} entries are off).{_ratio_hint(answer, expected)}")


def check_grad(answer, fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, name: str = "gradient",
               rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Is ``answer`` the gradient of the scalar ``fn(x)`` with respect to ``x``? Compared with autograd's."""
    x = x.detach().clone().requires_grad_(True)
    (true_grad,) = torch.autograd.grad(fn(x), x)
    return check_close(name, answer, true_grad, rtol=rtol, atol=atol, truth="autograd's")


def check_num_params(answer: int, widths: Sequence[int]) -> bool:
    """Chapter 1, Eq. (ch1-scale): the parameters of a stack of Linear layers with these widths, counted by hand."""
    from ..models import mlp_num_params
    if answer is None or answer is Ellipsis:
        return _not_answered("your count")
    true = mlp_num_params(list(widths))
    if int(answer) == true:
        print(f"Correct: {true:,} parameters.")
        return True
    off = int(answer) - true
    biases = sum(widths[1:])
    hint = (" That is exactly the number of biases: count one bias per output unit." if abs(off) == biases else
            " Each Linear layer from a to b units has (a + 1) x b parameters: a x b weights and b biases.")
    raise CheckFailed(f"Your count is {int(answer):,}, but the layers {list(widths)} have {true:,} parameters "
                      f"({'too many' if off > 0 else 'too few'} by {abs(off):,}).{hint}")


def _cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(prob, target) batches: hard and soft targets, confident and unsure predictions, N = 1 and N = 8."""
    g = torch.Generator().manual_seed(0)
    prob = torch.rand(8, generator=g, dtype=DT) * 0.98 + 0.01
    return [(prob, (torch.rand(8, generator=g) > 0.5).to(DT)),
            (prob, torch.rand(8, generator=g, dtype=DT)),
            (torch.tensor([0.3], dtype=DT), torch.tensor([1.0], dtype=DT))]


def check_bce(fn: Callable) -> bool:
    """Chapter 2, Eq. (ch2-bce): ``fn(prob, target)`` returns the mean binary cross-entropy of a batch."""
    from ..losses import bce
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
    from ..losses import bce_with_logits
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
    from ..losses import bce_with_logits
    g = torch.Generator().manual_seed(2)
    logit, target = torch.randn(2, 5, generator=g, dtype=DT) * 2, torch.rand(2, 5, generator=g, dtype=DT)
    try:
        answer = _call(fn, logit.clone(), target.clone())
    except _NotAnswered:
        return _not_answered("your gradient function")
    return check_grad(answer, lambda a: bce_with_logits(a, target), logit, name="gradient")


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


def _short(t: torch.Tensor) -> str:
    values = ", ".join(f"{v:.3g}" for v in t.flatten()[:3].tolist())
    return f"[{values}{', ...' if t.numel() > 3 else ''}]"
