"""The checks' core (gan_lib.machinery.checks.core): a right answer passes in float32 and float64; a wrong one is named,
with where and by how much, in one line that never contradicts itself; a stub is 'not yet'.

The checks of each chapter are tested in test_checks_chN.py.
"""
import re

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient

from gan_lib.machinery import checks
from gan_lib.machinery.checks import CheckFailed, as_count, check_count, check_function, check_step

DT = torch.float64


def _failure(fn, *args, **kwargs) -> str:
    with pytest.raises(CheckFailed) as info:
        fn(*args, **kwargs)
    return str(info.value)


def _values(message: str) -> tuple[str, str]:
    match = re.search(r"yours is (\S+), the true (?:value|step) is (\S+?) \(", message)
    assert match, message
    return match[1], match[2]


def test_check_close_passes_and_says_correct(capsys):
    assert checks.check_close("gradient", torch.ones(2, 5), torch.ones(2, 5))
    assert "Correct" in capsys.readouterr().out


def test_check_close_names_entry_and_size_of_error():
    expected = torch.zeros(2, 5, dtype=DT)
    answer = expected.clone()
    answer[0, 4] = 3e-2
    with pytest.raises(CheckFailed, match=re.escape("differs from the true one by 3.0e-02 at entry (0, 4)")):
        checks.check_close("gradient", answer, expected)


def test_check_close_explains_shape_mismatch():
    with pytest.raises(CheckFailed, match=r"shape \(3, 1\).*shape \(3,\).*size 1"):
        checks.check_close("gradient", torch.zeros(3, 1), torch.zeros(3))
    with pytest.raises(CheckFailed, match="transposed"):
        checks.check_close("gradient", torch.zeros(2, 3), torch.zeros(3, 2))


def test_check_close_names_nan_and_factors():
    with pytest.raises(CheckFailed, match=r"nan at entry \(1\)"):
        checks.check_close("gradient", torch.tensor([1.0, float("nan")]), torch.tensor([1.0, 2.0]))
    true = torch.tensor([0.1, -0.2, 0.3, 0.4])
    with pytest.raises(CheckFailed, match="4 times .*1/N"):
        checks.check_close("gradient", true * 4, true)
    with pytest.raises(CheckFailed, match="wrong sign"):
        checks.check_close("gradient", -true, true)
    batch = torch.randn(3, 4, dtype=DT)
    assert "3 times the true one (the batch size" in _failure(checks.check_close, "gradient", batch * 3, batch)
    assert "1/12 of the true one" in _failure(checks.check_close, "gradient", batch / 12, batch)
    assert "times 2.5 everywhere" in _failure(checks.check_close, "gradient", batch * 2.5, batch)


def test_check_close_stub_is_not_an_error(capsys):
    assert checks.check_close("gradient", None, torch.zeros(2)) is False
    assert "Not answered yet" in capsys.readouterr().out


def test_check_grad_against_autograd():
    x = torch.tensor([0.5, -1.0], dtype=DT)
    assert checks.check_grad(2 * x, lambda t: (t ** 2).sum(), x)
    with pytest.raises(CheckFailed, match=r"autograd's by 1\.0e\+00 at entry \(0\)"):
        checks.check_grad(torch.tensor([0.0, -2.0], dtype=DT), lambda t: (t ** 2).sum(), x)


@pytest.mark.parametrize("scale", [1e-6, 1e-2, 1.0, 1e3, 1e6])
def test_a_float32_rounded_right_answer_always_passes(scale):
    """Even where the check asks float64 precision (rtol 1e-9, atol 1e-12): float32 gets its own floor."""
    true = torch.randn(4, 6, generator=torch.Generator().manual_seed(0), dtype=DT) * scale
    true[0, 0] = 0.0
    assert checks.check_close("value", true.float(), true, rtol=1e-9, atol=1e-12, quiet=True)
    assert checks.check_close("value", true.to(torch.bfloat16), true, rtol=1e-9, atol=1e-12, quiet=True)


def test_an_answer_computed_in_float32_passes():
    """A gradient (sigma(a) - y) / N with cancellations, and an Adam step, computed entirely in float32."""
    g = torch.Generator().manual_seed(1)
    logit, target = torch.randn(2, 5, generator=g, dtype=DT) * 3, torch.rand(2, 5, generator=g, dtype=DT)
    true = (torch.sigmoid(logit) - target) / logit.numel()
    mine = (torch.sigmoid(logit.float()) - target.float()) / logit.numel()
    assert checks.check_close("gradient", mine, true, rtol=1e-9, atol=1e-12, quiet=True)
    param, grad = torch.randn(2, 3, generator=g, dtype=DT), torch.randn(2, 3, generator=g, dtype=DT)
    b1, b2 = torch.tensor(0.5), torch.tensor(0.999)  # float32 betas
    m, v = (1 - b1) * grad.float(), (1 - b2) * grad.float() ** 2
    new = param.float() - 2e-4 * (m / (1 - b1)) / ((v / (1 - b2)).sqrt() + 1e-8)
    step = 2e-4 * grad / (grad.abs() + 1e-8)
    assert check_step("parameter", new, param, param - step, rtol=1e-9, quiet=True)
    assert checks.check_close("parameter", new, param - step, rtol=1e-9, atol=1e-15, quiet=True)


def test_a_failure_shows_the_digits_that_differ_and_says_when_it_is_only_rounding():
    true = torch.tensor(-0.19721912345678, dtype=DT)
    message = _failure(checks.check_close, "parameter", true * (1 + 3e-8), true, rtol=1e-9, atol=1e-15)
    mine, theirs = _values(message)
    assert mine != theirs and len(mine) > len("-0.197219"), message
    assert "only rounding" in message and "float32" in message and "times 1" not in message
    true = torch.randn(3, 4, generator=torch.Generator().manual_seed(2), dtype=DT)
    message = _failure(checks.check_close, "gradient", true * (1 + 1e-7), true, rtol=1e-9, atol=1e-15)
    assert "only rounding" in message and "times 1" not in message and "constant factor" not in message
    message = _failure(checks.check_close, "gradient", true * 1.01, true)
    assert "only rounding" not in message and "times 1.01 everywhere" in message
    assert len(set(_values(message))) == 2


def test_an_all_zero_answer_is_called_all_zero():
    true = torch.randn(3, 4, dtype=DT)
    message = _failure(checks.check_close, "gradient", torch.zeros(3, 4), true)
    assert "zero everywhere" in message and "times 0" not in message


def test_a_scalar_gets_no_factor_hint_but_a_sign_hint():
    assert "times" not in _failure(checks.check_close, "loss", torch.tensor(2.0), torch.tensor(1.0))
    assert "wrong sign" in _failure(checks.check_close, "loss", torch.tensor(-1.0), torch.tensor(1.0))


def test_check_step_names_a_wrong_sign_a_zero_step_and_a_factor(capsys):
    g = torch.Generator().manual_seed(3)
    old = torch.randn(2, 3, generator=g, dtype=DT)
    step = 2e-4 * torch.randn(2, 3, generator=g, dtype=DT).sign()
    new = old - step
    assert check_step("parameter", new, old, new) and "Correct" in capsys.readouterr().out
    assert check_step("parameter", new.float(), old, new, rtol=1e-9, quiet=True)
    assert "goes the wrong way" in _failure(check_step, "parameter", old + step, old, new)
    assert "did not move" in _failure(check_step, "parameter", old.clone(), old, new)
    assert "times 2 everywhere" in _failure(check_step, "parameter", old - 2 * step, old, new)
    # a step 5% too long: comparing parameters finds no pattern in it; comparing steps names the factor
    assert "times" not in _failure(checks.check_close, "parameter", (old - 1.05 * step).float(), new)
    message = _failure(check_step, "parameter", (old - 1.05 * step).float(), old, new)
    assert "times 1.05 everywhere" in message and len(set(_values(message))) == 2
    assert check_step("parameter", None, old, new) is False


def test_counts_accept_whole_numbers_and_refuse_text_and_fractions(capsys):
    for right in (579_728, 579728.0, np.int64(579_728), torch.tensor(579_728)):
        assert as_count(right) == 579_728
    assert check_count("count", 579_728, 579_728) and "Correct" in capsys.readouterr().out
    for wrong, message in (("579,728", "the text '579,728': write it as a number, 579728"),
                           (579728.9, "579728.9, not a whole number"), (True, "True, not a number"),
                           (torch.tensor([1, 2]), "a tensor of shape (2,), not one number"),
                           ("many", "the text 'many', not a number")):
        text = _failure(check_count, "count", wrong, 579_728)
        assert message in text and "\n" not in text, text
    assert "too few by 1,680" in _failure(check_count, "count", 579_728 - 1680, 579_728)
    assert check_count("count", None, 1) is False


def test_check_function_tries_several_shapes():
    cases = [(torch.randn(2, 5, dtype=DT),), (torch.randn(7, dtype=DT),)]
    assert check_function(lambda a: a / a.numel(), lambda a: a / a.numel(), cases)
    message = _failure(check_function, lambda a: a / 10, lambda a: a / a.numel(), cases, name="gradient")
    assert "inputs of shape (7,)" in message

    def stub(a):
        raise NotImplementedError
    assert check_function(stub, lambda a: a, cases) is False


def test_a_failure_renders_as_its_message_alone():
    err = CheckFailed("Your gradient is wrong at entry (0).")
    assert err._render_traceback_() == ["Your gradient is wrong at entry (0)."]


def test_a_failing_check_is_one_line_in_a_notebook():
    """Under a real kernel (nbclient, as in Jupyter and nbgrader) the cell's error output is the message, one line."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import torch\nfrom gan_lib.machinery.checks import check_close\n"
        "check_close('gradient', torch.zeros(3), torch.tensor([1.0, 2.0, 3.0]))")])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    (error,) = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    assert error.ename == "CheckFailed" and len(error.traceback) == 1, error.traceback
    assert error.traceback[0].startswith("Your gradient differs from the true one by")
