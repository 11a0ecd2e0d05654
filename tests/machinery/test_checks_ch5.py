"""Chapter 5's exercise checks: convolution arithmetic; right answers in every form pass, typical mistakes are named."""
import numpy as np
import pytest
import torch

from gan_lib.machinery import checks
from gan_lib.machinery.checks import CheckFailed


def stub(*args):
    raise NotImplementedError


# --- receptive field -------------------------------------------------------------------------------

def receptive_field(layers):
    field, jump = 1, 1
    for kernel, stride in layers:
        field, jump = field + (kernel - 1) * jump, jump * stride
    return field


def test_check_receptive_field_accepts_right_answers_as_ints_floats_and_tensors():
    assert checks.check_receptive_field(receptive_field)
    assert checks.check_receptive_field(lambda layers: float(receptive_field(layers)))
    assert checks.check_receptive_field(lambda layers: torch.tensor(receptive_field(layers)))
    assert checks.check_receptive_field(lambda layers: np.int64(receptive_field(layers)))


def _no_jump(layers):
    return 1 + sum(k - 1 for k, _ in layers)


def _own_stride(layers):
    field, jump = 1, 1
    for kernel, stride in layers:
        jump *= stride
        field += (kernel - 1) * jump
    return field


@pytest.mark.parametrize("wrong, message", [
    (_no_jump, "ignores the strides"),
    (_own_stride, "strides \\*before\\* it"),
    (lambda layers: receptive_field(layers) - 1, "One short"),
    (lambda layers: receptive_field(layers) + 1, "sees"),
    (lambda layers: 10, "For the stack"),     # the chapter's own answer, hard-coded
    (lambda layers: "10", "text"),
])
def test_check_receptive_field_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_receptive_field(wrong)


def test_a_stub_is_not_answered(capsys):
    assert checks.check_receptive_field(stub) is False
    assert checks.check_transposed_padding(lambda k, s: None) is False
    assert checks.check_overlap(stub) is False
    assert capsys.readouterr().out.count("Not answered yet") == 3


# --- padding of a transposed convolution ------------------------------------------------------------

def padding(kernel, stride):
    p = max(0, -(-(kernel - stride) // 2))
    return p, 2 * p - (kernel - stride)


def test_check_transposed_padding_accepts_any_valid_pair():
    assert checks.check_transposed_padding(padding)

    def larger(kernel, stride):  # for stride 3 and up, a larger padding with a larger output_padding also works
        p, op = padding(kernel, stride)
        return (p + 1, op + 2) if op + 2 < stride else (p, op)
    assert checks.check_transposed_padding(larger)
    assert checks.check_transposed_padding(lambda k, s: list(padding(k, s)))


@pytest.mark.parametrize("wrong, message", [
    (lambda k, s: ((k - 1) // 2, 0), "becomes"),                 # "same" padding, no output_padding
    (lambda k, s: (0, k - s) if k >= s else (0, 0), "smaller than"),
    (lambda k, s: (-1, 0), "negative"),
    (lambda k, s: 1, "two whole numbers"),
    (lambda k, s: (1.5, 0), "not a whole number"),
])
def test_check_transposed_padding_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_transposed_padding(wrong)


# --- overlap pattern ---------------------------------------------------------------------------------

def overlap(kernel, stride):
    return [kernel // stride + (1 if r < kernel % stride else 0) for r in range(stride)]


def test_check_overlap_accepts_lists_tuples_and_tensors():
    assert checks.check_overlap(overlap)
    assert checks.check_overlap(lambda k, s: tuple(overlap(k, s)))
    assert checks.check_overlap(lambda k, s: torch.tensor(overlap(k, s)))


@pytest.mark.parametrize("wrong, message", [
    (lambda k, s: overlap(k, s)[::-1], "wrong order"),
    (lambda k, s: [k / s] * s, "not a whole number"),
    (lambda k, s: [k // s] * s, "add up to the kernel size"),
    (lambda k, s: overlap(k, s)[:1], "one per residue"),
    (lambda k, s: k, "return a list"),
])
def test_check_overlap_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_overlap(wrong)
