"""Machinery: the checks of chapter 1's exercises."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from .core import CheckFailed, _call, _not_answered, _NotAnswered, as_count

__all__ = ["check_num_params"]

# Width lists the check counts; only the first is the chapter's, the others are not printed anywhere.
_WIDTHS = ([100, 256, 512, 1024, 784], [3, 1], [7, 5, 2], [784, 1024, 512, 256, 1], [16, 16, 16, 16])


def _true_counts(widths: Sequence[int]) -> tuple[int, int]:
    """Count from real nn.Linear layers (not from Eq. (ch1-params)): (weights, biases)."""
    layers = [nn.Linear(a, b, device="meta") for a, b in zip(widths[:-1], widths[1:])]
    return sum(layer.weight.numel() for layer in layers), sum(layer.bias.numel() for layer in layers)


def check_num_params(fn: Callable) -> bool:
    """Chapter 1, Eq. (ch1-params): ``fn(widths)`` returns ``(num_weights, num_biases)`` of a stack of Linear layers.

    ``widths`` is the list n_0, n_1, ..., n_L of a multilayer perceptron; the check tries several lists,
    including ones the chapter never prints, and builds real ``nn.Linear`` layers to know the answer.
    """
    try:
        for widths in _WIDTHS:
            answer = _call(fn, list(widths))
            if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
                raise CheckFailed(f"For widths {widths} your function returned {answer!r}; return two whole "
                                  "numbers, (num_weights, num_biases).")
            weights, biases = as_count(answer[0], "number of weights"), as_count(answer[1], "number of biases")
            true_w, true_b = _true_counts(widths)
            if (weights, biases) == (true_w, true_b):
                continue
            if (weights, biases) == (true_b, true_w):
                hint = " The two numbers are swapped: return (weights, biases)."
            elif biases == sum(widths[:-1]):
                hint = " Your biases count one per *input* unit; a layer has one bias per *output* unit."
            elif weights == true_w + true_b:
                hint = " Your first number is the total, weights and biases together; split it."
            elif weights == sum(a * b for a, b in zip(widths[:-2], widths[1:-1])):
                hint = " Your weights miss the last layer: a list of L + 1 widths has L layers."
            else:
                hint = " A Linear layer from a to b units has an a x b weight matrix and b biases."
            raise CheckFailed(f"For widths {widths} you count {weights:,} weights and {biases:,} biases, but the "
                              f"layers have {true_w:,} weights and {true_b:,} biases.{hint}")
    except _NotAnswered:
        return _not_answered("your parameter count")
    print(f"Correct: your counts match real nn.Linear layers for all {len(_WIDTHS)} width lists.")
    return True
