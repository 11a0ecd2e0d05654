"""Machinery: the core of the exercises' checks. Each check says, in plain words, whether an answer is right.

A check compares the student's answer with the book's own (``gan_lib`` or ``torch.autograd``) and either
prints ``Correct: ...`` and returns ``True``, or raises :class:`CheckFailed` (an ``AssertionError``) whose
message names what differs, where, and by how much::

    Your gradient differs from the true one by 3.0e-02 at entry (0, 4): yours is 0.1234, the true value is 0.1534.

An answer that is not written yet (a stub that returns ``None`` or ``...``, or raises ``NotImplementedError``)
is not an error: the check prints what to do and returns ``False``, so a student notebook still runs top to
bottom before every exercise is done. The checks of each chapter are in ``checks/chN.py``.
"""
from __future__ import annotations

from collections.abc import Callable

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


def _short(t: torch.Tensor) -> str:
    values = ", ".join(f"{v:.3g}" for v in t.flatten()[:3].tolist())
    return f"[{values}{', ...' if t.numel() > 3 else ''}]"
