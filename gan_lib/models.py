"""The networks of the book.

The seed article's generator, exactly: Linear 100-256-512-1024-784 with ReLU and a
final Tanh, reshaped to a 1 x 28 x 28 image. Its discriminator mirrors it,
784-1024-512-256-1 with LeakyReLU(0.2), and returns a *logit* (no Sigmoid: the
loss applies it in a numerically stable way, chapter 2).

Both are plain ``nn.Sequential`` stacks, so a reader can index their layers and
``gan_lib.backprop`` can walk them by hand (chapter 3).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

LATENT_DIM = 100
IMAGE_SHAPE = (1, 28, 28)
IMAGE_SIZE = 28 * 28


def mlp_generator(latent_dim: int = LATENT_DIM, hidden: Sequence[int] = (256, 512, 1024),
                  out_shape: tuple[int, ...] = IMAGE_SHAPE) -> nn.Sequential:
    """The seed's MLP generator: z (N x latent_dim) -> image in [-1, 1] (N x 1 x 28 x 28)."""
    _check_widths(latent_dim, hidden)
    out_dim = int(torch.tensor(out_shape).prod())
    layers: list[nn.Module] = []
    width = latent_dim
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers += [nn.Linear(width, out_dim), nn.Tanh(), nn.Unflatten(1, tuple(out_shape))]
    return nn.Sequential(*layers)


def mlp_discriminator(hidden: Sequence[int] = (1024, 512, 256), in_dim: int = IMAGE_SIZE,
                      slope: float = 0.2, dropout: float = 0.0) -> nn.Sequential:
    """The symmetric MLP discriminator: image (N x 1 x 28 x 28) -> logit (N x 1).

    ``dropout`` > 0 adds Dropout after each hidden layer (a regulariser for D, chapter 4).
    """
    _check_widths(in_dim, hidden)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_dim
    for h in hidden:
        layers += [nn.Linear(width, h), nn.LeakyReLU(slope)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def num_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def mlp_num_params(widths: Sequence[int]) -> int:
    """Parameters of a stack of Linear layers with these widths, by hand: sum of (in + 1) * out."""
    return sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))


def _check_widths(first: int, hidden: Sequence[int]) -> None:
    widths = [first, *hidden]
    if any((not isinstance(w, int)) or w < 1 for w in widths):
        raise ValueError(f"layer widths must be positive ints, got {widths}.")
