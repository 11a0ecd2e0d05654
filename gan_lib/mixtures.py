"""2-D Gaussian mixtures of the mode-collapse literature, and the metric that counts their modes (chapter 6).

Two benchmarks: 8 Gaussians on a ring (Metz et al. 2017, the Unrolled GAN) and a 5 x 5 grid
(VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018). Their metric: a sample is of *high
quality* if it lies within ``num_std`` standard deviations of its nearest mode, and a mode is
*captured* if it is the nearest mode of at least one high-quality sample, Eq. (ch6-quality);
the spread of high-quality samples over the modes is summarised by a KL divergence from the
uniform distribution, Eq. (ch6-kl). A metric that a sample set without any structure could score well on
would say nothing, so :func:`blob_samples` gives that control: one Gaussian blob with the mixture's mean and
spread, Eq. (ch6-blob).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .metrics import kl_from_uniform


def ring_modes(num_modes: int = 8, radius: float = 1.0) -> torch.Tensor:
    """Centres of ``num_modes`` Gaussians evenly spaced on a circle."""
    angle = torch.arange(num_modes, dtype=torch.float64) * (2 * math.pi / num_modes)
    return radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)


def grid_modes(values: tuple[float, ...] = (-4.0, -2.0, 0.0, 2.0, 4.0)) -> torch.Tensor:
    """Centres of the 5 x 5 grid mixture at {-4, -2, 0, 2, 4}^2."""
    v = torch.tensor(values, dtype=torch.float64)
    return torch.cartesian_prod(v, v)


def sample_mixture(modes: torch.Tensor, std: float, n: int, rng: torch.Generator) -> torch.Tensor:
    """n samples from the equal-weight mixture of isotropic Gaussians N(mode, std^2 I)."""
    which = torch.randint(len(modes), (n,), generator=rng)
    return modes[which] + std * torch.randn(n, modes.shape[1], generator=rng, dtype=modes.dtype)


def ring_mixture(n: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """8 Gaussians on the unit circle, std 0.01: (samples, modes)."""
    modes = ring_modes()
    return sample_mixture(modes, 0.01, n, rng), modes


def grid_mixture(n: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """25 Gaussians on {-4,-2,0,2,4}^2, std 0.05: (samples, modes)."""
    modes = grid_modes()
    return sample_mixture(modes, 0.05, n, rng), modes


def blob_samples(modes: torch.Tensor, std: float, n: int, rng: torch.Generator) -> torch.Tensor:
    """Eq. (ch6-blob): n samples of the structureless control, one isotropic Gaussian N(m, s^2 I) whose mean m is
    the mixture's and whose variance s^2 is the mixture's, averaged over coordinates (the modes' spread plus std^2).
    """
    mean = modes.mean(0)
    variance = modes.var(0, unbiased=False).mean() + std ** 2
    return mean + variance.sqrt() * torch.randn(n, modes.shape[1], generator=rng, dtype=modes.dtype)


class ModeCoverage(NamedTuple):
    """Eqs. (ch6-quality)-(ch6-kl): modes captured, share of high-quality samples, KL(p_hat || uniform) in nats."""
    modes_captured: int
    high_quality: float
    kl_uniform: float       # NaN when no sample is of high quality (p_hat is then undefined)
    counts: torch.Tensor    # high-quality samples per mode


def nearest_mode(samples: torch.Tensor, modes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(index of the nearest mode, Euclidean distance to it) for each row of ``samples`` (n x d)."""
    if samples.ndim != 2 or modes.ndim != 2 or samples.shape[1] != modes.shape[1]:
        raise ValueError(f"samples {tuple(samples.shape)} and modes {tuple(modes.shape)} must be n x d and k x d.")
    dist = torch.cdist(samples.double(), modes.double())
    best, index = dist.min(dim=1)
    return index, best


def mode_coverage(samples: torch.Tensor, modes: torch.Tensor, std: float, num_std: float = 3.0) -> ModeCoverage:
    """The 2-D mode-collapse metric, Eqs. (ch6-quality)-(ch6-kl), of ``samples`` (n x d) against ``modes``."""
    if std <= 0 or num_std <= 0:
        raise ValueError(f"std and num_std must be positive, got {std} and {num_std}.")
    if len(samples) == 0:
        raise ValueError("no samples: draw some (the literature uses 2,500) before measuring coverage.")
    index, dist = nearest_mode(samples, modes)
    good = dist <= num_std * std
    counts = torch.bincount(index[good], minlength=len(modes))
    return ModeCoverage(int((counts > 0).sum()), good.double().mean().item(), kl_from_uniform(counts), counts)
