"""gan_lib.machinery.checks: a right answer passes; a wrong one is named, with where and by how much; a stub is 'not yet'."""
import re

import pytest
import torch

from gan_lib.machinery import checks
from gan_lib.machinery.checks import CheckFailed


def test_check_close_passes_and_says_correct(capsys):
    assert checks.check_close("gradient", torch.ones(2, 5), torch.ones(2, 5))
    assert "Correct" in capsys.readouterr().out


def test_check_close_names_entry_and_size_of_error():
    expected = torch.zeros(2, 5, dtype=torch.float64)
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


def test_check_close_stub_is_not_an_error(capsys):
    assert checks.check_close("gradient", None, torch.zeros(2)) is False
    assert "Not answered yet" in capsys.readouterr().out


def test_check_grad_against_autograd():
    x = torch.tensor([0.5, -1.0], dtype=torch.float64)
    assert checks.check_grad(2 * x, lambda t: (t ** 2).sum(), x)
    with pytest.raises(CheckFailed, match=r"autograd's by 1\.0e\+00 at entry \(0\)"):
        checks.check_grad(torch.tensor([0.0, -2.0], dtype=torch.float64), lambda t: (t ** 2).sum(), x)


def test_check_num_params():
    assert checks.check_num_params(579_728, [100, 128, 256, 512, 784])
    with pytest.raises(CheckFailed, match=r"too few by 1,680.*number of biases"):
        checks.check_num_params(579_728 - 1680, [100, 128, 256, 512, 784])


def test_check_bce():
    assert checks.check_bce(lambda p, y: -(y * p.log() + (1 - y) * (1 - p).log()).mean())
    with pytest.raises(CheckFailed, match="differs from the true BCE by"):
        checks.check_bce(lambda p, y: -(y * p.log() + (1 - y) * (1 - p).log()).sum())
    assert checks.check_bce(lambda p, y: None) is False


def test_check_bce_with_logits():
    assert checks.check_bce_with_logits(lambda a, y: (a.clamp(min=0) - a * y + torch.log1p(torch.exp(-a.abs()))).mean())
    naive = lambda a, y: -(y * torch.sigmoid(a).log() + (1 - y) * (1 - torch.sigmoid(a)).log()).mean()  # noqa: E731
    with pytest.raises(CheckFailed, match="stable form"):
        checks.check_bce_with_logits(naive)


def test_check_logit_grad():
    assert checks.check_logit_grad(lambda a, y: (torch.sigmoid(a) - y) / a.numel())
    with pytest.raises(CheckFailed, match="10 times.*1/N"):
        checks.check_logit_grad(lambda a, y: torch.sigmoid(a) - y)


def test_check_leaky_relu_backward():
    assert checks.check_leaky_relu_backward(lambda x, gy, s: torch.where(x > 0, gy, s * gy))
    with pytest.raises(CheckFailed, match="except at x = 0"):
        checks.check_leaky_relu_backward(lambda x, gy, s: torch.where(x >= 0, gy, s * gy))
    with pytest.raises(CheckFailed, match=r"differs from autograd's by .* at entry \(\d, \d\)"):
        checks.check_leaky_relu_backward(lambda x, gy, s: torch.where(x > 0, gy, 0.1 * gy))

    def stub(x, gy, s):
        raise NotImplementedError
    assert checks.check_leaky_relu_backward(stub) is False


def test_check_tanh_backward():
    assert checks.check_tanh_backward(lambda x, gx: gx * (1 - x ** 2))
    with pytest.raises(CheckFailed, match="differs from autograd's"):
        checks.check_tanh_backward(lambda x, gx: gx * (1 - x))


def adam(param, grad, m, v, step, lr, betas, eps, eps_inside=False):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad ** 2
    m_hat, v_hat = m / (1 - b1 ** step), v / (1 - b2 ** step)
    denom = (v_hat + eps).sqrt() if eps_inside else v_hat.sqrt() + eps
    return param - lr * m_hat / denom, m, v


def test_check_adam_step():
    assert checks.check_adam_step(adam)
    with pytest.raises(CheckFailed, match=r"parameter after step 1 differs from torch.optim.Adam's by .* at entry"):
        checks.check_adam_step(lambda *a: adam(*a, eps_inside=True))
    with pytest.raises(CheckFailed, match="return three tensors"):
        checks.check_adam_step(lambda *a: adam(*a)[0])
