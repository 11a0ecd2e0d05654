"""Chapter 3's exercise checks: right answers in both dtypes and equivalent forms pass; typical mistakes are named."""
import pytest
import torch

from gan_lib.machinery import checks
from gan_lib.machinery.checks import CheckFailed


def stub(*args):
    raise NotImplementedError


# --- LeakyReLU with a learnable slope -------------------------------------------------------------

def prelu_backward(x, grad_y, s):
    return torch.where(x > 0, grad_y, s * grad_y), torch.where(x > 0, 0.0, grad_y * x).sum()


def test_check_leaky_relu_backward_accepts_right_answers():
    assert checks.check_leaky_relu_backward(prelu_backward)
    # the slope's gradient as a one-entry tensor, like nn.PReLU's weight, is fine too
    assert checks.check_leaky_relu_backward(lambda x, gy, s: (prelu_backward(x, gy, s)[0],
                                                              prelu_backward(x, gy, s)[1].reshape(1)))


@pytest.mark.parametrize("wrong, message", [
    (lambda x, gy, s: (torch.where(x >= 0, gy, s * gy), prelu_backward(x, gy, s)[1]), "except at x = 0"),
    (lambda x, gy, s: (prelu_backward(x, gy, s)[0], torch.where(x > 0, 0.0, gy * x)), "one entry per element"),
    (lambda x, gy, s: (prelu_backward(x, gy, s)[0], (gy * x).sum()), "only acts where x <= 0"),
    (lambda x, gy, s: (torch.where(x > 0, gy, 0.1 * gy), prelu_backward(x, gy, s)[1]), r"dL/dx \(shape"),
    (lambda x, gy, s: prelu_backward(x, gy, s)[0], "two tensors"),
])
def test_check_leaky_relu_backward_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_leaky_relu_backward(wrong)


# --- ELU ------------------------------------------------------------------------------------------

def test_check_elu_backward():
    assert checks.check_elu_backward(lambda x, y, gy, alpha: torch.where(x > 0, gy, gy * (y + alpha)))
    assert checks.check_elu_backward(lambda x, y, gy, alpha: torch.where(x > 0, gy, gy * alpha * x.exp()))
    with pytest.raises(CheckFailed, match="except at x = 0 with alpha = 0.5"):
        checks.check_elu_backward(lambda x, y, gy, alpha: torch.where(x >= 0, gy, gy * (y + alpha)))
    with pytest.raises(CheckFailed, match="alpha 0.5"):          # forgot alpha: right only for alpha = 1
        checks.check_elu_backward(lambda x, y, gy, alpha: torch.where(x > 0, gy, gy * (y + 1)))
    assert checks.check_elu_backward(stub) is False


# --- Tanh and Unflatten, backwards ------------------------------------------------------------------

def test_check_tanh_backward():
    assert checks.check_tanh_backward(lambda x, gx: (gx * (1 - x ** 2)).flatten(1))
    assert checks.check_tanh_backward(lambda x, gx: (gx * (1 - x) * (1 + x)).reshape(len(x), -1))
    with pytest.raises(CheckFailed, match="applies tanh to the image again"):
        checks.check_tanh_backward(lambda x, gx: (gx * (1 - torch.tanh(x) ** 2)).flatten(1))
    with pytest.raises(CheckFailed, match="shape .*reshape"):     # forgot the Unflatten
        checks.check_tanh_backward(lambda x, gx: gx * (1 - x ** 2))
    with pytest.raises(CheckFailed, match="differs from autograd's"):
        checks.check_tanh_backward(lambda x, gx: (gx * (1 - x)).flatten(1))
    assert checks.check_tanh_backward(stub) is False


# --- the leaked gradient with the non-saturating loss -------------------------------------------------

def test_check_leaked_logit_grad():
    assert checks.check_leaked_logit_grad(lambda a: (2 * torch.sigmoid(a) - 1) / a.numel())
    assert checks.check_leaked_logit_grad(lambda a: torch.tanh(a / 2) / a.numel())   # the same, written otherwise
    for wrong, message in [(lambda a: torch.zeros_like(a), "saturating loss's answer"),
                           (lambda a: (torch.sigmoid(a) - 1) / a.numel(), "only the generator's own"),
                           (lambda a: torch.sigmoid(a) / a.numel(), "only the leaked gradient"),
                           (lambda a: 2 * torch.sigmoid(a) - 1, "1/N")]:
        with pytest.raises(CheckFailed, match=message):
            checks.check_leaked_logit_grad(wrong)
    assert checks.check_leaked_logit_grad(stub) is False


# --- Adam -----------------------------------------------------------------------------------------

def adam(param, grad, m, v, step, lr, betas, eps, eps_inside=False, sign=1):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad ** 2
    m_hat, v_hat = m / (1 - b1 ** step), v / (1 - b2 ** step)
    denom = (v_hat + eps).sqrt() if eps_inside else v_hat.sqrt() + eps
    return param - sign * lr * m_hat / denom, m, v


def test_check_adam_step():
    assert checks.check_adam_step(adam)
    with pytest.raises(CheckFailed, match=r"step of parameter after step 1"):
        checks.check_adam_step(lambda *a: adam(*a, eps_inside=True))
    with pytest.raises(CheckFailed, match="wrong way|wrong sign"):
        checks.check_adam_step(lambda *a: adam(*a, sign=-1))
    with pytest.raises(CheckFailed, match="three tensors"):
        checks.check_adam_step(lambda *a: adam(*a)[0])
    assert checks.check_adam_step(stub) is False
