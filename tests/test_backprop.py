"""gan_lib.backprop and gan_lib.optim against torch.autograd and torch.optim, in float64."""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_lib import backprop
from gan_lib.backprop import (backward, bce_with_logits_grad, discriminator_grads, forward,
                              generator_grads, generator_loss_grad)
from gan_lib.models import mlp_discriminator, mlp_generator
from gan_lib.optim import adam_init, adam_step, sgd_step

DT = torch.float64
TOL = 1e-10  # relative error; float64 round-off for these sizes is ~1e-15


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm().clamp_min(1e-300)).item()


def assert_grads_match(hand: dict, model: nn.Module, loss: torch.Tensor) -> None:
    names = [n for n, _ in model.named_parameters()]
    auto = torch.autograd.grad(loss, list(model.parameters()))
    assert list(hand) == names
    for name, ref in zip(names, auto):
        assert hand[name].shape == ref.shape
        assert rel_err(hand[name], ref) < TOL, name


# Independent references: torch's own functions, not gan_lib.losses.
def ref_generator_loss(fake_logit, kind):
    return F.softplus(-fake_logit).mean() if kind == "non_saturating" else -F.softplus(fake_logit).mean()


def ref_discriminator_loss(real_logit, fake_logit, real_target=1.0):
    return (F.binary_cross_entropy_with_logits(real_logit, torch.full_like(real_logit, real_target))
            + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit)))


@pytest.mark.parametrize("layer", [nn.Linear(5, 3), nn.Linear(5, 3, bias=False), nn.ReLU(), nn.LeakyReLU(0.2),
                                   nn.LeakyReLU(0.01), nn.Tanh(), nn.Sigmoid(), nn.Flatten(),
                                   nn.Unflatten(1, (5, 1)), nn.Dropout(0.0), nn.Dropout(0.5).eval()])
def test_each_layer_rule_matches_autograd(layer):
    torch.manual_seed(0)
    model = nn.Sequential(layer).to(DT)
    x = torch.randn(4, 5, dtype=DT, requires_grad=True)
    y = model(x)
    upstream = torch.randn_like(y)
    out, tape = forward(model, x)
    assert torch.equal(out, y.detach())
    grad_x, grads = backward(model, tape, upstream)
    auto = torch.autograd.grad(y, [x, *model.parameters()], upstream)
    assert rel_err(grad_x, auto[0]) < TOL
    for (name, _), ref in zip(model.named_parameters(), auto[1:]):
        assert rel_err(grads[name], ref) < TOL


def test_linear_on_extra_leading_dims():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 2)).to(DT)
    x = torch.randn(2, 4, 3, dtype=DT)
    out, tape = forward(model, x)
    upstream = torch.randn_like(out)
    _, grads = backward(model, tape, upstream)
    assert_grads_match(grads, model, (model(x) * upstream).sum())


def random_pair(seed: int):
    """A random generator/discriminator pair: random depth, widths, slopes, output layers, image shape."""
    g = torch.Generator().manual_seed(seed)
    rand = lambda lo, hi: int(torch.randint(lo, hi, (1,), generator=g))
    latent, side = rand(1, 6), rand(2, 5)
    hidden_g = [rand(1, 9) for _ in range(rand(0, 4))]
    hidden_d = [rand(1, 9) for _ in range(rand(0, 4))]
    torch.manual_seed(seed)
    generator = mlp_generator(latent, hidden_g, out_shape=(1, side, side)).to(DT)
    discriminator = mlp_discriminator(hidden_d, in_dim=side * side, slope=rand(1, 50) / 100).to(DT)
    return generator, discriminator, latent, side


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("kind", ["non_saturating", "saturating"])
def test_generator_grads_random_architectures(seed, batch_size, kind):
    generator, discriminator, latent, _ = random_pair(seed)
    z = torch.randn(batch_size, latent, dtype=DT)
    hand = generator_grads(generator, discriminator, z, kind)
    assert_grads_match(hand, generator, ref_generator_loss(discriminator(generator(z)), kind))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("batch_size", [1, 5])
def test_discriminator_grads_random_architectures(seed, batch_size):
    generator, discriminator, latent, side = random_pair(seed)
    real = torch.rand(batch_size, 1, side, side, dtype=DT) * 2 - 1
    fake = generator(torch.randn(batch_size, latent, dtype=DT)).detach()
    hand = discriminator_grads(discriminator, real, fake, real_target=0.9)
    assert_grads_match(hand, discriminator, ref_discriminator_loss(discriminator(real), discriminator(fake), 0.9))


@pytest.mark.parametrize("batch_size", [1, 16])
def test_seed_models(batch_size):
    torch.manual_seed(0)
    generator, discriminator = mlp_generator().to(DT), mlp_discriminator().to(DT)
    z = torch.randn(batch_size, 100, dtype=DT)
    assert_grads_match(generator_grads(generator, discriminator, z), generator,
                       ref_generator_loss(discriminator(generator(z)), "non_saturating"))
    real, fake = torch.rand(batch_size, 1, 28, 28, dtype=DT), generator(z).detach()
    assert_grads_match(discriminator_grads(discriminator, real, fake), discriminator,
                       ref_discriminator_loss(discriminator(real), discriminator(fake)))


def test_generator_with_sigmoid_output_and_deeper_discriminator_with_eval_dropout():
    torch.manual_seed(3)
    generator = nn.Sequential(nn.Linear(4, 6), nn.LeakyReLU(0.1), nn.Linear(6, 6), nn.Tanh(),
                              nn.Linear(6, 9), nn.Sigmoid(), nn.Unflatten(1, (1, 3, 3))).to(DT)
    discriminator = mlp_discriminator((8, 7, 6, 5, 4), in_dim=9, dropout=0.3).to(DT).eval()
    z = torch.randn(3, 4, dtype=DT)
    assert_grads_match(generator_grads(generator, discriminator, z), generator,
                       ref_generator_loss(discriminator(generator(z)), "non_saturating"))


def test_loss_gradients():
    logit = torch.randn(6, 1, dtype=DT, requires_grad=True)
    target = torch.rand(6, 1, dtype=DT)
    auto, = torch.autograd.grad(F.binary_cross_entropy_with_logits(logit, target), logit)
    assert rel_err(bce_with_logits_grad(logit.detach(), target), auto) < TOL
    for kind in ["non_saturating", "saturating"]:
        auto, = torch.autograd.grad(ref_generator_loss(logit, kind), logit)
        assert rel_err(generator_loss_grad(logit.detach(), kind), auto) < TOL


def test_no_autograd_graph_is_built():
    generator, discriminator, latent, _ = random_pair(0)
    grads = generator_grads(generator, discriminator, torch.randn(2, latent, dtype=DT))
    assert all(not g.requires_grad for g in grads.values())
    assert all(p.grad is None for p in [*generator.parameters(), *discriminator.parameters()])


# --- error paths --------------------------------------------------------------------

def test_unsupported_layer_is_named():
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    with pytest.raises(NotImplementedError, match="BatchNorm1d.*Supported layers: Linear"):
        forward(model, torch.randn(2, 3))


def test_unsupported_layer_in_discriminator_via_generator_grads():
    generator = nn.Sequential(nn.Linear(2, 3))
    discriminator = nn.Sequential(nn.Linear(3, 1), nn.GELU())
    with pytest.raises(NotImplementedError, match="GELU"):
        generator_grads(generator, discriminator, torch.randn(2, 2))


def test_dropout_in_training_mode_raises():
    discriminator = mlp_discriminator((4,), in_dim=4, dropout=0.5)
    with pytest.raises(ValueError, match=r"Dropout.*model.eval\(\)"):
        discriminator_grads(discriminator, torch.randn(2, 4), torch.randn(2, 4))


def test_not_sequential_raises():
    with pytest.raises(TypeError, match="nn.Sequential"):
        forward(nn.Linear(2, 2), torch.randn(1, 2))
    with pytest.raises(TypeError, match="nn.Sequential"):
        backward(nn.Linear(2, 2), [], torch.randn(1, 2))


def test_bad_kind_raises():
    generator, discriminator = nn.Sequential(nn.Linear(2, 3)), nn.Sequential(nn.Linear(3, 1))
    with pytest.raises(ValueError, match="non_saturating"):
        generator_grads(generator, discriminator, torch.randn(2, 2), kind="minimax")
    with pytest.raises(ValueError, match="saturating"):
        generator_loss_grad(torch.zeros(2, 1), kind="wasserstein")


def test_backward_with_wrong_tape_or_shape_raises():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    out, tape = forward(model, torch.randn(4, 2))
    with pytest.raises(ValueError, match="grad_out"):
        backward(model, tape, torch.randn(4, 2))
    with pytest.raises(ValueError, match="tape"):
        backward(model, tape[:1], torch.randn_like(out))


def test_supported_list_names_every_rule():
    assert backprop.SUPPORTED.split(", ") == [cls.__name__ for cls in backprop.RULES]


# --- the update -----------------------------------------------------------------------

def _train_both_ways(make_torch_opt, hand_step, num_steps=5):
    generator, discriminator, latent, _ = random_pair(11)
    twin = copy.deepcopy(generator)
    opt = make_torch_opt(twin.parameters())
    params = {n: p.detach().clone() for n, p in generator.named_parameters()}
    state = adam_init(params)
    for step in range(num_steps):
        z = torch.randn(4, latent, dtype=DT, generator=torch.Generator().manual_seed(step))
        with torch.no_grad():
            for n, p in generator.named_parameters():
                p.copy_(params[n])
        grads = generator_grads(generator, discriminator, z)
        params, state = hand_step(params, grads, state)
        opt.zero_grad()
        ref_generator_loss(discriminator(twin(z)), "non_saturating").backward()
        opt.step()
    assert state.step in (0, num_steps)
    for n, p in twin.named_parameters():
        assert (params[n] - p.detach()).abs().max().item() < 1e-12, n


def test_sgd_step_matches_torch():
    _train_both_ways(lambda ps: torch.optim.SGD(ps, lr=0.1),
                     lambda params, grads, state: (sgd_step(params, grads, lr=0.1), state))


def test_adam_step_matches_torch():
    _train_both_ways(lambda ps: torch.optim.Adam(ps, lr=2e-4, betas=(0.5, 0.999)),
                     lambda params, grads, state: adam_step(params, grads, state, lr=2e-4))


def test_optim_errors():
    params = {"w": torch.zeros(2)}
    with pytest.raises(ValueError, match="only in grads"):
        sgd_step(params, {"v": torch.zeros(2)}, lr=0.1)
    with pytest.raises(ValueError, match="betas"):
        adam_step(params, {"w": torch.zeros(2)}, adam_init(params), lr=0.1, betas=(1.0, 0.999))
