"""Machinery: the hints a failed check adds to its message: a wrong shape, a constant factor, a sign, all zeros.

Each hint is an empty string or one sentence that starts with a space, so a check appends it to its message.
They name a likely mistake without giving the answer away.
"""
from __future__ import annotations

import torch


def shape_hint(answer: torch.Tensor, expected: torch.Tensor) -> str:
    """Why ``answer``'s shape may differ from ``expected``'s: transposed, a size-1 dimension, a reduction."""
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


def _constant_ratio(answer: torch.Tensor, expected: torch.Tensor, atol: float = 0.0) -> tuple[float | None, int]:
    """(r, entries) when ``answer`` is ``r`` times ``expected`` everywhere, up to ``atol`` of rounding noise.

    ``entries`` counts the entries that fix ``r`` (those well above zero and the noise); r is None when there is
    no such constant.
    """
    scale = expected.abs().max().item() if expected.numel() else 0.0
    if scale == 0:
        return None, 0
    mask = expected.abs() > max(1e-12 * scale, 10 * atol)
    entries = int(mask.sum())
    if entries == 0:
        return None, 0
    ratio = answer[mask] / expected[mask]
    if not torch.isfinite(ratio).all():
        return None, entries
    r = ratio.median().item()
    # 1e-4, not 1e-6: a float32 answer's ratios scatter by about 1e-7, and by more where entries cancel.
    if ((answer - r * expected).abs() > 1e-4 * abs(r) * expected.abs() + atol + 1e-15 * abs(r) * scale).any():
        return None, entries
    return r, entries


def factor_hint(answer: torch.Tensor, expected: torch.Tensor) -> str:
    """Name a constant factor between the two (a forgotten 1/N, a sign), or an answer that is all zeros."""
    if answer.numel() and bool((answer == 0).all()) and bool((expected != 0).any()):
        return " Yours is zero everywhere: nothing was computed (a torch.zeros_like left in place?)."
    r, entries = _constant_ratio(answer, expected)
    if r is None or abs(r - 1) < 1e-3:
        return ""  # no factor, or the gap is rounding (said elsewhere), not a factor: never "times 1"
    if abs(r + 1) < 1e-4:
        return " Every entry has the wrong sign: check the sign of your derivative." if entries > 1 else \
            " It has the wrong sign: check the sign of your derivative."
    if entries < 2:
        return ""  # any two numbers have a ratio: one entry says nothing about a constant factor
    counts = [(expected.numel(), "the number of entries")]
    if expected.dim() >= 2 and expected.shape[0] > 1:
        counts.append((expected.shape[0], "the batch size, the first dimension"))
    for count, what in counts:
        if count > 1 and abs(r - count) < 1e-4 * count:
            return f" Yours is exactly {count} times the true one ({what}): did you forget the 1/N of the mean?"
        if count > 1 and abs(r * count - 1) < 1e-4:
            return f" Yours is exactly 1/{count} of the true one ({what}): you divided by N once too often."
    return f" Yours is the true one times {r:.4g} everywhere: a constant factor is wrong."


def step_hint(mine: torch.Tensor, true: torch.Tensor, atol: float = 0.0) -> str:
    """Name what is wrong with a step ``mine = new - old`` against the ``true`` step, if it is one thing.

    ``atol`` is the rounding noise of ``mine`` (that of the parameter it was taken from).
    """
    if mine.numel() and bool((mine == 0).all()) and bool((true != 0).any()):
        return (" Your parameter did not move: the step new - old is zero everywhere "
                "(did you return the old parameter, or update a copy?).")
    nonzero = true.abs() > atol
    if bool(nonzero.any()) and bool((torch.sign(mine[nonzero]) == -torch.sign(true[nonzero])).all()):
        r, _ = _constant_ratio(mine, true, atol)
        size = "" if r is None or abs(r + 1) < 1e-4 else f", and its size is {abs(r):.4g} times the true one"
        return (" Your step goes the wrong way: new - old has the opposite sign of the true step at every entry"
                f"{size} (did you add the update instead of subtracting it?).")
    r, entries = _constant_ratio(mine, true, atol)
    if r is not None and entries > 1 and abs(r - 1) >= 1e-3:
        return (f" Your step is the true one times {r:.4g} everywhere: a factor in it (the learning rate, a bias "
                "correction?) is wrong.")
    return ""
