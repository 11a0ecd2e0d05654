import pytest
import torch

from gan_lib import conditional
from gan_lib.data import ImageData
from gan_lib.checkpoint import load_gan, save_gan
from gan_lib.models import build
from gan_lib.train import Recipe, new_gan, train

COND = Recipe(model="cmlp", num_classes=10, batch_size=16)


@pytest.fixture
def tiny_labels() -> torch.Tensor:
    return torch.arange(256) % 10


def test_one_hot_and_its_errors():
    assert torch.equal(conditional.one_hot(torch.tensor([2, 0]), 3), torch.tensor([[0., 0., 1.], [1., 0., 0.]]))
    with pytest.raises(ValueError, match="0..2"):
        conditional.one_hot(torch.tensor([3]), 3)
    with pytest.raises(ValueError, match="int64"):
        conditional.one_hot(torch.tensor([1.0]), 3)


def test_conditional_generator_is_the_mlp_on_noise_and_one_hot():
    torch.manual_seed(0)
    g = conditional.ConditionalGenerator(latent_dim=100, num_classes=10)
    z, y = torch.randn(4, 100), torch.tensor([0, 3, 9, 3])
    x = g(z, y)
    assert x.shape == (4, 1, 28, 28)
    assert torch.equal(x, g.net(torch.cat([z, conditional.one_hot(y, 10)], 1)))
    assert not torch.allclose(g(z, y), g(z, (y + 1) % 10)), "the label must change the image"


def test_conditional_discriminator_returns_a_logit_per_image():
    d = conditional.ConditionalDiscriminator(num_classes=10, dropout=0.3)
    x, y = torch.randn(5, 1, 28, 28), torch.arange(5)
    assert d(x, y).shape == (5, 1)
    assert d.features[1].in_features == 784 and d.out.in_features == 256
    assert d.projection.weight.shape == (256, 10) and d.projection.bias is None


def test_the_projection_discriminator_is_its_equation():
    """Eq. (ch8-projection): w . Phi(x) + b + v_y . Phi(x), with v_y the label's column of the projection."""
    torch.manual_seed(0)
    d = conditional.ConditionalDiscriminator(num_classes=10).eval()
    x, y = torch.rand(6, 1, 28, 28) * 2 - 1, torch.tensor([0, 3, 9, 3, 1, 1])
    phi = d.features(x)
    by_hand = phi @ d.out.weight.T + d.out.bias + (d.projection.weight[:, y].T * phi).sum(1, keepdim=True)
    assert torch.allclose(d(x, y), by_hand, atol=1e-6)
    # the label changes only the last layer's weights: D(x, y) - D(x, y') = (v_y - v_y') . Phi(x)
    other = (y + 1) % 10
    gap = ((d.projection.weight[:, y] - d.projection.weight[:, other]).T * phi).sum(1, keepdim=True)
    assert torch.allclose(d(x, y) - d(x, other), gap, atol=1e-6)
    assert not torch.allclose(d(x, y), d(x, other)), "the label must change the verdict"


def test_spectral_norm_reaches_the_projection():
    torch.manual_seed(0)
    _, d = build(Recipe(model="cmlp", num_classes=10, d_spectral_norm=True))
    names = {name for name, _ in d.named_modules()}
    assert "projection.parametrizations" in names and "out.parametrizations" in names
    x, y = torch.randn(4, 1, 28, 28), torch.arange(4)
    for _ in range(50):  # one power iteration per training-mode forward pass
        d(x, y)
    for layer in (d.projection, d.out):
        assert abs(torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item() - 1) < 1e-2


def test_cmlp_is_built_and_validated():
    g, d = build(Recipe(model="cmlp", num_classes=10, d_spectral_norm=True))
    assert isinstance(g, conditional.ConditionalGenerator) and isinstance(d, conditional.ConditionalDiscriminator)
    assert any("parametrizations" in name for name, _ in d.named_modules())
    for bad in ({"model": "cmlp"}, {"model": "cmlp", "num_classes": 1}, {"model": "mlp", "num_classes": 10}):
        with pytest.raises(ValueError, match="num_classes"):
            Recipe(**bad)
    with pytest.raises(ValueError, match="subset_per_class"):
        Recipe(subset_per_class=-1)


def test_fixed_labels_cycle():
    assert conditional.fixed_labels(12, 10).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_subset_indices_are_balanced_seeded_and_distinct():
    labels = torch.arange(1000) % 10
    a = conditional.subset_indices(labels, 7, seed=1)
    assert len(a) == 70 and len(a.unique()) == 70
    assert torch.bincount(labels[a]).tolist() == [7] * 10
    assert torch.equal(a, conditional.subset_indices(labels, 7, seed=1))
    assert not torch.equal(a, conditional.subset_indices(labels, 7, seed=2))
    with pytest.raises(ValueError, match="per_class"):
        conditional.subset_indices(labels, 101, seed=0)


def test_training_data_honours_the_subset(tiny_images, tiny_labels):
    split = ImageData(tiny_images, tiny_labels, tuple("abcdefghij"), "test")
    images, labels = conditional.training_data(split, 0, seed=0)
    assert images is tiny_images and labels is tiny_labels
    images, labels = conditional.training_data(split, 5, seed=0)
    index = conditional.subset_indices(tiny_labels, 5, seed=0)
    assert torch.equal(images, tiny_images[index]) and torch.equal(labels, tiny_labels[index])


def test_label_checks():
    assert conditional.check_sample_labels(None, 3, 0) is None
    assert conditional.check_sample_labels(None, 3, 10).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="one label per image"):
        conditional.check_sample_labels(torch.zeros(2, dtype=torch.long), 3, 10)


def test_per_class_hit_rate():
    requested = torch.tensor([0, 0, 1, 1, 2, 2])
    predicted = torch.tensor([0, 1, 1, 1, 0, 0])
    assert conditional.per_class_hit_rate(predicted, requested, 3).tolist() == [0.5, 1.0, 0.0]
    with pytest.raises(ValueError, match="at least once"):
        conditional.per_class_hit_rate(predicted, requested, 4)


def test_conditional_training_samples_and_resumes(tiny_images, tiny_labels, tmp_path):
    gan = train(new_gan(COND, seed=0), tiny_images, 3, labels=tiny_labels, sample_every=2)
    assert gan.step == 3 and len(gan.history["samples"]) == 2
    assert gan.sample(4, labels=torch.tensor([1, 2, 3, 4])).shape == (4, 1, 28, 28)
    assert torch.equal(gan.sample(10), gan.sample(10, labels=torch.arange(10)))
    with pytest.raises(ValueError, match="one label per image"):
        train(gan, tiny_images, 1)
    save_gan(gan, tmp_path / "c.pt")
    resumed = train(load_gan(tmp_path / "c.pt"), tiny_images, 2, labels=tiny_labels)
    straight = train(new_gan(COND, seed=0), tiny_images, 5, labels=tiny_labels)
    assert resumed.history["g_loss"] == straight.history["g_loss"]


def test_unconditional_gan_refuses_labels(tiny_images, tiny_labels):
    gan = new_gan(Recipe(batch_size=8), seed=0)
    with pytest.raises(ValueError, match="unconditional"):
        train(gan, tiny_images, 1, labels=tiny_labels)
    with pytest.raises(ValueError, match="unconditional"):
        gan.sample(2, labels=torch.tensor([0, 1]))
