"""gan_lib.losses against torch's own losses, at the extremes, on hand-computed values (hinge, WGAN-GP),
and on every error path."""
import pytest
import torch
import torch.nn.functional as F

from torch import nn

from gan_lib.losses import (bce, bce_with_logits, discriminator_loss, generator_loss, gradient_penalty,
                            hinge_discriminator_loss, hinge_generator_loss, wasserstein_critic_loss,
                            wasserstein_generator_loss)

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


# --- hinge and Wasserstein losses, and the gradient penalty ---------------------------------------

def test_hinge_losses_at_hand_computed_logits():
    real = torch.tensor([2.0, 1.0, 0.5, -1.0], dtype=torch.float64, requires_grad=True)
    fake = torch.tensor([-3.0, -1.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    # relu(1 - real) = [0, 0, 0.5, 2] -> 0.625; relu(1 + fake) = [0, 0, 1, 3] -> 1.0
    loss = hinge_discriminator_loss(real, fake)
    assert loss.item() == pytest.approx(1.625, abs=1e-15)
    g_real, g_fake = torch.autograd.grad(loss, (real, fake))
    # no gradient beyond the margin (real >= 1, fake <= -1; at the kink torch's relu takes 0), -1/N or +1/N inside
    assert g_real.tolist() == [0.0, 0.0, -0.25, -0.25]
    assert g_fake.tolist() == [0.0, 0.0, 0.25, 0.25]
    g_loss = hinge_generator_loss(fake)
    assert g_loss.item() == pytest.approx(0.5, abs=1e-15)  # -mean([-3, -1, 0, 2])
    (g,) = torch.autograd.grad(g_loss, fake)
    assert torch.equal(g, torch.full_like(fake, -0.25))  # no margin for G: every fake is pushed up


def test_hinge_loss_is_zero_for_a_discriminator_beyond_the_margin_and_takes_batches_of_any_size():
    assert hinge_discriminator_loss(torch.full((5, 1), 3.0), torch.full((3,), -2.0)).item() == 0.0
    assert hinge_discriminator_loss(torch.zeros(4, 1), torch.zeros(4, 1)).item() == 2.0  # D = 0: 1 + 1


def test_wasserstein_losses():
    real = torch.tensor([[1.0], [3.0]], dtype=torch.float64)
    fake = torch.tensor([[-2.0], [0.0], [5.0]], dtype=torch.float64)
    assert wasserstein_critic_loss(real, fake).item() == pytest.approx(1.0 - 2.0, abs=1e-15)
    assert wasserstein_generator_loss(fake).item() == pytest.approx(-1.0, abs=1e-15)
    fake.requires_grad_(True)
    (g,) = torch.autograd.grad(wasserstein_critic_loss(real, fake), fake)
    assert torch.equal(g, torch.full_like(fake, 1 / 3))


def _seeded(make, seed=0):
    """A network initialised from ``seed``, leaving the global random stream as it was (other tests draw from it)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return make()


class _Linear(nn.Module):
    """critic(x) = w . x + b on flattened x: its gradient is w everywhere."""

    def __init__(self, w: torch.Tensor, b: float = 0.0):
        super().__init__()
        self.w = nn.Parameter(w.clone())
        self.b = nn.Parameter(torch.tensor(b, dtype=w.dtype))

    def forward(self, x):
        return x.flatten(1) @ self.w + self.b


@pytest.mark.parametrize("shape", [(6, 2), (5, 1, 4, 4)])
@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_penalty_of_a_linear_critic_is_known_whatever_epsilon(shape, seed):
    gen = torch.Generator().manual_seed(seed)
    n, d = shape[0], int(torch.tensor(shape[1:]).prod())
    critic = _Linear(torch.randn(d, generator=gen, dtype=torch.float64) * 0.7, b=0.3)
    real, fake = torch.randn(shape, generator=gen, dtype=torch.float64), torch.randn(shape, generator=gen, dtype=torch.float64)
    expected = 10.0 * (critic.w.detach().norm().item() - 1) ** 2
    for eps in (torch.rand((n,) + (1,) * (len(shape) - 1), generator=gen, dtype=torch.float64),
                torch.zeros((n,) + (1,) * (len(shape) - 1), dtype=torch.float64)):
        assert gradient_penalty(critic, real, fake, eps).item() == pytest.approx(expected, rel=1e-12)
    assert gradient_penalty(critic, real, fake, eps, weight=2.5).item() == pytest.approx(expected / 4, rel=1e-12)


def test_gradient_penalty_of_a_quadratic_critic_by_hand():
    # critic(x) = ||x||^2 / 2 has gradient x, so the penalty is weight * mean_i (||x_hat_i|| - 1)^2.
    real = torch.tensor([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    fake = torch.tensor([[0.0, 0.0], [0.0, 1.0], [0.0, -2.0]], dtype=torch.float64)
    eps = torch.tensor([[0.5], [1.0], [0.25]], dtype=torch.float64)
    # x_hat = [1.5, 2], [1, 0], [0, -1]: norms 2.5, 1, 1
    penalty = gradient_penalty(lambda x: 0.5 * x.pow(2).sum(1), real, fake, eps, weight=3.0)
    assert penalty.item() == pytest.approx(3.0 * (1.5 ** 2 + 0 + 0) / 3, rel=1e-14)


def test_gradient_penalty_uses_one_weight_per_example():
    # The batch's penalty is the mean of the single examples' penalties, each with its own epsilon:
    # example i's term depends on epsilon_i only.
    gen = torch.Generator().manual_seed(4)
    critic = _seeded(lambda: nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).double())
    real, fake = torch.randn(5, 3, generator=gen, dtype=torch.float64), torch.randn(5, 3, generator=gen, dtype=torch.float64)
    eps = torch.rand(5, 1, generator=gen, dtype=torch.float64)
    singles = [gradient_penalty(critic, real[i:i + 1], fake[i:i + 1], eps[i:i + 1]) for i in range(5)]
    assert gradient_penalty(critic, real, fake, eps).item() == pytest.approx(torch.stack(singles).mean().item(), rel=1e-12)
    moved = eps.clone()
    moved[0] = 1 - eps[0]
    changed = gradient_penalty(critic, real, fake, moved) * 5 - gradient_penalty(critic, real, fake, eps) * 5
    alone = gradient_penalty(critic, real[:1], fake[:1], moved[:1]) - singles[0]
    assert changed.item() == pytest.approx(alone.item(), rel=1e-10, abs=1e-12)


def test_gradient_penalty_reaches_the_critics_weights_and_not_the_inputs():
    # d/dw [weight (||w|| - 1)^2] = 2 weight (||w|| - 1) w / ||w||; the bias gets no gradient.
    w = torch.tensor([0.6, -2.0, 1.5], dtype=torch.float64)
    critic = _Linear(w, b=1.0)
    gen = torch.Generator().manual_seed(5)
    real = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    fake = torch.randn(4, 3, generator=gen, dtype=torch.float64).requires_grad_(True)  # not detached by the caller
    gradient_penalty(critic, real, fake, torch.rand(4, 1, generator=gen, dtype=torch.float64)).backward()
    expected = 2 * 10.0 * (w.norm() - 1) * w / w.norm()
    assert torch.allclose(critic.w.grad, expected, rtol=1e-12)
    assert critic.b.grad is None or critic.b.grad.abs().max() == 0
    assert fake.grad is None  # x_hat is built from detached inputs: the penalty trains the critic only


def test_gradient_penalty_of_a_conditional_critic_through_a_lambda():
    labels = torch.tensor([0, 1, 1])
    w = torch.tensor([[1.0, 0.0], [0.0, 3.0]], dtype=torch.float64)  # class c's critic is w[c] . x
    gen = torch.Generator().manual_seed(6)
    real, fake = torch.randn(3, 2, generator=gen, dtype=torch.float64), torch.randn(3, 2, generator=gen, dtype=torch.float64)
    penalty = gradient_penalty(lambda x: (x * w[labels]).sum(1), real, fake, torch.full((3, 1), 0.3, dtype=torch.float64))
    assert penalty.item() == pytest.approx(10.0 * (0 + 4 + 4) / 3, rel=1e-12)  # ||w_0|| = 1, ||w_1|| = 3


def test_gradient_penalty_of_a_constant_critic_is_the_weight():
    # A critic whose score ignores its input has gradient 0: the penalty is weight * (0 - 1)^2, finite.
    critic = _seeded(lambda: nn.Sequential(nn.Linear(2, 1), nn.ReLU()))
    with torch.no_grad():
        critic[0].weight.zero_()
        critic[0].bias.fill_(-1.0)  # ReLU dead everywhere
    penalty = gradient_penalty(critic, torch.ones(4, 2), -torch.ones(4, 2), torch.full((4, 1), 0.5))
    penalty.backward()
    assert penalty.item() == 10.0 and torch.isfinite(critic[0].weight.grad).all()


@pytest.mark.parametrize("call, match", [
    (lambda: gradient_penalty(_Linear(torch.ones(4)), torch.zeros(3, 1, 2, 2), torch.zeros(3, 1, 2, 2),
                              torch.full((3, 1, 2, 2), 0.5)), "one interpolation weight per example"),
    (lambda: gradient_penalty(_Linear(torch.ones(2)), torch.zeros(3, 2), torch.zeros(3, 2), torch.full((3,), 0.5)),
     "one interpolation weight per example"),
    (lambda: gradient_penalty(_Linear(torch.ones(2)), torch.zeros(3, 2), torch.zeros(3, 2), torch.full((3, 1), 1.5)),
     "epsilon must lie in"),
    (lambda: gradient_penalty(_Linear(torch.ones(2)), torch.zeros(3, 2), torch.zeros(4, 2), torch.full((3, 1), 0.5)),
     "must match exactly"),
    (lambda: gradient_penalty(lambda x: x, torch.zeros(3, 2), torch.zeros(3, 2), torch.full((3, 1), 0.5)),
     "one score per example"),
    (lambda: gradient_penalty(_seeded(lambda: nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))),
                              torch.zeros(3, 2), torch.zeros(3, 2), torch.full((3, 1), 0.5)), "batch norm"),
    (lambda: gradient_penalty(lambda x: torch.zeros(len(x)), torch.zeros(3, 2), torch.zeros(3, 2), torch.full((3, 1), 0.5)),
     "does not depend on its input"),
    (lambda: hinge_discriminator_loss(torch.zeros(0), torch.zeros(3)), "empty"),
    (lambda: hinge_generator_loss(torch.zeros(3, dtype=torch.long)), "floating-point"),
    (lambda: wasserstein_critic_loss(torch.zeros(3), torch.zeros(0)), "empty"),
])
def test_new_loss_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_gradient_penalty_under_no_grad_is_refused():
    critic = _Linear(torch.ones(2))
    with torch.no_grad(), pytest.raises(ValueError, match="does not depend on its input"):
        gradient_penalty(critic, torch.zeros(3, 2), torch.zeros(3, 2), torch.full((3, 1), 0.5))


def test_gradient_penalty_gradcheck():
    # The penalty is twice differentiable in the critic's weights (a second-order path through create_graph).
    gen = torch.Generator().manual_seed(7)
    x_real, x_fake = torch.randn(4, 3, generator=gen, dtype=torch.float64), torch.randn(4, 3, generator=gen, dtype=torch.float64)
    eps = torch.rand(4, 1, generator=gen, dtype=torch.float64)

    def penalty_of(w1, w2):
        return gradient_penalty(lambda x: torch.tanh(x @ w1) @ w2, x_real, x_fake, eps)

    args = (torch.randn(3, 5, generator=gen, dtype=torch.float64).requires_grad_(True),
            torch.randn(5, generator=gen, dtype=torch.float64).requires_grad_(True))
    assert torch.autograd.gradcheck(penalty_of, args)


def test_game_losses_dispatch_to_each_games_pair():
    from gan_lib.losses import (GAMES, discriminator_game_loss, generator_game_loss, hinge_discriminator_loss,
                                hinge_generator_loss, wasserstein_critic_loss, wasserstein_generator_loss)
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(6, 1, generator=g), torch.randn(6, 1, generator=g)
    assert torch.equal(discriminator_game_loss("bce", real, fake, 0.9), discriminator_loss(real, fake, real_target=0.9))
    assert torch.equal(discriminator_game_loss("hinge", real, fake), hinge_discriminator_loss(real, fake))
    assert torch.equal(discriminator_game_loss("wgan-gp", real, fake), wasserstein_critic_loss(real, fake))
    assert torch.equal(generator_game_loss("bce", fake, "saturating"), generator_loss(fake, "saturating"))
    assert torch.equal(generator_game_loss("hinge", fake), hinge_generator_loss(fake))
    assert torch.equal(generator_game_loss("wgan-gp", fake), wasserstein_generator_loss(fake))
    assert set(GAMES) == {"bce", "hinge", "wgan-gp"}
    with pytest.raises(ValueError, match="label smoothing"):
        discriminator_game_loss("hinge", real, fake, real_target=0.9)
    with pytest.raises(ValueError, match="game must be one of"):
        generator_game_loss("lsgan", fake)
