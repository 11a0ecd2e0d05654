"""Machinery: the core of the exercises' checks. Each check says, in plain words, whether an answer is right.

A check compares the student's answer with the book's own (``gan_lib`` or ``torch.autograd``) and either
prints ``Correct: ...`` and returns ``True``, or raises :class:`CheckFailed` (an ``AssertionError``) whose
message names what differs, where, and by how much::

    Your gradient differs from the true one by 3.0e-02 at entry (0, 4): yours is 0.1234, the true value is 0.1534.

In a notebook that message is the whole output: :class:`CheckFailed` renders as its message alone, not as a
traceback through ``gan_lib``. An answer that is not written yet (a stub that returns ``None`` or ``...``, or
raises ``NotImplementedError``) is not an error: the check prints what to do and returns ``False``, so a student
notebook still runs top to bottom before every exercise is done.

Tolerances go by dtype: the ``rtol``/``atol`` a check passes are meant for float64, and a float32 (or half)
answer is never held to more than its precision allows (``TOLERANCE_FLOORS``), so a right answer computed in
float32 passes. Values are printed with enough digits to show that they differ, and a float64 answer that misses
only by float32-sized rounding is told so. The checks of each chapter are in ``checks/chN.py``.
"""
from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Sequence

import torch

from .hints import factor_hint, shape_hint, step_hint

# The checks build their inputs and reference answers in float64.
DT = torch.float64
RTOL, ATOL = 1e-6, 1e-9  # the default tolerances (a float64 answer), like torch.allclose(rtol, atol)
# The least tolerance an answer of each dtype gets: (rtol, atol as a fraction of the largest true entry).
TOLERANCE_FLOORS = {torch.float64: (1e-12, 1e-12), torch.float32: (1e-5, 1e-6),
                    torch.float16: (2e-3, 2e-3), torch.bfloat16: (1.6e-2, 1.6e-2)}


class CheckFailed(AssertionError):
    """A wrong answer to an exercise; the message says what differs and where.

    In IPython (Jupyter, Colab, nbclient, nbgrader) it renders as its message alone, one line, not a traceback.
    """

    def _render_traceback_(self) -> list[str]:
        return str(self).splitlines() or ["CheckFailed"]


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
    if isinstance(value, (str, bytes)):
        raise CheckFailed(f"{name.capitalize()} is the text {value!r}, not a number: write it without quotes.")
    try:
        return torch.as_tensor(value, dtype=DT)
    except (TypeError, ValueError, RuntimeError) as err:
        raise CheckFailed(f"{name.capitalize()} is a {type(value).__name__}, not a tensor or a number: "
                          "return a torch.Tensor.") from err


def _entry(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(i) for i in index) + ")" if len(index) != 1 else f"({index[0]})"


def _floors(*dtypes: torch.dtype) -> tuple[float, float]:
    """The tolerance floors of the least precise floating dtype among ``dtypes``."""
    floors = [TOLERANCE_FLOORS.get(d, TOLERANCE_FLOORS[DT]) for d in dtypes if d.is_floating_point]
    return (max(f[0] for f in floors), max(f[1] for f in floors)) if floors else TOLERANCE_FLOORS[DT]


def tolerances(dtype: torch.dtype, scale: float = 1.0, rtol: float | None = None,
               atol: float | None = None) -> tuple[float, float]:
    """The (rtol, atol) an answer of ``dtype`` is held to: the given (float64) ones, raised to the dtype's floor.

    ``scale`` is the size of the largest true entry; the floor's atol is a fraction of it.
    """
    floor_r, floor_a = _floors(dtype)
    return max(RTOL if rtol is None else rtol, floor_r), max(ATOL if atol is None else atol, floor_a * scale)


def _digits(mine: float, true: float) -> tuple[str, str]:
    """Both numbers with the fewest significant digits (at least 6) that tell them apart."""
    for d in range(6, 18):
        a, b = f"{mine:.{d}g}", f"{true:.{d}g}"
        if a != b:
            return a, b
    return repr(mine), repr(true)


def _compare(name: str, answer: torch.Tensor, expected: torch.Tensor, rtol, atol, truth: str, *,
             dtypes: tuple | None = None, scale: float | None = None, value_word: str = "value",
             round_scale: float | None = None, hint: str | None = None) -> None:
    """Raise CheckFailed naming the worst entry of ``answer`` outside the tolerance of ``expected``; else None.

    ``dtypes`` decide the floors (default: the two tensors'); ``scale`` is what the floor's atol is relative
    to (default: the largest true entry), ``round_scale`` what the rounding note is (default: ``scale``);
    ``hint`` replaces the factor hint.
    """
    dtypes = dtypes or (answer.dtype, expected.dtype)
    answer, expected = answer.to(DT).cpu(), expected.to(DT).cpu()
    finite = expected[torch.isfinite(expected)].abs()
    if scale is None:
        scale = finite.max().item() if finite.numel() and finite.max() > 0 else 1.0
    floor_r, floor_a = _floors(*dtypes)
    rtol = max(RTOL if rtol is None else rtol, floor_r)
    atol = max(ATOL if atol is None else atol, floor_a * scale)
    bad_nan = torch.isnan(answer) & ~torch.isnan(expected)
    if bad_nan.any():
        index = tuple(int(i) for i in bad_nan.nonzero()[0])
        raise CheckFailed(f"Your {name} is nan at entry {_entry(index)} ({int(bad_nan.sum())} of {answer.numel()} "
                          f"entries), where {truth} is {expected[index].item():.6g}. A nan usually comes from "
                          "0/0, inf - inf or log of a negative number.")
    same = (torch.isinf(answer) & (answer == expected)) | (torch.isnan(answer) & torch.isnan(expected))
    error = torch.where(same, torch.zeros_like(answer), (answer - expected).abs()).nan_to_num(nan=float("inf"))
    allowed = atol + rtol * expected.abs().nan_to_num(0.0, posinf=0.0, neginf=0.0)
    excess = error - allowed
    if (excess <= 0).all():
        return
    flat = int(excess.flatten().argmax())
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), answer.shape)) if answer.dim() else ()
    where = f" at entry {_entry(index)}" if index else ""
    count = int((excess > 0).sum())
    mine, true = _digits(answer[index].item(), expected[index].item())
    off = f"; {count} of {answer.numel()} entries are off" if answer.numel() > 1 else ""
    message = (f"Your {name} differs from {truth} by {error[index].item():.1e}{where}: yours is {mine}, "
               f"the true {value_word} is {true} (allowed there: {allowed[index].item():.1e}{off}).")
    rounding = _rounding_note(error, expected, scale if round_scale is None else round_scale)
    raise CheckFailed(message + (rounding or factor_hint(answer, expected) if hint is None else hint or rounding))


def _rounding_note(error: torch.Tensor, expected: torch.Tensor, scale: float) -> str:
    """Say so when every gap is no bigger than float32 rounding: a few dozen ulps of each entry, a few of the scale."""
    eps32 = torch.finfo(torch.float32).eps
    if scale <= 0 or not torch.isfinite(error).all() or not (error <= eps32 * (32 * expected.abs() + 4 * scale)).all():
        return ""
    relative = error.max().item() / scale
    return (f" The gap is only rounding ({relative:.1e} of the largest entry), the size float32 arithmetic leaves: "
            "your formula looks right, but part of it ran in float32 (a tensor or constant made without "
            "dtype=torch.float64?). Keep every step in float64.")


def check_close(name: str, answer, expected, rtol: float | None = None, atol: float | None = None,
                truth: str = "the true one", quiet: bool = False) -> bool:
    """Compare ``answer`` with ``expected`` entry by entry, like ``torch.allclose(answer, expected, rtol, atol)``.

    ``rtol`` and ``atol`` (default 1e-6 and 1e-9) are for a float64 answer; a float32 or half answer gets at
    least its dtype's floor (:data:`TOLERANCE_FLOORS`). Prints ``Correct: ...`` and returns True, or raises
    :class:`CheckFailed` naming the entry where the answer is furthest outside the tolerance, e.g. "your gradient
    differs from the true one by 3.0e-02 at entry (0, 4)", with a hint for a constant factor, a sign, an
    all-zero answer, a wrong shape, or a gap that is only rounding. ``name`` is what the student computed
    ("gradient"); ``truth`` names the reference ("torch.optim.Adam's"). ``quiet=True`` prints nothing when the
    answer is right (for checks made of several comparisons).
    """
    if answer is None or answer is Ellipsis:
        return _not_answered(f"your {name}")
    answer, expected = _as_tensor(answer, f"your {name}"), _as_tensor(expected, truth)
    if answer.shape != expected.shape:
        raise CheckFailed(f"Your {name} has shape {tuple(answer.shape)}, but {truth} has shape "
                          f"{tuple(expected.shape)}.{shape_hint(answer, expected)}")
    if not (answer.is_floating_point() or answer.is_complex()):
        answer = answer.to(DT)
    _compare(name, answer, expected, rtol, atol, truth)
    if not quiet:
        gap = (answer.to(DT).cpu() - expected.to(DT).cpu()).abs().nan_to_num(0.0, posinf=0.0, neginf=0.0)
        print(f"Correct: your {name} matches {truth} (largest difference {gap.max().item():.1e}).")
    return True


def check_step(name: str, new, old, expected, rtol: float | None = None, atol: float | None = None,
               truth: str = "the true one", quiet: bool = False) -> bool:
    """Compare a parameter after an optimiser step by its *step*: ``new - old`` against ``expected - old``.

    A step is small next to the parameter, so comparing parameters hides a wrong step (a sign, a factor) inside
    the tolerance. Here the step is held to ``rtol`` of its own size, plus the rounding of the parameter in the
    answer's dtype (a few ulps of ``max |expected|``), and a failure names the step: "your step goes the wrong
    way", "your parameter did not move", "your step is the true one times 2". Returns like :func:`check_close`.
    """
    if new is None or new is Ellipsis:
        return _not_answered(f"your {name}")
    new, old, expected = (_as_tensor(t, label) for t, label in ((new, f"your {name}"), (old, "the old value"),
                                                                 (expected, truth)))
    if new.shape != expected.shape:
        raise CheckFailed(f"Your {name} has shape {tuple(new.shape)}, but {truth} has shape "
                          f"{tuple(expected.shape)}.{shape_hint(new, expected)}")
    dtype = new.dtype if new.is_floating_point() else DT
    new64, old64, exp64 = new.to(DT).cpu(), old.to(DT).cpu(), expected.to(DT).cpu()
    mine, true = new64 - old64, exp64 - old64
    size = max(exp64.abs().max().item(), old64.abs().max().item()) if exp64.numel() else 0.0
    ulps = 8 * torch.finfo(dtype).eps * size  # the rounding of the parameter itself, in the answer's dtype
    _compare(f"step of {name} (new - old)", mine, true, rtol, max(ATOL if atol is None else atol, ulps),
             "the true step" if truth == "the true one" else f"{truth} step", dtypes=(dtype,), scale=0.0, round_scale=size, value_word="step",
             hint=step_hint(mine, true, ulps))
    if not quiet:
        print(f"Correct: your step of {name} matches {'the true step' if truth == 'the true one' else truth + ' step'}.")
    return True


def as_count(value, name: str = "count") -> int:
    """A whole number from the student's answer, or :class:`CheckFailed` saying why it is not one.

    Accepts ints (Python, NumPy, a one-entry integer tensor) and floats with a whole value (``579728.0``);
    rejects ``579728.9``, text such as ``"579,728"``, booleans and tensors of more than one entry, each with a
    one-line message.
    """
    if isinstance(value, bool):
        raise CheckFailed(f"Your {name} is {value}, not a number: write the count itself.")
    if isinstance(value, torch.Tensor) or hasattr(value, "item") and getattr(value, "size", 1) == 1:
        if getattr(value, "numel", lambda: 1)() != 1:
            raise CheckFailed(f"Your {name} is a tensor of shape {tuple(value.shape)}, not one number: "
                              "add up the entries, or use .item().")
        value = value.item()
    if isinstance(value, (str, bytes)):
        text = value.decode() if isinstance(value, bytes) else value
        if re.fullmatch(r"\s*[\d][\d,_ ]*\s*", text):
            digits = re.sub(r"[,_ ]", "", text)
            raise CheckFailed(f"Your {name} is the text {text!r}: write it as a number, {digits} "
                              f"(or {int(digits):_}), without quotes or commas.")
        raise CheckFailed(f"Your {name} is the text {text!r}, not a number: write a whole number, without quotes.")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if math.isfinite(value) and float(value).is_integer():
            return int(value)
        raise CheckFailed(f"Your {name} is {value!r}, not a whole number: a count is an integer "
                          "(did a division slip in? use // where it divides exactly).")
    raise CheckFailed(f"Your {name} is a {type(value).__name__}, not a whole number.")


def check_count(name: str, answer, true: int, hint: str = "") -> bool:
    """Is ``answer`` the whole number ``true``? ``hint`` is added to the message when it is not."""
    if answer is None or answer is Ellipsis:
        return _not_answered(f"your {name}")
    mine = as_count(answer, name)
    if mine == true:
        print(f"Correct: {true:,}.")
        return True
    off = mine - true
    raise CheckFailed(f"Your {name} is {mine:,}, but the true {name} is {true:,} "
                      f"({'too many' if off > 0 else 'too few'} by {abs(off):,}).{' ' + hint if hint else ''}")


def check_grad(answer, fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, name: str = "gradient",
               rtol: float | None = None, atol: float | None = None) -> bool:
    """Is ``answer`` the gradient of the scalar ``fn(x)`` with respect to ``x``? Compared with autograd's."""
    x = x.detach().clone().requires_grad_(True)
    (true_grad,) = torch.autograd.grad(fn(x), x)
    return check_close(name, answer, true_grad, rtol=rtol, atol=atol, truth="autograd's")


def check_function(fn: Callable, reference: Callable, cases: Sequence[tuple], name: str = "result",
                   truth: str = "the true one", rtol: float | None = None, atol: float | None = None,
                   what: str = "your function") -> bool:
    """Call ``fn`` and ``reference`` on each tuple of arguments in ``cases`` and compare the results.

    Give cases of more than one shape, so that an answer written for one shape (a hard-coded ``/10``) fails.
    Returns False (not answered) for a stub, True when every case matches; else raises :class:`CheckFailed`
    naming the case's shapes.
    """
    try:
        for args in cases:
            answer = _call(fn, *(a.clone() if isinstance(a, torch.Tensor) else a for a in args))
            shapes = ", ".join(str(tuple(a.shape)) for a in args if isinstance(a, torch.Tensor))
            check_close(f"{name} for inputs of shape {shapes}" if shapes else name, answer, reference(*args),
                        rtol=rtol, atol=atol, truth=truth, quiet=True)
    except _NotAnswered:
        return _not_answered(what)
    print(f"Correct: {what} matches {truth} on {len(cases)} cases.")
    return True


def _short(t: torch.Tensor) -> str:
    values = ", ".join(f"{v:.3g}" for v in t.flatten()[:3].tolist())
    return f"[{values}{', ...' if t.numel() > 3 else ''}]"
