"""gan_lib.models: the seed's MLPs, chapter 5's DCGAN, spectral normalisation and build(recipe)."""
import pytest
import torch
from torch import nn

from gan_lib.models import (LATENT_DIM, MODELS, build, conv_out_size, conv_transpose_out_size, dcgan_discriminator,
                            dcgan_generator, dcgan_init, mlp_discriminator, mlp_generator, mlp_num_params, num_params,
                            with_spectral_norm)
from gan_lib.train import Recipe, new_gan, train


def test_seed_generator_architecture():
    g = mlp_generator()
    linear = [m for m in g if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(100, 256), (256, 512), (512, 1024), (1024, 784)]
    assert isinstance(g[-2], torch.nn.Tanh)
    x = g(torch.randn(5, 100))
    assert x.shape == (5, 1, 28, 28) and x.abs().max() < 1
    assert num_params(g) == mlp_num_params([100, 256, 512, 1024, 784]) == 1_486_352


def test_discriminator_is_symmetric_and_returns_logits():
    d = mlp_discriminator()
    linear = [m for m in d if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(784, 1024), (1024, 512), (512, 256), (256, 1)]
    assert all(m.negative_slope == 0.2 for m in d if isinstance(m, torch.nn.LeakyReLU))
    assert not any(isinstance(m, torch.nn.Sigmoid) for m in d)
    assert d(torch.randn(4, 1, 28, 28)).shape == (4, 1)


def test_dropout_option_and_errors():
    assert sum(isinstance(m, torch.nn.Dropout) for m in mlp_discriminator(dropout=0.3)) == 3
    with pytest.raises(ValueError):
        mlp_discriminator(dropout=1.0)
    with pytest.raises(ValueError):
        mlp_generator(hidden=(256, 0))


def test_spectral_norm_wraps_every_linear_and_conv_layer_and_bounds_the_gain():
    torch.manual_seed(0)
    d = with_spectral_norm(mlp_discriminator())
    linear = [m for m in d if isinstance(m, nn.Linear)]
    assert len(linear) == 4 and all(hasattr(m, "parametrizations") for m in linear)
    for _ in range(30):  # power iterations (one per forward in train mode) converge to the top singular value
        d(torch.randn(8, 1, 28, 28))
    d.eval()
    sigma = [torch.linalg.matrix_norm(m.weight.detach(), ord=2).item() for m in linear]
    assert all(abs(s - 1) < 1e-2 for s in sigma), sigma  # about 1, not at most 1: power iteration estimates it
    conv = with_spectral_norm(dcgan_discriminator())
    assert sum(hasattr(m, "parametrizations") for m in conv.modules() if isinstance(m, nn.Conv2d)) == 3


@pytest.mark.parametrize("model", MODELS)
def test_build_makes_the_pair_a_recipe_names(model):
    recipe = Recipe(model=model, num_classes=10 if model == "cmlp" else 0)
    g, d = build(recipe)
    z = torch.randn(3, LATENT_DIM)
    y = (torch.tensor([0, 1, 2]),) if model == "cmlp" else ()
    x = g.eval()(z, *y)
    assert x.shape == (3, 1, 28, 28) and d.eval()(x, *y).shape == (3, 1)
    with pytest.raises(ValueError, match="Unknown model"):
        Recipe(model="transformer")


def test_build_draws_weights_in_the_seeded_order():
    """D first, then its spectral norm's random vector, then G: the order the book's cached runs were made in."""
    torch.manual_seed(7)
    d = with_spectral_norm(mlp_discriminator())
    g = mlp_generator()
    torch.manual_seed(7)
    g2, d2 = build(Recipe(d_spectral_norm=True))
    assert all(torch.equal(a, b) for a, b in zip(g.state_dict().values(), g2.state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(d.state_dict().values(), d2.state_dict().values()))


# --- DCGAN (chapter 5) -------------------------------------------------------------------------

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
    recipe = Recipe(model="dcgan", batch_size=8)
    gan = new_gan(recipe, seed=0)
    images = torch.rand(32, 1, 28, 28) * 2 - 1
    train(gan, images, 2, progress=False)
    assert gan.step == 2 and len(gan.history["d_loss"]) == 2
    assert gan.sample(5).shape == (5, 1, 28, 28)
    with pytest.raises(ValueError, match="d_dropout"):
        build(Recipe(model="dcgan", d_dropout=0.3))


# --- the resize-convolution generator (chapter 5's checkerboard) -------------------------------------

def test_resize_conv_generator_shapes_and_recipe():
    from gan_lib.models import resize_conv_generator
    w, n = 16, 3
    g = resize_conv_generator(width=w)
    assert shapes(g.eval(), torch.randn(n, LATENT_DIM)) == [
        (n, LATENT_DIM, 1, 1),
        (n, 2 * w, 7, 7), (n, 2 * w, 7, 7), (n, 2 * w, 7, 7),
        (n, 2 * w, 14, 14), (n, w, 14, 14), (n, w, 14, 14), (n, w, 14, 14),
        (n, w, 28, 28), (n, 1, 28, 28), (n, 1, 28, 28)]
    assert not any(isinstance(m, nn.ConvTranspose2d) and m.stride != (1, 1) for m in g)
    generator, discriminator = build(Recipe(model="dcgan-resize"))
    assert isinstance(generator[4], nn.Upsample) and isinstance(discriminator[0], nn.Conv2d)
    with pytest.raises(ValueError, match="d_dropout"):
        build(Recipe(model="dcgan-resize", d_dropout=0.3))


def test_a_flat_feature_map_stays_flat_through_a_resize_convolution_but_not_a_transposed_one():
    """Away from the border, nearest-neighbour upsampling then a 3 x 3 convolution maps a constant to a constant;
    a stride-2 transposed convolution with kernel 4 gives the even and odd pixels different sums of its taps."""
    torch.manual_seed(0)
    flat = torch.ones(1, 4, 6, 6)
    resize = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(4, 1, 3, 1, 1, bias=False))
    transposed = nn.ConvTranspose2d(4, 1, 4, 2, 1, bias=False)
    with torch.no_grad():
        inner_resize, inner_transposed = resize(flat)[0, 0, 2:-2, 2:-2], transposed(flat)[0, 0, 2:-2, 2:-2]
    assert torch.allclose(inner_resize, inner_resize[0, 0].expand_as(inner_resize), atol=1e-6)
    assert (inner_transposed[0::2, 0::2] - inner_transposed[1::2, 1::2]).abs().min() > 1e-3


def test_the_existing_dcgan_draws_the_same_weights_as_before_the_resize_variant():
    """Adding a model must not change the DCGAN's seeded initial weights (its cached runs depend on them)."""
    torch.manual_seed(3)
    d, g = dcgan_discriminator(), dcgan_generator()
    torch.manual_seed(3)
    g2, d2 = build(Recipe(model="dcgan"))
    assert all(torch.equal(a, b) for a, b in zip(g.state_dict().values(), g2.state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(d.state_dict().values(), d2.state_dict().values()))
