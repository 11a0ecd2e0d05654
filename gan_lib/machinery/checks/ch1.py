"""Machinery: the checks of chapter 1's exercises."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from .core import DT, CheckFailed, _as_tensor, _call, _not_answered, _NotAnswered, _short, check_close, check_grad

__all__ = ["check_num_params"]


def check_num_params(answer: int, widths: Sequence[int]) -> bool:
    """Chapter 1, Eq. (ch1-scale): the parameters of a stack of Linear layers with these widths, counted by hand."""
    from ...models import mlp_num_params
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
