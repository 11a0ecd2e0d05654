"""The Dirac-GAN of Mescheder et al. (2018): the smallest GAN that is unstable (chapter 6).

The data is a point mass at 0, the generator a point mass at ``theta``, the discriminator
D(x) = psi * x (a logit), and the GAN objective is

    L(theta, psi) = f(psi * theta) + f(0),   f(t) = -log(1 + exp(-t)),     Eq. (ch6-dirac)

which the discriminator maximises over psi and the generator minimises over theta. Its unique
equilibrium is (0, 0). The functions take floats or float64 tensors alike.

* :func:`vector_field` - the gradient field of Eq. (ch6-field), with an optional R1 penalty, Eq. (ch6-r1).
* :func:`simultaneous_step`, :func:`alternating_step` - one step of each update scheme.
* :func:`trajectory` - many steps, as an (n + 1) x 2 tensor.
* :func:`step_matrix`, :func:`spectral_radius` - the linearised update at the equilibrium.
* :func:`r1_max_step` - the largest step size for which R1 with weight gamma converges, Eq. (ch6-r1-step).
"""
from __future__ import annotations

import math

import torch

SCHEMES = ("simultaneous", "alternating")


def f(t):
    """Eq. (ch6-dirac): f(t) = -log(1 + e^{-t}) = log sigmoid(t), computed stably."""
    return torch.nn.functional.logsigmoid(torch.as_tensor(t, dtype=torch.float64))


def f_prime(t):
    """f'(t) = 1 / (1 + e^{t}) = sigmoid(-t); f'(0) = 1/2."""
    return torch.sigmoid(-torch.as_tensor(t, dtype=torch.float64))


def vector_field(theta, psi, gamma: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. (ch6-field): (v_theta, v_psi) = (-psi f'(theta psi), theta f'(theta psi) - gamma psi).

    v_theta is minus the generator's gradient, v_psi the discriminator's gradient (it ascends);
    ``gamma`` > 0 adds the R1 penalty (gamma / 2) psi^2 to the discriminator's loss, Eq. (ch6-r1).
    """
    theta, psi = torch.as_tensor(theta, dtype=torch.float64), torch.as_tensor(psi, dtype=torch.float64)
    slope = f_prime(theta * psi)
    return -psi * slope, theta * slope - gamma * psi


def simultaneous_step(theta, psi, h: float, gamma: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Both players step along the field at the same point; the distance grows as in Eq. (ch6-growth)."""
    v_theta, v_psi = vector_field(theta, psi, gamma)
    return theta + h * v_theta, psi + h * v_psi


def alternating_step(theta, psi, h: float, gamma: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The generator steps first; the discriminator then responds to the *new* generator."""
    theta = theta + h * vector_field(theta, psi, gamma)[0]
    return theta, psi + h * vector_field(theta, psi, gamma)[1]


def trajectory(theta0: float, psi0: float, h: float, num_steps: int, scheme: str = "simultaneous",
               gamma: float = 0.0) -> torch.Tensor:
    """The iterates (theta_k, psi_k), k = 0..num_steps, as an (num_steps + 1) x 2 float64 tensor."""
    step = _scheme(scheme)
    if h <= 0 or num_steps < 0:
        raise ValueError(f"h must be positive and num_steps >= 0, got {h} and {num_steps}.")
    theta, psi = torch.tensor(theta0, dtype=torch.float64), torch.tensor(psi0, dtype=torch.float64)
    points = [torch.stack([theta, psi])]
    for _ in range(num_steps):
        theta, psi = step(theta, psi, h, gamma)
        points.append(torch.stack([theta, psi]))
    return torch.stack(points)


def step_matrix(h: float, scheme: str = "simultaneous", gamma: float = 0.0) -> torch.Tensor:
    """The 2 x 2 Jacobian of one update at the equilibrium (0, 0), using f'(0) = 1/2."""
    _scheme(scheme)
    a = h * 0.5
    if scheme == "simultaneous":   # I + h J with J = [[0, -1/2], [1/2, -gamma]]
        return torch.tensor([[1.0, -a], [a, 1.0 - h * gamma]], dtype=torch.float64)
    # theta' = theta - a psi; psi' = (1 - h gamma) psi + a theta'
    return torch.tensor([[1.0, -a], [a, 1.0 - h * gamma - a * a]], dtype=torch.float64)


def spectral_radius(h: float, scheme: str = "simultaneous", gamma: float = 0.0) -> float:
    """Largest |eigenvalue| of :func:`step_matrix`: below 1, the iterates converge near (0, 0)."""
    return float(torch.linalg.eigvals(step_matrix(h, scheme, gamma)).abs().max())


def r1_max_step(gamma: float) -> float:
    """Eq. (ch6-r1-step): simultaneous steps with R1 weight gamma > 0 converge locally iff h < this value.

    4 gamma for gamma <= 1 (complex eigenvalues, |1 + h lambda|^2 = 1 - h gamma + h^2 / 4), and
    4 (gamma - sqrt(gamma^2 - 1)) for gamma >= 1 (real eigenvalues, 1 + h lambda_min > -1).
    """
    if gamma <= 0:
        raise ValueError(f"gamma must be positive (gamma = 0 never converges), got {gamma}.")
    return 4 * gamma if gamma <= 1 else 4 * (gamma - math.sqrt(gamma * gamma - 1))


def _scheme(scheme: str):
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}.")
    return simultaneous_step if scheme == "simultaneous" else alternating_step
