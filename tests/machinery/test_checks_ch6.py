"""Chapter 6's exercise checks: the closed-form KL and the WGAN-GP penalty, right in both dtypes, mistakes named."""
import math

import pytest
import torch

from gan_lib.losses import gradient_penalty
from gan_lib.machinery import checks
from gan_lib.machinery.checks import CheckFailed


def kl_half(K):
    return math.log(K) - math.log(2) - 0.5 * math.log(K - 1)


def test_check_kl_half_on_one_accepts_equivalent_forms():
    assert checks.check_kl_half_on_one(kl_half)
    assert checks.check_kl_half_on_one(lambda K: torch.tensor(kl_half(K), dtype=torch.float32))
    # the same number written as 0.5 log(K / 2) + 0.5 log(K / (2 (K - 1)))
    assert checks.check_kl_half_on_one(lambda K: 0.5 * math.log(K / 2) + 0.5 * math.log(K / (2 * (K - 1))))


@pytest.mark.parametrize("wrong, message", [
    (lambda K: kl_half(K) / math.log(2), "in bits"),
    (lambda K: (1 / K) * math.log(2 / K) + (K - 1) / K * math.log(2 * (K - 1) / K), "other direction"),
    (lambda K: math.log(K) - math.log(2), "differs from"),
    (lambda K: "0.3", "text"),
])
def test_check_kl_half_on_one_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_kl_half_on_one(wrong)


def penalty(critic, real, fake, epsilon, score=lambda s: s.sum(), reduce=None, create_graph=True):
    x_hat = (epsilon * real + (1 - epsilon) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(score(critic(x_hat)), x_hat, create_graph=create_graph)
    reduce = reduce or (lambda g: (g.norm(dim=1) - 1).pow(2).mean())
    return 10 * reduce(grad.flatten(1))


def test_check_gradient_penalty_accepts_right_answers():
    assert checks.check_gradient_penalty(penalty)
    assert checks.check_gradient_penalty(lambda c, r, f, e: gradient_penalty(c, r, f, e, 10.0))
    # the norm by hand, in float32 whatever the input's dtype
    assert checks.check_gradient_penalty(
        lambda c, r, f, e: penalty(c.float(), r.float(), f.float(), e.float(),
                                   reduce=lambda g: ((g * g).sum(1).sqrt() - 1).pow(2).mean()))


@pytest.mark.parametrize("wrong, message", [
    (lambda c, r, f, e: penalty(c, r, f, e, create_graph=False), "create_graph=True"),
    (lambda c, r, f, e: penalty(c, r, f, e, score=lambda s: s.mean()), "\\*mean\\* of the scores"),
    (lambda c, r, f, e: penalty(c, r, f, e, reduce=lambda g: (g.norm() - 1) ** 2), "one norm per example"),
    (lambda c, r, f, e: penalty(c, r, f, e, reduce=lambda g: (g.pow(2).sum(1) - 1).pow(2).mean()), "squared norm"),
    (lambda c, r, f, e: penalty(c, r, f, e, reduce=lambda g: g.norm(dim=1).pow(2).mean()), "towards 0"),
    (lambda c, r, f, e: penalty(c, f, r, e), "swaps real and fake"),
    (lambda c, r, f, e: penalty(c, r, f, torch.rand_like(r)), "differs from"),   # its own, per-pixel epsilon
    (lambda c, r, f, e: 1.5 * penalty(c, r, f, e) + 0.25, "differs from"),
])
def test_check_gradient_penalty_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_gradient_penalty(wrong)


def test_stubs_are_not_answered(capsys):
    assert checks.check_kl_half_on_one(lambda K: None) is False
    assert checks.check_gradient_penalty(lambda *a: (_ for _ in ()).throw(NotImplementedError)) is False
    assert capsys.readouterr().out.count("Not answered yet") == 2
