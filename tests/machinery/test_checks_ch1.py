"""Chapter 1's exercise checks: right answers pass, typical wrong ones are named, a stub is 'not yet'."""
import numpy as np
import pytest

from gan_lib.machinery import checks
from gan_lib.machinery.checks import CheckFailed


def counts(widths):
    pairs = list(zip(widths[:-1], widths[1:]))
    return sum(a * b for a, b in pairs), sum(b for _, b in pairs)


def test_check_num_params_accepts_equivalent_answers(capsys):
    assert checks.check_num_params(counts)
    assert "Correct" in capsys.readouterr().out
    # a list, NumPy integers and whole floats are fine too
    assert checks.check_num_params(lambda w: [np.int64(counts(w)[0]), float(counts(w)[1])])


@pytest.mark.parametrize("wrong, message", [
    (lambda w: counts(w)[::-1], "swapped"),
    (lambda w: (counts(w)[0], sum(w[:-1])), "one per \\*input\\* unit"),
    (lambda w: (sum(counts(w)), counts(w)[1]), "the total"),
    (lambda w: (counts(w[:-1])[0], counts(w)[1]), "miss the last layer"),
    (lambda w: (counts(w)[0] + 1, counts(w)[1]), "a x b weight matrix and b biases"),
])
def test_check_num_params_names_typical_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_num_params(wrong)


def test_check_num_params_tries_widths_the_chapter_does_not_print():
    book = {(100, 256, 512, 1024, 784): (1_483_776, 2_576)}
    hard_coded = lambda w: book.get(tuple(w), (0, 0))  # noqa: E731
    with pytest.raises(CheckFailed, match=r"For widths \[3, 1\]"):
        checks.check_num_params(hard_coded)


def test_check_num_params_rejects_fractions_and_text():
    with pytest.raises(CheckFailed, match="not a whole number"):
        checks.check_num_params(lambda w: (counts(w)[0] + 0.5, counts(w)[1]))
    with pytest.raises(CheckFailed, match="text"):
        checks.check_num_params(lambda w: (f"{counts(w)[0]:,}", counts(w)[1]))
    with pytest.raises(CheckFailed, match="two whole numbers"):
        checks.check_num_params(lambda w: sum(counts(w)))


def test_check_num_params_stub_is_not_an_error(capsys):
    def stub(widths):
        raise NotImplementedError
    assert checks.check_num_params(stub) is False
    assert checks.check_num_params(lambda w: None) is False
    assert "Not answered yet" in capsys.readouterr().out
