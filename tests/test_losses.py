"""gan_lib.losses against torch's own losses, at the extremes, and on every error path."""
import pytest
import torch
import torch.nn.functional as F

from gan_lib.losses import bce, bce_with_logits, discriminator_loss, generator_loss

SHAPES = [(1,), (7,), (16, 1), (4, 3), (2, 3, 5)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bce_matches_torch(shape, seed):
    gen = torch.Generator().manual_seed(seed)
    prob = torch.rand(shape, generator=gen, dtype=torch.float64)
    target = torch.rand(shape, generator=gen, dtype=torch.float64)  # soft targets too
    assert (bce(prob, target) - F.binary_cross_entropy(prob, target)).abs() <= 1e-12
    hard = (target > 0.5).double()
    assert (bce(prob, hard) - torch.nn.BCELoss()(prob, hard)).abs() <= 1e-12


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bce_with_logits_matches_torch_value_and_grad(shape, seed):
    gen = torch.Generator().manual_seed(seed)
    logit = (10 * torch.randn(shape, generator=gen, dtype=torch.float64)).requires_grad_()
    target = torch.rand(shape, generator=gen, dtype=torch.float64)
    ours = bce_with_logits(logit, target)
    (grad_ours,) = torch.autograd.grad(ours, logit)
    theirs = torch.nn.BCEWithLogitsLoss()(logit, target)
    (grad_theirs,) = torch.autograd.grad(theirs, logit)
    assert (ours - theirs).abs() <= 1e-12
    assert (grad_ours - grad_theirs).abs().max() <= 1e-15
    expected = (torch.sigmoid(logit) - target) / logit.numel()  # Eq. (2.5)
    assert (grad_ours - expected).abs().max() <= 1e-15


def test_bce_with_logits_grad_at_zero():
    logit = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0.0, 1.0, 0.5, 1.0], dtype=torch.float64)
    (grad,) = torch.autograd.grad(bce_with_logits(logit, target), logit)
    assert torch.allclose(grad, (0.5 - target) / 4, atol=1e-15)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_logits_are_finite_and_exact(dtype):
    logit = torch.tensor([-1e4, -1e3, -50.0, 50.0, 1e3, 1e4], dtype=dtype, requires_grad=True)
    for target in (0.0, 1.0):
        loss = bce_with_logits(logit, target)
        (grad,) = torch.autograd.grad(loss, logit)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()
        # Exact value: the wrong-side logits cost |a| each, the right-side ones ~0.
        wrong = logit.detach().clamp(min=0) if target == 0.0 else (-logit.detach()).clamp(min=0)
        assert torch.allclose(loss, wrong.mean(), rtol=1e-6)
        assert torch.allclose(grad, (torch.sigmoid(logit) - target).detach() / 6, atol=1e-12)


def test_bce_at_edges_is_exact_not_clamped():
    prob = torch.tensor([0.0, 1.0], dtype=torch.float64)
    assert bce(prob, torch.tensor([0.0, 1.0], dtype=torch.float64)) == 0.0
    assert bce(prob, torch.tensor([1.0, 0.0], dtype=torch.float64)) == float("inf")


def test_scalar_target_and_dtype_preserved():
    logit = torch.randn(5, 1)
    assert bce_with_logits(logit, 1.0).dtype == torch.float32
    assert torch.allclose(bce_with_logits(logit, 1), bce_with_logits(logit, torch.ones_like(logit)))


def test_discriminator_loss_is_sum_of_means_and_minus_value():
    gen = torch.Generator().manual_seed(0)
    real_logit = torch.randn(8, 1, generator=gen, dtype=torch.float64)
    fake_logit = torch.randn(8, 1, generator=gen, dtype=torch.float64)
    loss = discriminator_loss(real_logit, fake_logit)
    value = torch.log(torch.sigmoid(real_logit)).mean() + torch.log(1 - torch.sigmoid(fake_logit)).mean()
    assert (loss + value).abs() <= 1e-12
    smoothed = discriminator_loss(real_logit, fake_logit, real_target=0.9)
    expected = F.binary_cross_entropy_with_logits(real_logit, torch.full_like(real_logit, 0.9)) \
        + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
    assert (smoothed - expected).abs() <= 1e-12


def test_generator_losses():
    logit = torch.linspace(-30, 30, 61, dtype=torch.float64, requires_grad=True)
    prob = torch.sigmoid(logit)
    ns = generator_loss(logit)  # default is non-saturating
    sat = generator_loss(logit, kind="saturating")
    assert (ns - (-F.logsigmoid(logit)).mean()).abs() <= 1e-12
    assert (sat - F.logsigmoid(-logit).mean()).abs() <= 1e-12  # log(1 - sigma(a))
    (g_ns,) = torch.autograd.grad(ns, logit)
    (g_sat,) = torch.autograd.grad(sat, logit)
    assert torch.allclose(g_ns, -(1 - prob).detach() / 61, atol=1e-15)   # Eq. (2.9)
    assert torch.allclose(g_sat, -prob.detach() / 61, atol=1e-15)        # Eq. (2.8)


@pytest.mark.parametrize("call, match", [
    (lambda: bce(torch.tensor([0.5, 1.2]), torch.tensor([1.0, 0.0])), "prob must lie in"),
    (lambda: bce(torch.tensor([-0.1, 0.5]), torch.tensor([1.0, 0.0])), "prob must lie in"),
    (lambda: bce(torch.tensor([float("nan"), 0.5]), torch.tensor([1.0, 0.0])), "prob must lie in"),
    (lambda: bce(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 2.0])), "target values must lie"),
    (lambda: bce_with_logits(torch.zeros(3), torch.tensor([0.0, -1.0, 1.0])), "target values must lie"),
    (lambda: bce_with_logits(torch.zeros(3), 1.5), "target must lie"),
    (lambda: bce_with_logits(torch.zeros(4, 1), torch.ones(4)), "must match exactly"),
    (lambda: bce(torch.full((4,), 0.5), torch.ones(4, 1)), "must match exactly"),
    (lambda: bce_with_logits(torch.zeros(0), 1.0), "empty"),
    (lambda: bce_with_logits(torch.zeros(3, dtype=torch.long), 1.0), "floating-point"),
    (lambda: discriminator_loss(torch.zeros(4, 1), torch.zeros(4, 1), real_target=1.1), "target must lie"),
    (lambda: discriminator_loss(torch.zeros(4, 1), torch.zeros(4, 1), real_target=torch.ones(4)), "must match"),
    (lambda: generator_loss(torch.zeros(4, 1), kind="minimax"), "kind must be one of"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_tensor_refused():
    with pytest.raises(TypeError):
        bce_with_logits([0.0, 1.0], 1.0)


def test_bce_with_logits_second_derivative_and_gradcheck():
    logit = torch.tensor([0.0, -1e4, 1e4, 3.0, -2.5], dtype=torch.float64)
    for y in (0.0, 0.3, 1.0):
        hessian = torch.autograd.functional.hessian(lambda t: bce_with_logits(t, y) * len(logit), logit)
        assert torch.allclose(hessian.diag(), torch.sigmoid(logit) * (1 - torch.sigmoid(logit)), atol=1e-15)
    args = (torch.randn(3, 2, dtype=torch.float64, requires_grad=True),
            torch.rand(3, 2, dtype=torch.float64, requires_grad=True))
    assert torch.autograd.gradcheck(bce_with_logits, args)
    assert torch.autograd.gradgradcheck(bce_with_logits, args)
