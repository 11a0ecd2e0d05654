"""The book's evaluation classifier: a small CNN whose features the Frechet distance compares (chapters 4 and 7).

It is trained once per data set on the *training* split (never on the validation or test images,
which the book's selections and reports are scored against) and cached by ``gan_lib.machinery.cache``.
``net[:-1]`` maps an image to its 128 features, ``net[-1]`` the features to 10 class logits.
"""
from __future__ import annotations

import torch
from torch import nn

from .data import load_images


def classifier_net(num_classes: int = 10) -> nn.Sequential:
    """Two conv blocks (with batch norm) and a 128-unit feature layer; ``net[:-1]`` gives the features."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),    # 32 x 14 x 14
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),   # 64 x 7 x 7
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),            # the features
        nn.Linear(128, num_classes),
    )


def train_classifier(images: torch.Tensor, labels: torch.Tensor, num_steps: int, seed: int = 0,
                     batch_size: int = 128, lr: float = 1e-3) -> nn.Sequential:
    """Train :func:`classifier_net` with Adam (cosine-annealed lr) and cross-entropy; ``images`` in [-1, 1] on the target device."""
    torch.manual_seed(seed)
    net = classifier_net().to(images.device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=num_steps)  # anneal lr to 0
    rng = torch.Generator().manual_seed(seed)
    data = torch.utils.data.TensorDataset(images, labels.to(images.device))
    for _ in range(num_steps):
        index = torch.randint(len(images), (batch_size,), generator=rng).to(images.device)
        x, y = data[index]
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
    return net.eval()


def fit_classifier(dataset: str, num_steps: int, seed: int = 0, device: torch.device | str = "cpu") -> nn.Sequential:
    """The book's classifier for ``dataset``, trained ``num_steps`` steps on its training split only."""
    train_set = load_images(dataset, "train")
    return train_classifier(train_set.images.to(device), train_set.labels, num_steps, seed=seed)
