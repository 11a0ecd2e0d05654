import pytest
import torch

from gan_lib.models import mlp_discriminator, mlp_generator, mlp_num_params, num_params


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
