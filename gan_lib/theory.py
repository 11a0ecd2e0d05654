"""The mathematics of chapter 2, in code: densities, integrals, the optimal discriminator, JSD.

All functions work on torch tensors of densities sampled on a 1-D grid ``x`` (use
float64: these are checks of identities, and float32 would blur them). Logarithms
are natural, so divergences are in nats.

* :func:`gaussian_pdf`, :func:`gaussian_mixture_pdf` - 1-D densities to test with.
* :func:`integrate` - the trapezoidal rule on a grid.
* :func:`optimal_discriminator` - D* of Eq. (ch2-d-star), or Eq. (ch2-smooth) with a smoothed real target.
* :func:`gaussian_optimal_logit` - the weight and bias of D*'s logit for two Gaussians, Eq. (ch2-gauss-logit).
* :func:`fit_logistic_1d` - a one-feature logistic discriminator fitted by minimising BCE (Newton's method).
* :func:`value_function`, :func:`kl_divergence`, :func:`jsd` - the two sides of Eq. (ch2-cg); with the
  generator moved and D* held fixed, the slopes of 2 JSD and of KL(p_g || p_data) - 2 JSD are those of the two
  generator losses, Eqs. (ch2-sat-jsd) and (ch2-ns-kl).

The integrals assume that both distributions have densities on the grid's line (chapter 2 says why the book's
image generator does not satisfy that, and what follows).
"""
from __future__ import annotations

import math

import torch


def gaussian_pdf(x: torch.Tensor, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    """The density of N(mean, std^2) at ``x``."""
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}.")
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def gaussian_mixture_pdf(x: torch.Tensor, means: list[float], stds: list[float],
                         weights: list[float]) -> torch.Tensor:
    """The density of sum_k w_k N(mean_k, std_k^2) at ``x``; the weights must sum to 1."""
    if not (len(means) == len(stds) == len(weights)) or len(means) == 0:
        raise ValueError("means, stds and weights must be non-empty lists of the same length.")
    if any(w < 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-12:
        raise ValueError(f"weights must be non-negative and sum to 1, got {weights}.")
    return sum(w * gaussian_pdf(x, m, s) for m, s, w in zip(means, stds, weights))


def integrate(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The integral of ``values`` over the increasing 1-D grid ``x`` (trapezoidal rule, last dim)."""
    if x.ndim != 1 or x.numel() < 2:
        raise ValueError(f"x must be a 1-D grid of at least 2 points, got shape {tuple(x.shape)}.")
    if not bool((x[1:] > x[:-1]).all()):
        raise ValueError("x must be strictly increasing.")
    if values.shape[-1] != x.numel():
        raise ValueError(f"values has {values.shape[-1]} points on its last axis but x has {x.numel()}.")
    return torch.trapezoid(values, x, dim=-1)


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """Eq. (ch2-d-star): D*(x) = p_data / (p_data + p_g); with ``real_target`` alpha < 1, Eq. (ch2-smooth): alpha times that.

    Where both densities are 0, D* is undefined (no example ever lands there) and NaN is returned.
    """
    if p_data.shape != p_g.shape:
        raise ValueError(f"p_data has shape {tuple(p_data.shape)} but p_g has {tuple(p_g.shape)}.")
    if bool((p_data < 0).any()) or bool((p_g < 0).any()):
        raise ValueError("densities must be non-negative.")
    if not 0.0 < real_target <= 1.0:
        raise ValueError(f"real_target must lie in (0, 1], got {real_target}.")
    total = p_data + p_g
    d_star = real_target * p_data / total
    return torch.where(total > 0, d_star, torch.full_like(d_star, float("nan")))


def gaussian_optimal_logit(mean_data: float, mean_g: float, std: float,
                           num_data: int = 1, num_g: int = 1) -> tuple[float, float]:
    """Eq. (ch2-gauss-logit): D* for N(mean_data, std^2) against N(mean_g, std^2) is sigmoid(weight * x + bias).

    weight = (mean_data - mean_g) / std^2 and bias = (mean_g^2 - mean_data^2) / (2 std^2).
    Fitted by pooled BCE on ``num_data`` real and ``num_g`` fake samples, the prior odds add
    log(num_data / num_g) to the bias.
    """
    if std <= 0 or num_data < 1 or num_g < 1:
        raise ValueError("std must be positive and num_data, num_g at least 1.")
    weight = (mean_data - mean_g) / std**2
    bias = (mean_g**2 - mean_data**2) / (2 * std**2) + math.log(num_data / num_g)
    return weight, bias


def fit_logistic_1d(x_real: torch.Tensor, x_fake: torch.Tensor, num_steps: int = 50,
                    tol: float = 1e-12) -> tuple[float, float]:
    """Fit D(x) = sigmoid(weight * x + bias) by minimising the pooled BCE of Eq. (ch2-bce).

    Real samples have target 1, fake ones target 0, and the mean runs over all of them
    together. The loss is convex in (weight, bias) (chapter 2, exercise), so Newton's
    method with gradient X^T (sigma - y) / n and Hessian X^T diag(sigma (1 - sigma)) X / n
    reaches the minimiser in a few steps. Returns (weight, bias).
    """
    if x_real.ndim != 1 or x_fake.ndim != 1:
        raise ValueError("x_real and x_fake must be 1-D tensors of scalar samples.")
    x = torch.cat([x_real, x_fake]).double()
    target = torch.cat([torch.ones_like(x_real), torch.zeros_like(x_fake)]).double()
    features = torch.stack([x, torch.ones_like(x)], dim=1)          # columns: x, 1
    params = torch.zeros(2, dtype=torch.float64)
    for _ in range(num_steps):
        prob = torch.sigmoid(features @ params)
        grad = features.T @ (prob - target) / len(x)
        hessian = (features.T * (prob * (1 - prob))) @ features / len(x)
        step = torch.linalg.solve(hessian, grad)
        params = params - step
        if float(step.abs().max()) < tol:
            break
    return float(params[0]), float(params[1])


def value_function(d: torch.Tensor, p_data: torch.Tensor, p_g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Eq. (ch2-value) as an integral: V(D, G) = int p_data log D + p_g log(1 - D) dx, in nats.

    Points where both densities are 0 contribute nothing, whatever D is there.
    """
    mass = (p_data + p_g) > 0
    d = torch.where(mass, d, torch.full_like(d, 0.5))
    integrand = torch.special.xlogy(p_data, d) + torch.special.xlogy(p_g, 1 - d)
    return integrate(torch.where(mass, integrand, torch.zeros_like(integrand)), x)


def kl_divergence(p: torch.Tensor, q: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """KL(p || q) = int p log(p / q) dx, in nats (inf where p > 0 and q = 0); 0 log 0 counts as 0.

    With p = p_g and q = p_data it is the reverse KL of Eq. (ch2-ns-kl).
    """
    return integrate(torch.special.xlogy(p, p) - torch.special.xlogy(p, q), x)


def jsd(p: torch.Tensor, q: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence in nats, KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2; in [0, log 2]."""
    m = 0.5 * (p + q)
    return 0.5 * kl_divergence(p, m, x) + 0.5 * kl_divergence(q, m, x)


def optimal_value(p_data: torch.Tensor, p_g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Eq. (ch2-cg), left side: C(G) = V(D*, G) = int p_data log D* + p_g log(1 - D*) dx, in nats.

    1 - D* is computed as p_g / (p_data + p_g), not by subtraction, so that it keeps its
    digits where D* rounds to 1.
    """
    total = p_data + p_g
    mass = total > 0
    safe_total = torch.where(mass, total, torch.ones_like(total))
    integrand = torch.special.xlogy(p_data, p_data / safe_total) + torch.special.xlogy(p_g, p_g / safe_total)
    return integrate(torch.where(mass, integrand, torch.zeros_like(integrand)), x)
