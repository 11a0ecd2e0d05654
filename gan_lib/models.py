"""The networks of the book.

The seed article's generator, exactly: Linear 100-256-512-1024-784 with ReLU and a
final Tanh, reshaped to a 1 x 28 x 28 image. Its discriminator mirrors it,
784-1024-512-256-1 with LeakyReLU(0.2), and returns a *logit* (no Sigmoid: the
loss applies it in a numerically stable way, chapter 2).

Both are plain ``nn.Sequential`` stacks, so a reader can index their layers and
``gan_lib.backprop`` can walk them by hand (chapter 3). Chapter 5's DCGAN pair is below them, with
its resize-convolution generator, and :func:`build` makes the pair a training recipe names.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .spectral_norm import spectral_norm

LATENT_DIM = 100
IMAGE_SHAPE = (1, 28, 28)
IMAGE_SIZE = 28 * 28
MODELS = ("mlp", "dcgan", "cmlp", "dcgan-resize")  # the seed's MLPs, chapter 5's DCGAN, chapter 8's
                                                  # conditional MLPs, chapter 5's resize-convolution DCGAN
CONDITIONAL_MODELS = ("cmlp",)      # called as G(z, y) and D(x, y)
CONVOLUTIONAL_MODELS = ("dcgan", "dcgan-resize")  # chapter 5: both use dcgan_discriminator


def build(recipe) -> tuple[nn.Module, nn.Module]:
    """The (generator, discriminator) pair of a ``gan_lib.train.Recipe``: its model, dropout and spectral norm.

    The discriminator is built first, and spectrally normalised, before the generator: the order
    in which the book's seeded runs draw their initial weights.
    """
    check_model(recipe.model, recipe.num_classes)
    if recipe.model in CONVOLUTIONAL_MODELS and recipe.d_dropout > 0:
        raise ValueError(f"d_dropout is an option of the MLP discriminators only; set it to 0 for model={recipe.model!r}.")
    if recipe.model == "cmlp":
        from . import conditional  # the conditional networks are built from this module's MLPs
        discriminator = conditional.ConditionalDiscriminator(recipe.num_classes, dropout=recipe.d_dropout)
    elif recipe.model in CONVOLUTIONAL_MODELS:
        discriminator = dcgan_discriminator()
    else:
        discriminator = mlp_discriminator(dropout=recipe.d_dropout)
    if recipe.d_spectral_norm:
        discriminator = with_spectral_norm(discriminator)
    if recipe.model == "cmlp":
        return conditional.ConditionalGenerator(recipe.latent_dim, recipe.num_classes), discriminator
    make_generator = {"dcgan": dcgan_generator, "dcgan-resize": resize_conv_generator}.get(recipe.model, mlp_generator)
    return make_generator(recipe.latent_dim), discriminator


def check_model(model: str, num_classes: int) -> None:
    """Refuse an unknown model, and a class count that does not fit it (conditional models need >= 2, others 0)."""
    if model not in MODELS:
        raise ValueError(f"Unknown model {model!r}; choose one of {MODELS}.")
    if (model in CONDITIONAL_MODELS) != (num_classes > 0) or num_classes == 1:
        raise ValueError(f"model {model!r} with num_classes={num_classes}: the conditional models "
                         f"{CONDITIONAL_MODELS} need num_classes >= 2, the others num_classes=0.")


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


def with_spectral_norm(model: nn.Module) -> nn.Module:
    """Spectrally normalise every Linear and Conv layer's weight (Miyato et al. 2018), in place: Eq. (ch4-sn), with
    the backward pass of Eq. (ch4-sn-grad) (gan_lib.spectral_norm)."""
    for name, layer in model.named_children():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            setattr(model, name, spectral_norm(layer))
        else:
            with_spectral_norm(layer)
    return model


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


# --- DCGAN (chapter 5) -----------------------------------------------------------------------
# Radford et al. (2015), scaled to 28 x 28: no pooling and no hidden fully connected layers
# (strided convolutions in D, transposed ones in G), batch norm everywhere except G's output
# and D's input, ReLU in G, LeakyReLU(0.2) in D, Tanh output, weights drawn from N(0, 0.02).

def conv_out_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Eq. (ch5-conv-size): side of a Conv2d's output, floor((size + 2 padding - kernel) / stride) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_transpose_out_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Eq. (ch5-convT-size): side of a ConvTranspose2d's output, (size - 1) stride - 2 padding + kernel."""
    return (size - 1) * stride - 2 * padding + kernel


def dcgan_generator(latent_dim: int = LATENT_DIM, width: int = 64) -> nn.Sequential:
    """DCGAN generator: z (N x latent_dim) -> 2w x 7 x 7 -> w x 14 x 14 -> image 1 x 28 x 28 in [-1, 1].

    The first layer is a 7 x 7 transposed convolution of z seen as a 1 x 1 image (the same map
    as a Linear layer to 2w * 49 numbers); the next two double the side (kernel 4, stride 2,
    padding 1). Layers followed by batch norm have no bias: the norm's shift replaces it.
    """
    _check_widths(latent_dim, [width])
    assert conv_transpose_out_size(1, 7) == 7 and conv_transpose_out_size(7, 4, 2, 1) == 14
    assert conv_transpose_out_size(14, 4, 2, 1) == 28
    net = nn.Sequential(
        nn.Unflatten(1, (latent_dim, 1, 1)),                                   # latent_dim x 1 x 1
        nn.ConvTranspose2d(latent_dim, 2 * width, 7, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(),  # 7 x 7
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),     # 14 x 14
        nn.ConvTranspose2d(width, 1, 4, 2, 1), nn.Tanh(),                      # 1 x 28 x 28, no batch norm
    )
    return dcgan_init(net)


def dcgan_discriminator(width: int = 64, slope: float = 0.2) -> nn.Sequential:
    """DCGAN discriminator: image 1 x 28 x 28 -> w x 14 x 14 -> 2w x 7 x 7 -> logit (N x 1).

    The mirror of :func:`dcgan_generator`, except that its first layer has no batch norm
    (it would normalise away the images' own statistics) and its output is a logit, not Tanh.
    """
    _check_widths(width, [])
    assert conv_out_size(28, 4, 2, 1) == 14 and conv_out_size(14, 4, 2, 1) == 7 and conv_out_size(7, 7) == 1
    net = nn.Sequential(
        nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(slope),                     # 14 x 14, no batch norm
        nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(slope),  # 7 x 7
        nn.Conv2d(2 * width, 1, 7), nn.Flatten(),                              # 1 x 1 -> N x 1 logit
    )
    return dcgan_init(net)


@torch.no_grad()
def dcgan_init(model: nn.Module, std: float = 0.02) -> nn.Module:
    """DCGAN's initialisation, in place: conv weights ~ N(0, std^2), batch-norm scales ~ N(1, std^2), shifts and biases 0."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return model


def resize_conv_generator(latent_dim: int = LATENT_DIM, width: int = 64) -> nn.Sequential:
    """:func:`dcgan_generator` with each stride-2 transposed convolution replaced by a *resize-convolution*
    (Odena, Dumoulin and Olah 2016): nearest-neighbour upsampling by 2, then a 3 x 3 convolution (padding 1).

    A stride-2 transposed convolution computes the even and the odd output pixels with different taps of its
    kernel, so even a flat input can come out as a checkerboard; after nearest-neighbour upsampling every
    output pixel is computed with the same kernel, and a flat input stays flat away from the border (chapter 5).
    Same widths, batch norms, activations and initialisation as the DCGAN generator.
    """
    _check_widths(latent_dim, [width])
    net = nn.Sequential(
        nn.Unflatten(1, (latent_dim, 1, 1)),                                   # latent_dim x 1 x 1
        nn.ConvTranspose2d(latent_dim, 2 * width, 7, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(),  # 7 x 7
        nn.Upsample(scale_factor=2, mode="nearest"),                           # 14 x 14, each value copied 2 x 2
        nn.Conv2d(2 * width, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),             # 14 x 14
        nn.Upsample(scale_factor=2, mode="nearest"),                           # 28 x 28
        nn.Conv2d(width, 1, 3, 1, 1), nn.Tanh(),                               # 1 x 28 x 28, no batch norm
    )
    return dcgan_init(net)
