import pytest
import torch
from torch import nn

from gan_lib.models import (LATENT_DIM, conv_out_size, conv_transpose_out_size, dcgan_discriminator,
                            dcgan_generator, dcgan_init, num_params)
from gan_lib.recipes import DCGAN, DCGAN_COST_RATIO, TUNED_COST_RATIO, chapter4_runs, chapter5_runs, equal_cost_steps
from gan_lib.budgets import BUDGETS
from gan_lib.train import MODEL_BUILDERS, Recipe, new_gan, train


def shapes(model: nn.Sequential, x: torch.Tensor) -> list[tuple[int, ...]]:
    """The output shape after every layer of ``model`` (batch dimension included)."""
    out = []
    for layer in model:
        x = layer(x)
        out.append(tuple(x.shape))
    return out


def test_size_formulas_match_torch():
    for size, k, s, p in [(28, 4, 2, 1), (14, 4, 2, 1), (7, 7, 1, 0), (9, 3, 2, 0), (5, 5, 1, 2)]:
        x = torch.zeros(1, 1, size, size)
        assert nn.Conv2d(1, 1, k, s, p)(x).shape[-1] == conv_out_size(size, k, s, p)
        assert nn.ConvTranspose2d(1, 1, k, s, p)(x).shape[-1] == conv_transpose_out_size(size, k, s, p)


def test_generator_shapes_range_and_layout():
    w, n = 16, 3
    g = dcgan_generator(width=w)
    assert shapes(g.eval(), torch.randn(n, LATENT_DIM)) == [
        (n, LATENT_DIM, 1, 1),
        (n, 2 * w, 7, 7), (n, 2 * w, 7, 7), (n, 2 * w, 7, 7),
        (n, w, 14, 14), (n, w, 14, 14), (n, w, 14, 14),
        (n, 1, 28, 28), (n, 1, 28, 28)]
    x = g.train()(torch.randn(n, LATENT_DIM))
    assert x.shape == (n, 1, 28, 28) and x.abs().max() <= 1
    assert isinstance(g[-1], nn.Tanh) and not isinstance(g[-2], nn.BatchNorm2d)
    assert all(isinstance(m, nn.ReLU) for m in g if isinstance(m, (nn.ReLU, nn.LeakyReLU)))


def test_discriminator_shapes_logit_and_first_layer_without_batch_norm():
    w, n = 16, 3
    d = dcgan_discriminator(width=w)
    assert shapes(d.eval(), torch.randn(n, 1, 28, 28)) == [
        (n, w, 14, 14), (n, w, 14, 14),
        (n, 2 * w, 7, 7), (n, 2 * w, 7, 7), (n, 2 * w, 7, 7),
        (n, 1, 1, 1), (n, 1)]
    assert isinstance(d[0], nn.Conv2d) and isinstance(d[1], nn.LeakyReLU) and d[1].negative_slope == 0.2
    assert not any(isinstance(m, (nn.Sigmoid, nn.Tanh)) for m in d)


def test_default_widths_and_parameter_counts():
    g, d = dcgan_generator(), dcgan_discriminator()
    assert [m.out_channels for m in g if isinstance(m, nn.ConvTranspose2d)] == [128, 64, 1]
    assert [m.out_channels for m in d if isinstance(m, nn.Conv2d)] == [64, 128, 1]
    # by hand: weights in*out*k*k (+ bias where no batch norm follows), batch norm 2 per channel
    assert num_params(g) == 100 * 128 * 49 + 2 * 128 + 128 * 64 * 16 + 2 * 64 + 64 * 16 + 1
    assert num_params(d) == 16 * 64 + 64 + 64 * 128 * 16 + 2 * 128 + 128 * 49 + 1


def test_init_is_normal_002():
    torch.manual_seed(0)
    g = dcgan_init(dcgan_generator())
    w = g[4].weight
    assert abs(w.std().item() - 0.02) < 0.001 and abs(w.mean().item()) < 0.001
    assert abs(g[2].weight.mean().item() - 1) < 0.01 and g[2].bias.abs().max() == 0


def test_bad_width_is_refused():
    with pytest.raises(ValueError):
        dcgan_generator(width=0)
    with pytest.raises(ValueError):
        dcgan_discriminator(width=-1)


def test_dcgan_trains_with_the_unchanged_loop():
    assert "dcgan" in MODEL_BUILDERS
    recipe = Recipe(model="dcgan", batch_size=8)
    gan = new_gan(recipe, seed=0)
    images = torch.rand(32, 1, 28, 28) * 2 - 1
    train(gan, images, 2, progress=False)
    assert gan.step == 2 and len(gan.history["d_loss"]) == 2
    assert gan.sample(5).shape == (5, 1, 28, 28)
    with pytest.raises(ValueError, match="d_dropout"):
        MODEL_BUILDERS["dcgan"](Recipe(model="dcgan", d_dropout=0.3))


def test_chapter5_runs_have_equal_cost():
    for b in BUDGETS.values():
        runs = {r.name: r for r in chapter5_runs(b)}
        tuned = {r.name: r for r in chapter4_runs(b)}["tuned-seed0"]  # the MLP side of the comparison
        assert tuned.num_steps == equal_cost_steps(b.gan_steps, TUNED_COST_RATIO)
        steps = equal_cost_steps(tuned.num_steps, DCGAN_COST_RATIO)
        assert {runs[f"dcgan-seed{s}"].num_steps for s in (0, 1)} == {steps}
        assert runs["dcgan-seed0"].recipe == DCGAN and DCGAN.model == "dcgan"
        assert runs["tuned-equal-steps-seed0"].num_steps == steps and runs["tuned-equal-steps-seed0"].recipe.model == "mlp"
