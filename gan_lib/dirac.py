"""The Dirac-GAN of Mescheder et al. (2018): the smallest GAN that is unstable (chapter 6).

The data is a point mass at 0, the generator a point mass at ``theta``, the discriminator
D(x) = psi * x (a logit), and the GAN objective is

    L(theta, psi) = f(psi * theta) + f(0),   f(t) = -log(1 + exp(-t)),     Eq. (ch6-dirac)

which the discriminator maximises over psi and the generator minimises over theta. Its unique
equilibrium is (0, 0). The functions take floats or float64 tensors alike.

* :func:`vector_field` - the gradient field of Eq. (ch6-field), with an optional R1 penalty, Eq. (ch6-r1).
* :func:`simultaneous_step`, :func:`generator_first_step`, :func:`discriminator_first_step` - one step of each
  update scheme; ``gan_lib.train`` is discriminator-first (D's step, then G's step against the new D).
* :func:`trajectory` - many steps, as an (n + 1) x 2 tensor; :func:`adam_trajectory` - the same game played
  by two ``torch.optim.Adam`` optimizers, as the book's image GANs are.
* :func:`step_matrix`, :func:`spectral_radius` - the linearised update at the equilibrium, Eqs.
  (ch6-alternating) and (ch6-d-first).
* :func:`r1_max_step` - the largest step size for which R1 with weight gamma converges, Eq. (ch6-r1-step).
"""
from __future__ import annotations

import math

import torch

SCHEMES = ("simultaneous", "generator-first", "discriminator-first")


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


def generator_first_step(theta, psi, h: float, gamma: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The generator steps first; the discriminator then responds to the *new* generator, Eq. (ch6-alternating)."""
    theta = theta + h * vector_field(theta, psi, gamma)[0]
    return theta, psi + h * vector_field(theta, psi, gamma)[1]


def discriminator_first_step(theta, psi, h: float, gamma: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The discriminator steps first; the generator then responds to the *new* discriminator, as in
    ``gan_lib.train`` (Eq. (ch6-d-first))."""
    psi = psi + h * vector_field(theta, psi, gamma)[1]
    return theta + h * vector_field(theta, psi, gamma)[0], psi


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


def adam_trajectory(theta0: float, psi0: float, lr: float, num_steps: int, betas: tuple[float, float] = (0.5, 0.999),
                    scheme: str = "discriminator-first", gamma: float = 0.0) -> torch.Tensor:
    """The iterates of the Dirac-GAN played with one ``torch.optim.Adam`` per player (learning rate ``lr``),
    as an (num_steps + 1) x 2 float64 tensor.

    The generator descends L; the discriminator descends -L + (gamma / 2) psi^2 (it ascends L, with R1).
    ``scheme`` is the order of the two steps, as in :func:`trajectory`.
    """
    _scheme(scheme)
    if lr <= 0 or num_steps < 0:
        raise ValueError(f"lr must be positive and num_steps >= 0, got {lr} and {num_steps}.")
    theta = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    psi = torch.tensor(psi0, dtype=torch.float64, requires_grad=True)
    opt_g, opt_d = torch.optim.Adam([theta], lr=lr, betas=betas), torch.optim.Adam([psi], lr=lr, betas=betas)

    def gradients() -> tuple[torch.Tensor, torch.Tensor]:  # dL/dtheta (G's), d(-L + gamma/2 psi^2)/dpsi (D's)
        v_theta, v_psi = vector_field(theta, psi, gamma)
        return -v_theta, -v_psi

    players = ((theta, opt_g), (psi, opt_d))
    order = {"generator-first": (0, 1), "discriminator-first": (1, 0)}.get(scheme)
    points = [torch.stack([theta, psi]).detach().clone()]
    for _ in range(num_steps):
        with torch.no_grad():
            if order is None:  # simultaneous: both gradients at the same point
                theta.grad, psi.grad = gradients()
                opt_g.step()
                opt_d.step()
            else:              # the second player's gradient is read after the first one moved
                for i in order:
                    param, opt = players[i]
                    param.grad = gradients()[i]
                    opt.step()
        points.append(torch.stack([theta, psi]).detach().clone())
    return torch.stack(points)


def step_matrix(h: float, scheme: str = "simultaneous", gamma: float = 0.0) -> torch.Tensor:
    """The 2 x 2 Jacobian of one update at the equilibrium (0, 0), using f'(0) = 1/2; a = h / 2.

    simultaneous: I + h J with J = [[0, -1/2], [1/2, -gamma]]; generator-first: [[1, -a], [a, 1 - h gamma - a^2]],
    Eq. (ch6-alternating); discriminator-first: [[1 - a^2, -a (1 - h gamma)], [a, 1 - h gamma]], Eq. (ch6-d-first).
    """
    _scheme(scheme)
    a, c = h * 0.5, 1.0 - h * gamma
    if scheme == "simultaneous":
        rows = [[1.0, -a], [a, c]]
    elif scheme == "generator-first":   # theta' = theta - a psi; psi' = c psi + a theta'
        rows = [[1.0, -a], [a, c - a * a]]
    else:                               # psi' = c psi + a theta; theta' = theta - a psi'
        rows = [[1.0 - a * a, -a * c], [a, c]]
    return torch.tensor(rows, dtype=torch.float64)


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
    return {"simultaneous": simultaneous_step, "generator-first": generator_first_step,
            "discriminator-first": discriminator_first_step}[scheme]
