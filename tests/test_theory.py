"""gan_lib.theory: densities, integrals, D*, the logistic fit and the identity C(G) = -log 4 + 2 JSD."""
import math

import pytest
import torch

from gan_lib.theory import (fit_logistic_1d, gaussian_mixture_pdf, gaussian_optimal_logit, gaussian_pdf,
                            integrate, jsd, kl_divergence, optimal_discriminator, optimal_value,
                            value_function)

# Wide enough that every density below has all but ~1e-20 of its mass on the grid.
X = torch.linspace(-30, 30, 60_001, dtype=torch.float64)


def test_densities_integrate_to_one():
    assert abs(integrate(gaussian_pdf(X, 1.0, 2.0), X) - 1) < 1e-9
    mix = gaussian_mixture_pdf(X, [-2.0, 2.0], [0.5, 1.0], [0.3, 0.7])
    assert abs(integrate(mix, X) - 1) < 1e-9
    with pytest.raises(ValueError):
        gaussian_pdf(X, 0.0, 0.0)
    with pytest.raises(ValueError):
        gaussian_mixture_pdf(X, [0.0], [1.0], [0.5])


def test_integrate_checks_grid():
    assert abs(integrate(X**2 * gaussian_pdf(X), X) - 1) < 1e-9
    with pytest.raises(ValueError):
        integrate(torch.ones(3), torch.tensor([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError):
        integrate(torch.ones(4), torch.tensor([0.0, 1.0, 2.0]))


def test_optimal_discriminator():
    p, q = gaussian_pdf(X), gaussian_pdf(X, 2.0)
    d = optimal_discriminator(p, q)
    w, b = gaussian_optimal_logit(0.0, 2.0, 1.0)
    assert (w, b) == (-2.0, 2.0)
    inner = X.abs() < 10  # beyond, the densities underflow towards 0 and D* loses digits
    assert torch.allclose(d[inner], torch.sigmoid(w * X[inner] + b), atol=1e-12)
    assert torch.allclose(optimal_discriminator(p, q, real_target=0.9), 0.9 * d, atol=1e-15, equal_nan=True)
    assert torch.isnan(optimal_discriminator(torch.zeros(2), torch.zeros(2))).all()
    assert gaussian_optimal_logit(0.0, 2.0, 1.0, num_data=3, num_g=1)[1] == pytest.approx(2 + math.log(3))
    with pytest.raises(ValueError):
        optimal_discriminator(p, q, real_target=0.0)
    with pytest.raises(ValueError):
        optimal_discriminator(-p, q)


def test_d_star_maximises_value():
    p, q = gaussian_pdf(X), gaussian_pdf(X, 1.0, 1.5)
    best = value_function(optimal_discriminator(p, q), p, q, X)
    for other in (torch.full_like(X, 0.5), torch.sigmoid(-X), 0.9 * optimal_discriminator(p, q)):
        assert value_function(other, p, q, X) < best


@pytest.mark.parametrize("p_g_args", [(0.0, 1.0), (2.0, 1.0), (0.0, 3.0), (12.0, 1.0)])
def test_optimal_value_is_minus_log4_plus_2jsd(p_g_args):
    p, q = gaussian_pdf(X), gaussian_pdf(X, *p_g_args)
    lhs, divergence = optimal_value(p, q, X), jsd(p, q, X)
    assert abs(lhs - (-math.log(4) + 2 * divergence)) < 1e-9
    assert -1e-12 <= divergence <= math.log(2) + 1e-9


def test_kl_known_value():
    # KL(N(0,1) || N(1,2^2)) = log 2 + (1 + 1) / 8 - 1/2
    assert abs(kl_divergence(gaussian_pdf(X), gaussian_pdf(X, 1.0, 2.0), X) - (math.log(2) + 0.25 - 0.5)) < 1e-9


def test_fit_logistic_recovers_weight_and_bias():
    gen = torch.Generator().manual_seed(0)
    x_real = torch.randn(20_000, generator=gen, dtype=torch.float64)
    x_fake = 2 + torch.randn(20_000, generator=gen, dtype=torch.float64)
    w, b = fit_logistic_1d(x_real, x_fake)
    assert abs(w + 2) < 0.1 and abs(b - 2) < 0.1
    w3, b3 = fit_logistic_1d(x_real, x_fake[:5000])
    assert abs(w3 + 2) < 0.15 and abs(b3 - (2 + math.log(4))) < 0.15
    with pytest.raises(ValueError):
        fit_logistic_1d(x_real[:, None], x_fake)


def _slope(f, t0, step=1e-4):
    return float((f(t0 + step) - f(t0 - step)) / (2 * step))


@pytest.mark.parametrize("family, t0", [(lambda t: gaussian_pdf(X, t, 1.0), 2.0),
                                        (lambda t: gaussian_pdf(X, 0.0, t), 3.0),
                                        (lambda t: gaussian_pdf(X, t, 1.0), 12.0)])
def test_generator_gradients_against_the_held_optimal_discriminator(family, t0):
    """Arjovsky & Bottou (2017), Thm 2.5, Eq. (ch2-ns-kl), and Eq. (ch2-sat-jsd), with D* held at family(t0)."""
    p_data, p_g0 = gaussian_pdf(X), family(t0)
    total = p_data + p_g0
    expect = lambda t, inside: integrate(torch.special.xlogy(family(t), inside), X)  # noqa: E731  E[log inside]
    ns = _slope(lambda t: expect(t, total) - expect(t, p_data), t0)                  # E[-log D*]
    rhs = _slope(lambda t: kl_divergence(family(t), p_data, X) - 2 * jsd(p_data, family(t), X), t0)
    assert ns == pytest.approx(rhs, rel=1e-6)
    if t0 < 10:   # far apart, p_g0 underflows to 0 on part of the grid and log(1 - D*) with it
        sat = _slope(lambda t: expect(t, p_g0) - expect(t, total), t0)                # E[log(1 - D*)]
        assert sat == pytest.approx(_slope(lambda t: 2 * jsd(p_data, family(t), X), t0), rel=1e-6)


def test_jsd_flattens_as_the_distributions_separate():
    p = gaussian_pdf(X)
    c_slope = [_slope(lambda mu: optimal_value(p, gaussian_pdf(X, mu, 1.0), X), mu, 1e-3) for mu in (2.0, 8.0, 16.0)]
    assert c_slope[0] > 0.4 > c_slope[1] > c_slope[2] and abs(c_slope[2]) < 1e-12
    assert math.log(2) - jsd(p, gaussian_pdf(X, 16.0, 1.0), X) < 1e-12


def test_kl_of_disjoint_and_empty_bins():
    grid = torch.linspace(0, 3, 4, dtype=torch.float64)
    p, q = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64), torch.tensor([0.0, 0.5, 0.5, 0.0], dtype=torch.float64)
    assert torch.isinf(kl_divergence(p, q, grid))
    assert kl_divergence(p, p, grid) == 0        # empty bins add nothing, not nan
