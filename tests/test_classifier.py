"""gan_lib.classifier: the evaluation classifier's shape, and that its training learns what it is shown."""
import pytest
import torch

from gan_lib import classifier, data

needs_fashion = pytest.mark.skipif(data.locate("fashion-mnist")[0] is None,
                                   reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


def test_features_are_the_128_units_before_the_last_layer():
    net = classifier.classifier_net().eval()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    features = net[:-1](x)
    assert features.shape == (5, 128) and (features >= 0).all()  # after a ReLU
    assert torch.equal(net[-1](features), net(x)) and net(x).shape == (5, 10)


def test_training_learns_a_separable_problem_and_repeats():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 10
    images = torch.full((200, 1, 28, 28), -1.0)
    for i, y in enumerate(labels.tolist()):  # class y: a bright bar in row block y
        images[i, 0, 2 * y: 2 * y + 3, 4:24] = 1.0
    images = (images + 0.2 * torch.randn(images.shape, generator=g)).clamp(-1, 1)
    net = classifier.train_classifier(images, labels, num_steps=60, seed=0, batch_size=32)
    assert (net(images).argmax(1) == labels).double().mean() > 0.95
    again = classifier.train_classifier(images, labels, num_steps=60, seed=0, batch_size=32)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.state_dict().values()))
    assert not net.training, "returned in eval mode: batch norm uses its running statistics"


@needs_fashion
def test_fit_classifier_trains_on_the_training_split_only(monkeypatch):
    seen = []
    monkeypatch.setattr(classifier, "train_classifier", lambda images, labels, n, seed: seen.append(len(images)))
    classifier.fit_classifier("fashion-mnist", 1)
    assert seen == [55_000], "the validation and test images are never trained on"
