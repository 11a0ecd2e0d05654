"""Chapter 2's exercise checks: right answers in both dtypes and equivalent forms pass; typical mistakes are named."""
import math

import pytest
import torch
import torch.nn.functional as F

from gan_lib.machinery import checks
from gan_lib.machinery.checks import CheckFailed


def stub(*args):
    raise NotImplementedError


# --- check_bce -----------------------------------------------------------------------------------

def test_check_bce_accepts_equivalent_forms(capsys):
    assert checks.check_bce(lambda p, y: -(torch.special.xlogy(y, p) + torch.special.xlogy(1 - y, 1 - p)).mean())
    assert "float32 and float64" in capsys.readouterr().out
    masked = lambda p, y: -torch.where(y > 0, y * p.log(), 0) .add(  # noqa: E731
        torch.where(y < 1, (1 - y) * (1 - p).log(), 0)).mean()
    assert checks.check_bce(masked)
    assert checks.check_bce(lambda p, y: F.binary_cross_entropy(p, y) if (p > 0).all() and (p < 1).all()
                            else -(torch.special.xlogy(y, p) + torch.special.xlogy(1 - y, 1 - p)).mean())


def test_check_bce_names_typical_mistakes():
    naive = lambda p, y: -(y * p.log() + (1 - y) * (1 - p).log()).mean()  # noqa: E731
    with pytest.raises(CheckFailed, match="0 x log 0"):
        checks.check_bce(naive)
    by_rows = lambda p, y: -(torch.special.xlogy(y, p) + torch.special.xlogy(1 - y, 1 - p)).sum() / len(p)  # noqa: E731
    with pytest.raises(CheckFailed, match="len\\(prob\\), the number of rows"):
        checks.check_bce(by_rows)
    summed = lambda p, y: -(torch.special.xlogy(y, p) + torch.special.xlogy(1 - y, 1 - p)).sum()  # noqa: E731
    with pytest.raises(CheckFailed, match="differs from the true BCE"):
        checks.check_bce(summed)
    clamped = lambda p, y: F.binary_cross_entropy(p, y)  # noqa: E731  (clamps log 0 at -100: wrong at p = 0)
    with pytest.raises(CheckFailed, match="true value is inf: a confident mistake"):
        checks.check_bce(clamped)


def test_check_bce_stub():
    assert checks.check_bce(stub) is False
    assert checks.check_bce(lambda p, y: None) is False


# --- check_logit_grad: both batches of D's loss ---------------------------------------------------

def d_grads(real, fake, real_target):
    return (torch.sigmoid(real) - real_target) / real.numel(), torch.sigmoid(fake) / fake.numel()


def test_check_logit_grad_accepts_right_answers():
    assert checks.check_logit_grad(d_grads)

    def by_autograd(real, fake, real_target):
        r, f = real.clone().requires_grad_(), fake.clone().requires_grad_()
        loss = F.binary_cross_entropy_with_logits(r, torch.full_like(r, real_target)) \
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
        return torch.autograd.grad(loss, (r, f))
    assert checks.check_logit_grad(by_autograd)


def test_check_logit_grad_names_typical_mistakes():
    with pytest.raises(CheckFailed, match="number of real and fake logits together"):
        checks.check_logit_grad(lambda r, f, t: ((torch.sigmoid(r) - t) / (r.numel() + f.numel()),
                                                 torch.sigmoid(f) / (r.numel() + f.numel())))
    with pytest.raises(CheckFailed, match="grad_real .* 5 times .*1/N"):   # the real batch of the first case has 5
        checks.check_logit_grad(lambda r, f, t: (torch.sigmoid(r) - t, torch.sigmoid(f) / f.numel()))
    with pytest.raises(CheckFailed, match="grad_fake"):                      # the fake target is 0, not 1
        checks.check_logit_grad(lambda r, f, t: ((torch.sigmoid(r) - t) / r.numel(), (torch.sigmoid(f) - 1) / f.numel()))
    with pytest.raises(CheckFailed, match="real target 0.9"):                 # ignores the smoothed target
        checks.check_logit_grad(lambda r, f, t: d_grads(r, f, 1.0))
    with pytest.raises(CheckFailed, match="two tensors"):
        checks.check_logit_grad(lambda r, f, t: d_grads(r, f, t)[0])
    hard_coded = lambda r, f, t: ((torch.sigmoid(r) - t) / 5, torch.sigmoid(f) / 3)  # noqa: E731  first case only
    with pytest.raises(CheckFailed, match=r"batch \(4,\)"):
        checks.check_logit_grad(hard_coded)


def test_check_logit_grad_stub():
    assert checks.check_logit_grad(stub) is False


# --- check_generator_loss -------------------------------------------------------------------------

def gen_loss(a, kind):
    return -F.logsigmoid(a).mean() if kind == "non_saturating" else F.logsigmoid(-a).mean()


def test_check_generator_loss_accepts_stable_forms():
    assert checks.check_generator_loss(gen_loss)
    assert checks.check_generator_loss(lambda a, kind: F.softplus(-a).mean() if kind == "non_saturating"
                                       else -F.softplus(a).mean())


@pytest.mark.parametrize("wrong, message", [
    (lambda a, kind: gen_loss(a, "saturating" if kind == "non_saturating" else "non_saturating"),
     "returns the saturating loss"),
    (lambda a, kind: F.softplus(a).mean() if kind == "non_saturating" else gen_loss(a, kind),
     "BCE with target 0"),
    (lambda a, kind: F.logsigmoid(a).mean() if kind == "non_saturating" else gen_loss(a, kind),
     "minus the non-saturating loss"),
    (lambda a, kind: -torch.log(torch.sigmoid(a)).mean() if kind == "non_saturating" else gen_loss(a, kind),
     "sigmoid then log"),
    (lambda a, kind: gen_loss(a, kind).sum() * 2, "differs from the true loss"),
])
def test_check_generator_loss_names_typical_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_generator_loss(wrong)


def test_check_generator_loss_stub():
    assert checks.check_generator_loss(stub) is False


# --- check_kl_histogram ---------------------------------------------------------------------------

def kl(p, q):
    return (torch.special.xlogy(p, p) - torch.special.xlogy(p, q)).sum(-1)


def test_check_kl_histogram_accepts_right_answers():
    assert checks.check_kl_histogram(kl)
    masked = lambda p, q: torch.where(p > 0, p * (p / q).log(), torch.zeros_like(p)).sum(-1)  # noqa: E731
    assert checks.check_kl_histogram(masked)


@pytest.mark.parametrize("wrong, message", [
    (lambda p, q: kl(q, p), r"KL\(q \|\| p\)"),
    (lambda p, q: kl(p, q) / math.log(2), "bits"),
    (lambda p, q: (p * (p / q).log()).sum(-1), "nan"),
    (lambda p, q: kl(p, q).sum(), "shape"),
    (lambda p, q: kl(p, q + 1e-3), "differs from the true KL"),
])
def test_check_kl_histogram_names_typical_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_kl_histogram(wrong)


def test_check_kl_histogram_stub():
    assert checks.check_kl_histogram(stub) is False
