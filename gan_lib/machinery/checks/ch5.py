"""Machinery: the checks of chapter 5's exercises: convolution arithmetic, asked of stacks the chapter never prints.

Every answer is a whole number (or a few), and every true answer comes from torch's own layers, not from the
chapter's formulas: a receptive field from autograd, a padding from running ``ConvTranspose2d``, an overlap
pattern from ``conv_transpose1d`` of ones.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .core import DT, CheckFailed, _call, _not_answered, _NotAnswered, as_count

__all__ = ["check_overlap", "check_receptive_field", "check_transposed_padding"]

# (kernel, stride) stacks: the chapter's discriminator first, then stacks it never shows.
_STACKS = ([(4, 2), (4, 2)], [(3, 1), (3, 1), (3, 1)], [(5, 2), (3, 2), (3, 1)], [(7, 1)], [(2, 2), (2, 2), (2, 2)],
           [(3, 2), (3, 2), (3, 2), (3, 2)], [(1, 1), (5, 3)])


def true_receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    """The side of the input patch that reaches one output unit, from autograd on a real 1-D stack of convolutions."""
    size = 1
    for kernel, stride in layers:
        size = size * stride + kernel   # an input long enough for several outputs after every layer
    size += 64
    x = torch.zeros(1, 1, size, dtype=DT, requires_grad=True)
    y = x
    for kernel, stride in layers:       # weights of ones: no gradient can cancel by accident
        y = F.conv1d(y, torch.ones(1, 1, kernel, dtype=DT), stride=stride)
    (grad,) = torch.autograd.grad(y[0, 0, y.shape[-1] // 2], x)
    reached = grad[0, 0].nonzero()
    return int(reached.max() - reached.min() + 1)


def _wrong_receptive_fields(layers) -> dict[str, int]:
    """Typical wrong formulas, each with the hint that names its mistake."""
    no_jump, own_stride, jump = 1, 1, 1
    for kernel, stride in layers:
        no_jump += kernel - 1
        own_stride += (kernel - 1) * jump * stride
        jump *= stride
    return {" Each layer adds (k - 1) steps *of the layer below it*, and one such step is the product of the "
            "strides of the layers before it (the jump): your answer ignores the strides.": no_jump,
            " The jump of a layer is the product of the strides *before* it: a layer's own stride only spaces out "
            "the units of the next layer.": own_stride}


def check_receptive_field(fn: Callable) -> bool:
    """Chapter 5: ``fn(layers)`` returns the side of the receptive field of one output unit of a stack of
    convolutions, given as a list of (kernel, stride) pairs from the input upwards (padding does not matter)."""
    try:
        for layers in _STACKS:
            answer = as_count(_call(fn, [tuple(layer) for layer in layers]), "receptive field")
            true = true_receptive_field(layers)
            if answer == true:
                continue
            hint = next((h for h, wrong in _wrong_receptive_fields(layers).items() if wrong == answer), "")
            if not hint and answer == true - 1:
                hint = " One short: a single pixel already has a receptive field of 1, so start counting from 1."
            raise CheckFailed(f"For the stack {layers} (kernel, stride from the input up) your receptive field is "
                              f"{answer}, but one output unit sees {true} input pixels in a row.{hint}")
    except _NotAnswered:
        return _not_answered("your receptive field")
    print(f"Correct: your receptive fields match autograd's on all {len(_STACKS)} stacks.")
    return True


# --- the padding that makes a transposed convolution multiply the side by its stride ---------------

_KERNEL_STRIDES = ((4, 2), (5, 2), (3, 2), (2, 2), (6, 3), (7, 3), (3, 3), (1, 2), (8, 4))


def _output_sides(kernel: int, stride: int, padding: int, output_padding: int) -> dict[int, int]:
    layer = nn.ConvTranspose2d(1, 1, kernel, stride, padding, output_padding=output_padding, bias=False)
    with torch.no_grad():
        return {n: layer(torch.zeros(1, 1, n, n)).shape[-1] for n in (3, 7, 10)}


def check_transposed_padding(fn: Callable) -> bool:
    """Chapter 5, Eq. (ch5-convT-size): ``fn(kernel, stride)`` returns ``(padding, output_padding)`` such that
    ``nn.ConvTranspose2d(c, c, kernel, stride, padding, output_padding=output_padding)`` turns a side n into exactly
    ``stride * n`` for every n. Any such pair is accepted; torch itself is the judge."""
    try:
        for kernel, stride in _KERNEL_STRIDES:
            answer = _call(fn, kernel, stride)
            if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
                raise CheckFailed(f"For kernel {kernel}, stride {stride} your function returned {answer!r}; return "
                                  "two whole numbers, (padding, output_padding).")
            padding, extra = as_count(answer[0], "padding"), as_count(answer[1], "output_padding")
            where = f"For kernel {kernel} and stride {stride}, padding={padding}, output_padding={extra}"
            if padding < 0 or extra < 0:
                raise CheckFailed(f"{where}: neither may be negative.")
            if extra >= stride:
                raise CheckFailed(f"{where}: torch refuses an output_padding of {extra}, which must be smaller than "
                                  f"the stride {stride}; raise the padding instead (each unit of padding removes 2 "
                                  "from the side, each unit of output_padding adds 1).")
            try:
                sides = _output_sides(kernel, stride, padding, extra)
            except RuntimeError as err:
                raise CheckFailed(f"{where}: torch cannot build or run that layer ({str(err).splitlines()[0]}).") from err
            wrong = {n: side for n, side in sides.items() if side != stride * n}
            if wrong:
                n, side = next(iter(wrong.items()))
                raise CheckFailed(f"{where}: a side of {n} becomes {side}, not {stride * n}. By Eq. (ch5-convT-size) "
                                  "the side is (n - 1) stride - 2 padding + kernel + output_padding; choose the two "
                                  "so that it equals stride * n for every n.")
    except _NotAnswered:
        return _not_answered("your padding")
    print(f"Correct: torch's ConvTranspose2d multiplies every side by the stride for all {len(_KERNEL_STRIDES)} "
          "(kernel, stride) pairs.")
    return True


# --- the overlap pattern of a transposed convolution (checkerboard artefacts) --------------------------

_OVERLAPS = ((4, 2), (3, 2), (5, 2), (3, 3), (5, 3), (7, 4), (2, 2), (6, 4))


def true_overlap(kernel: int, stride: int) -> list[int]:
    """How many kernel taps land on output pixel o (o mod stride = 0, 1, ...), away from the border: a transposed
    convolution of an input of ones with a kernel of ones counts them."""
    out = F.conv_transpose1d(torch.ones(1, 1, 16, dtype=DT), torch.ones(1, 1, kernel, dtype=DT), stride=stride)[0, 0]
    start = stride * (kernel // stride + 1)   # past the border, where fewer inputs reach
    return [int(out[start + r]) for r in range(stride)]


def check_overlap(fn: Callable) -> bool:
    """Chapter 5: ``fn(kernel, stride)`` returns, for a stride-s transposed convolution with a 1-D kernel of k taps
    and no padding, the number of taps that reach output pixel o for o mod s = 0, 1, ..., s - 1 (a list of s whole
    numbers), counted away from the border. Uneven counts are the checkerboard of Odena et al. (2016)."""
    try:
        for kernel, stride in _OVERLAPS:
            answer = _call(fn, kernel, stride)
            if isinstance(answer, torch.Tensor):
                answer = answer.tolist()
            if not isinstance(answer, (list, tuple)):
                raise CheckFailed(f"For kernel {kernel}, stride {stride} your function returned {answer!r}: return a "
                                  f"list of {stride} counts, one per output position modulo the stride.")
            if len(answer) != stride:
                raise CheckFailed(f"For kernel {kernel}, stride {stride} your list has {len(answer)} entries; it needs "
                                  f"one per residue o mod {stride}, so {stride}.")
            counts = [as_count(c, "count") for c in answer]
            true = true_overlap(kernel, stride)
            if counts == true:
                continue
            if sum(counts) != kernel:
                hint = f" Every tap lands on exactly one residue, so the counts add up to the kernel size {kernel}."
            elif sorted(counts) == sorted(true):
                hint = " The right counts in the wrong order: residue 0 is the output pixel o = i * stride + 0."
            else:
                hint = " Output pixel o = i * stride + j receives tap j of input i: count the taps j with j mod s = r."
            raise CheckFailed(f"For kernel {kernel}, stride {stride} your counts are {counts}, but torch's transposed "
                              f"convolution gives {true}.{hint}")
    except _NotAnswered:
        return _not_answered("your overlap counts")
    print(f"Correct: your overlap counts match torch's transposed convolution for all {len(_OVERLAPS)} pairs.")
    return True
