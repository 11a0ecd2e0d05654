"""Conditional GANs (chapter 8): the class label as a second input to both networks.

Mirza and Osindero (2014) give the generator and the discriminator the label ``y`` as
well: G(z, y) makes an image of class y, and D(x, y) judges whether x is a real image
*of class y*. Here the label enters the generator as a one-hot vector concatenated to the noise
(Eq. (ch8-onehot)), and the discriminator by a projection (Miyato and Koyama 2018, Eq. (ch8-projection)):
the label picks a vector that is dotted with the discriminator's last hidden features. The networks
are otherwise the seed's MLPs.
``gan_lib.models.build`` makes them for ``Recipe(model="cmlp", num_classes=10)``, and
``gan_lib.train`` trains them with the same loop as every other GAN. The helpers below pick
the labels to sample with, fixed per-class subsets, and the per-class hit rate.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from . import models
from .data import ImageData


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Float one-hot rows e_y (N x num_classes) for int64 labels in 0..num_classes-1."""
    if labels.dtype != torch.int64 or labels.dim() != 1:
        raise ValueError(f"labels must be a 1-D int64 tensor, got {labels.dtype} of shape {tuple(labels.shape)}.")
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got {int(labels.min())}..{int(labels.max())}.")
    return F.one_hot(labels, num_classes).to(torch.float32)


class ConditionalGenerator(nn.Module):
    """Eq. (ch8-onehot): G(z, y) = G'([z; e_y]), with G' the seed's MLP generator on latent_dim + num_classes inputs."""

    def __init__(self, latent_dim: int = models.LATENT_DIM, num_classes: int = 10):
        super().__init__()
        self.num_classes = num_classes
        self.net = models.mlp_generator(latent_dim + num_classes)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, one_hot(labels, self.num_classes).to(z.device)], dim=1))


class ConditionalDiscriminator(nn.Module):
    """Eq. (ch8-projection): D(x, y) = w . Phi(x) + b + v_y . Phi(x), a logit for "x is a real image of class y".

    Phi is the seed's MLP discriminator without its last layer (``features``: 256 numbers), w and b that last layer
    (``out``), and v_y = V e_y the column of ``projection`` (a bias-free Linear on the one-hot label, so that spectral
    normalisation treats it like every other layer). Concatenating e_y to the image instead gives the label one input
    column out of 794 in a spectrally normalised first layer, and the label's effect is divided by that layer's
    largest singular value: at the book's budgets such a discriminator learns to ignore the label (chapter 8).
    """

    def __init__(self, num_classes: int = 10, dropout: float = 0.0):
        super().__init__()
        self.num_classes = num_classes
        trunk = models.mlp_discriminator(dropout=dropout)
        self.features, self.out = trunk[:-1], trunk[-1]
        self.projection = nn.Linear(num_classes, self.out.in_features, bias=False)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        phi = self.features(x)
        v_y = self.projection(one_hot(labels, self.num_classes).to(x.device))
        return self.out(phi) + (v_y * phi).sum(dim=1, keepdim=True)


def check_sample_labels(labels: torch.Tensor | None, n: int, num_classes: int) -> torch.Tensor | None:
    """The labels to generate n images with: None (unconditional), the classes in turn by default, or ``labels``."""
    if num_classes == 0:
        if labels is not None:
            raise ValueError("labels were given, but this GAN is unconditional (num_classes=0).")
        return None
    if labels is None:
        return fixed_labels(n, num_classes)
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} images: give one label per image.")
    return labels


def fixed_labels(n: int, num_classes: int) -> torch.Tensor:
    """0, 1, ..., num_classes-1, 0, 1, ...: n labels that cycle through the classes (for sample grids)."""
    return torch.arange(n) % num_classes


def subset_indices(labels: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """Indices of ``per_class`` examples of each class, drawn without replacement by a generator seeded with ``seed``.

    The same (labels, per_class, seed) always gives the same indices, sorted ascending.
    """
    classes = labels.unique()
    counts = torch.bincount(labels)[classes]
    if per_class < 1 or int(counts.min()) < per_class:
        raise ValueError(f"per_class must be in 1..{int(counts.min())} (the smallest class), got {per_class}.")
    rng = torch.Generator().manual_seed(seed)
    chosen = []
    for c in classes.tolist():
        members = (labels == c).nonzero().squeeze(1)
        chosen.append(members[torch.randperm(len(members), generator=rng)[:per_class]])
    return torch.cat(chosen).sort().values


def training_data(split: ImageData, subset_per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(images, labels) a run trains on: the whole split, or ``subset_per_class`` per class drawn with ``seed``."""
    if subset_per_class == 0:
        return split.images, split.labels
    index = subset_indices(split.labels, subset_per_class, seed)
    return split.images[index], split.labels[index]


def per_class_hit_rate(predicted: torch.Tensor, requested: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Per class c: among the images generated on request for c, the share classified as c (Eq. (ch8-hit))."""
    if predicted.shape != requested.shape:
        raise ValueError(f"predicted {tuple(predicted.shape)} and requested {tuple(requested.shape)} differ in shape.")
    hits = (predicted == requested).double()
    count = torch.bincount(requested, minlength=num_classes).double()
    if (count == 0).any():
        raise ValueError("every class must be requested at least once to measure its hit rate.")
    return torch.bincount(requested, weights=hits, minlength=num_classes) / count
