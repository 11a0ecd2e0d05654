"""gan_lib.dirac: the Dirac-GAN field, its update schemes and their linearisation at the equilibrium."""
import math

import pytest
import torch

from gan_lib import dirac


def test_f_and_its_derivative():
    t = torch.linspace(-30, 30, 61, dtype=torch.float64)
    assert torch.allclose(dirac.f(t), -torch.log1p(torch.exp(-t)), atol=1e-12)
    assert float(dirac.f_prime(0.0)) == 0.5
    tt = t.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(dirac.f(tt).sum(), tt)
    assert torch.allclose(grad, dirac.f_prime(t), atol=1e-15)


@pytest.mark.parametrize("gamma", [0.0, 0.7])
def test_vector_field_is_the_players_gradients(gamma):
    for theta0, psi0 in [(1.0, 0.5), (-2.0, 0.3), (0.0, 0.0), (0.4, -3.0)]:
        theta = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
        psi = torch.tensor(psi0, dtype=torch.float64, requires_grad=True)
        value = dirac.f(psi * theta) + dirac.f(0.0)
        g_theta, g_psi = torch.autograd.grad(value - gamma / 2 * psi**2, (theta, psi))  # R1 has no theta

        v_theta, v_psi = dirac.vector_field(theta0, psi0, gamma)
        assert torch.allclose(v_theta, -g_theta) and torch.allclose(v_psi, g_psi)


def test_simultaneous_steps_grow_the_radius_exactly():
    theta, psi, h = torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64), 0.3
    for _ in range(50):
        factor = 1 + h**2 * dirac.f_prime(theta * psi) ** 2
        new_theta, new_psi = dirac.simultaneous_step(theta, psi, h)
        assert torch.isclose(new_theta**2 + new_psi**2, factor * (theta**2 + psi**2), rtol=1e-13)
        theta, psi = new_theta, new_psi
    path = dirac.trajectory(1.0, 0.5, h, 50)
    assert path.shape == (51, 2) and torch.allclose(path[-1], torch.stack([theta, psi]))


def test_spectral_radii():
    for h in (0.1, 0.5, 1.0):
        assert dirac.spectral_radius(h) == pytest.approx(math.sqrt(1 + h**2 / 4), rel=1e-12)
        for scheme in ("generator-first", "discriminator-first"):
            assert dirac.spectral_radius(h, scheme) == pytest.approx(1.0, rel=1e-12)
            assert abs(torch.linalg.det(dirac.step_matrix(h, scheme)) - 1) < 1e-14


@pytest.mark.parametrize("gamma", [0.0, 0.4])
def test_the_two_orders_linearise_to_the_books_matrices(gamma):
    h = 0.6
    a, c = h / 2, 1 - h * gamma
    g_first = torch.tensor([[1, -a], [a, c - a * a]], dtype=torch.float64)
    d_first = torch.tensor([[1 - a * a, -a * c], [a, c]], dtype=torch.float64)
    assert torch.allclose(dirac.step_matrix(h, "generator-first", gamma), g_first, atol=1e-15)
    assert torch.allclose(dirac.step_matrix(h, "discriminator-first", gamma), d_first, atol=1e-15)
    # the same trace and determinant, so the same eigenvalues: the order does not change stability
    assert torch.isclose(torch.trace(g_first), torch.trace(d_first)) and torch.isclose(g_first.det(), d_first.det())
    # and each matrix is the Jacobian of its step at (0, 0) (central differences; the field is smooth)
    for scheme, step in (("generator-first", dirac.generator_first_step),
                         ("discriminator-first", dirac.discriminator_first_step)):
        eps = 1e-6
        columns = [(torch.stack(step(*(eps * e), h, gamma)) - torch.stack(step(*(-eps * e), h, gamma))) / (2 * eps)
                   for e in torch.eye(2, dtype=torch.float64)]
        assert torch.allclose(torch.stack(columns, dim=1), dirac.step_matrix(h, scheme, gamma), atol=1e-9)


def test_the_discriminator_moves_first_in_its_scheme():
    theta, psi, h = 0.8, -0.5, 0.3
    new_theta, new_psi = dirac.discriminator_first_step(theta, psi, h)
    expected_psi = psi + h * dirac.vector_field(theta, psi)[1]
    assert torch.isclose(new_psi, expected_psi)
    assert torch.isclose(new_theta, theta + h * dirac.vector_field(theta, expected_psi)[0])
    path = dirac.trajectory(theta, psi, h, 1, "discriminator-first")
    assert torch.allclose(path[1], torch.stack([new_theta, new_psi]))


def test_adam_matches_torch_adam_by_hand_and_r1_converges():
    path = dirac.adam_trajectory(1.0, 0.5, 0.01, 3, betas=(0.5, 0.999), scheme="discriminator-first")
    theta = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    psi = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    opt_g, opt_d = torch.optim.Adam([theta], lr=0.01, betas=(0.5, 0.999)), torch.optim.Adam([psi], lr=0.01, betas=(0.5, 0.999))
    for k in range(3):  # D ascends L, then G descends L at the new psi, with autograd's gradients
        opt_d.zero_grad()
        (-dirac.f(psi * theta.detach())).backward()
        opt_d.step()
        opt_g.zero_grad()
        dirac.f(psi.detach() * theta).backward()
        opt_g.step()
        assert torch.allclose(path[k + 1], torch.stack([theta, psi]).detach(), atol=1e-15)
    no_penalty = dirac.adam_trajectory(1.0, 1.0, 0.01, 3000).norm(dim=1)
    with_r1 = dirac.adam_trajectory(1.0, 1.0, 0.01, 3000, gamma=1.0).norm(dim=1)
    assert no_penalty[-500:].min() > 0.5 and with_r1[-1] < 1e-6


@pytest.mark.parametrize("gamma", [0.1, 0.5, 1.0, 2.0])
def test_r1_step_condition(gamma):
    h_max = dirac.r1_max_step(gamma)
    assert dirac.spectral_radius(0.98 * h_max, gamma=gamma) < 1
    assert dirac.spectral_radius(1.02 * h_max, gamma=gamma) > 1
    end = dirac.trajectory(1.0, 1.0, 0.5 * h_max, 4000, gamma=gamma)[-1]
    assert end.abs().max() < 1e-6


def test_bad_arguments():
    with pytest.raises(ValueError):
        dirac.r1_max_step(0.0)
    with pytest.raises(ValueError):
        dirac.trajectory(1.0, 1.0, 0.1, 10, scheme="alternating")
    with pytest.raises(ValueError):
        dirac.trajectory(1.0, 1.0, -0.1, 10)
    with pytest.raises(ValueError):
        dirac.adam_trajectory(1.0, 1.0, 0.0, 10)
