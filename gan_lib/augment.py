"""Differentiable augmentation (chapter 8): DiffAugment (Zhao et al. 2020) for the book's images.

With a thousand real images the discriminator memorises them, and its verdicts stop teaching the
generator anything. DiffAugment shows D only augmented images, real *and* fake, and differentiates
through the augmentation, so the generator still gets a gradient: D's loss is computed on T(real)
and T(G(z)), G's on T(G(z)), Eq. (ch8-diffaugment), with a fresh random T at every call.
Augmenting only the real images would instead teach G to make augmented-looking images.

* :func:`diff_augment` - the random augmentation of a batch, by policy (``"color,translation,cutout"``).
* :func:`translate`, :func:`cutout`, :func:`adjust_color` - the three transformations with their
  parameters given, so a chapter can show (and a test check) each one.

The images are N x C x H x W in [-1, 1] (the book's are N x 1 x 28 x 28). Where the authors' code fills
with 0 (mid-grey in [-1, 1]), this module fills with the book's background, -1: a shifted or cut-out
garment shows black, as the data sets' borders are. Every random draw comes from the ``generator``
argument, so an augmented run repeats exactly.
"""
from __future__ import annotations

import torch

BACKGROUND = -1.0                                  # the value of an empty pixel in the book's images
POLICIES = ("color", "translation", "cutout")      # the authors' three; their recommended policy is all three
TRANSLATION_RATIO = 1 / 8                          # shifts of up to 1/8 of the side (3.5 -> 4 pixels of 28)
CUTOUT_RATIO = 1 / 2                               # a square of half the side (14 x 14 pixels of 28 x 28)


def diff_augment(images: torch.Tensor, policy: str, generator: torch.Generator,
                 probability: float = 1.0) -> torch.Tensor:
    """Eq. (ch8-diffaugment): the augmentations named in ``policy``, in its order, each with fresh random parameters.

    As in the authors' code, per example: ``color`` adds a brightness offset in [-0.5, 0.5), then scales the
    contrast around the image's mean by a factor in [0.5, 1.5) (their saturation step is the identity on one
    channel and is left out; colour may leave [-1, 1], as theirs does); ``translation`` shifts by whole pixels,
    up to 1/8 of the side each way; ``cutout`` blanks a square of half the side whose centre is anywhere in the
    image (clipped at the border). Each augmentation is applied to each image with chance ``probability``
    (1 for DiffAugment; ADA, Karras et al. 2020, tunes it): 0 returns the images unchanged. The same draws are
    made whatever ``probability``, from ``generator``, which must be on the images' device.
    Gradients flow to ``images``: apply it to the real and the fake batch, in D's step and in G's.
    """
    _check_images(images)
    names = _parse_policy(policy)
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"probability must lie in [0, 1], got {probability}.")
    if generator.device.type != images.device.type:
        raise ValueError(f"the generator is on {generator.device} but the images on {images.device}: "
                         f"make it with torch.Generator(device=images.device).")
    for name in names:
        augmented = _AUGMENTATIONS[name](images, generator)
        applied = torch.rand(len(images), generator=generator, device=images.device) < probability
        images = torch.where(applied[:, None, None, None], augmented, images)
    return images


def translate(images: torch.Tensor, shift_y: torch.Tensor, shift_x: torch.Tensor,
              fill: float = BACKGROUND) -> torch.Tensor:
    """Image n moved ``shift_y[n]`` pixels down and ``shift_x[n]`` right (integers; negative: up, left);
    out[n, :, i, j] = images[n, :, i - shift_y[n], j - shift_x[n]], and ``fill`` where that falls outside."""
    _check_images(images)
    n, _, h, w = images.shape
    rows = torch.arange(h, device=images.device) - _per_example(shift_y, n, "shift_y")[:, None]  # N x H: source rows
    cols = torch.arange(w, device=images.device) - _per_example(shift_x, n, "shift_x")[:, None]
    inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]      # N x H x W
    batch = torch.arange(n, device=images.device)[:, None, None]
    moved = images.permute(0, 2, 3, 1)[batch, rows.clamp(0, h - 1)[:, :, None], cols.clamp(0, w - 1)[:, None, :]]
    return moved.permute(0, 3, 1, 2).masked_fill(~inside[:, None], fill)


def cutout(images: torch.Tensor, centre_y: torch.Tensor, centre_x: torch.Tensor, size: int | torch.Tensor,
           fill: float = BACKGROUND) -> torch.Tensor:
    """Image n with the size x size square of rows ``centre_y[n] - size // 2`` on (and the same for columns) set
    to ``fill``; the part of the square outside the image is dropped, as in the authors' code. ``size`` may be
    one integer or one per image."""
    _check_images(images)
    n, _, h, w = images.shape
    size = _per_example(torch.as_tensor(size, device=images.device).expand(n), n, "size")
    top = _per_example(centre_y, n, "centre_y") - size // 2
    left = _per_example(centre_x, n, "centre_x") - size // 2
    rows, cols = torch.arange(h, device=images.device), torch.arange(w, device=images.device)
    in_rows = (rows >= top[:, None]) & (rows < (top + size)[:, None])
    in_cols = (cols >= left[:, None]) & (cols < (left + size)[:, None])
    return images.masked_fill((in_rows[:, :, None] & in_cols[:, None, :])[:, None], fill)


def adjust_color(images: torch.Tensor, brightness: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    """Image n plus ``brightness[n]``, then its deviations from its own mean scaled by ``contrast[n]``:
    out = contrast (x - mean x) + mean x + brightness. The mean moves by the brightness, the spread by the contrast."""
    _check_images(images)
    brightness, contrast = (t.to(images.dtype).reshape(-1, 1, 1, 1) for t in (brightness, contrast))
    if len(brightness) != len(images) or len(contrast) != len(images):
        raise ValueError(f"brightness and contrast need one value per image ({len(images)}), "
                         f"got {len(brightness)} and {len(contrast)}.")
    images = images + brightness
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return (images - mean) * contrast + mean


def _random_color(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n, device = len(images), images.device
    brightness = torch.rand(n, generator=generator, device=device, dtype=images.dtype) - 0.5
    contrast = torch.rand(n, generator=generator, device=device, dtype=images.dtype) + 0.5
    return adjust_color(images, brightness, contrast)


def _random_translation(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n, _, h, w = images.shape
    max_y, max_x = int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5)
    shift_y = torch.randint(-max_y, max_y + 1, (n,), generator=generator, device=images.device)
    shift_x = torch.randint(-max_x, max_x + 1, (n,), generator=generator, device=images.device)
    return translate(images, shift_y, shift_x)


def _random_cutout(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n, _, h, w = images.shape
    size_y, size_x = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    if size_y != size_x:
        raise ValueError(f"cutout needs square images, got {h} x {w}.")
    # the authors' range for the centre: 0..side, one more position when the square's side is even
    centre_y = torch.randint(0, h + 1 - size_y % 2, (n,), generator=generator, device=images.device)
    centre_x = torch.randint(0, w + 1 - size_x % 2, (n,), generator=generator, device=images.device)
    return cutout(images, centre_y, centre_x, size_y)


_AUGMENTATIONS = {"color": _random_color, "translation": _random_translation, "cutout": _random_cutout}


def _parse_policy(policy: str) -> list[str]:
    names = [name.strip() for name in policy.split(",") if name.strip()]
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown[0]!r} in policy {policy!r}: "
                         f"use a comma-separated list of {POLICIES}, e.g. 'color,translation,cutout'.")
    return names


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.is_floating_point():
        got = f"a {images.dtype} tensor of shape {tuple(images.shape)}" if isinstance(images, torch.Tensor) \
            else type(images).__name__
        raise ValueError(f"images must be a float tensor N x C x H x W, got {got}.")


def _per_example(values: torch.Tensor, n: int, name: str) -> torch.Tensor:
    if not isinstance(values, torch.Tensor) or values.shape != (n,) or values.is_floating_point():
        got = (f"{values.dtype} of shape {tuple(values.shape)}" if isinstance(values, torch.Tensor)
               else type(values).__name__)
        raise ValueError(f"{name} must be a 1-D integer tensor with one value per image ({n}), got {got}.")
    return values
