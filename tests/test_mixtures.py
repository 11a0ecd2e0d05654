"""gan_lib.mixtures: the 2-D mixtures, and their mode-collapse metric on sample sets whose answer is known."""
import math

import pytest
import torch

from gan_lib.metrics import kl_from_uniform
from gan_lib.mixtures import (ModeCoverage, grid_mixture, grid_modes, mode_coverage, nearest_mode, ring_mixture,
                              ring_modes, sample_mixture)


def test_all_modes_exactly():
    modes = ring_modes()
    samples = modes.repeat(10, 1)          # every mode hit 10 times, at distance 0
    cov = mode_coverage(samples, modes, std=0.01)
    assert isinstance(cov, ModeCoverage)
    assert cov.modes_captured == 8 and cov.high_quality == 1.0 and abs(cov.kl_uniform) < 1e-12
    assert cov.counts.tolist() == [10] * 8


def test_one_mode():
    modes = grid_modes()
    samples = modes[7] + 0.01 * torch.randn(100, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    cov = mode_coverage(samples, modes, std=0.05)
    assert cov.modes_captured == 1 and cov.high_quality == 1.0
    assert cov.kl_uniform == pytest.approx(math.log(25), rel=1e-12)


def test_no_high_quality_samples():
    modes = ring_modes()
    samples = torch.zeros(50, 2, dtype=torch.float64)   # the centre of the ring: 1 away from every mode
    cov = mode_coverage(samples, modes, std=0.01)
    assert cov.modes_captured == 0 and cov.high_quality == 0.0 and math.isnan(cov.kl_uniform)


def test_low_quality_samples_are_left_out_of_p_hat():
    modes = ring_modes()
    good = torch.cat([modes[0].repeat(3, 1), modes[1].repeat(1, 1)])
    bad = modes[2] + torch.tensor([0.031, 0.0], dtype=torch.float64)  # just beyond 3 std
    cov = mode_coverage(torch.cat([good, bad[None]]), modes, std=0.01)
    assert cov.modes_captured == 2 and cov.high_quality == pytest.approx(4 / 5)
    p = torch.tensor([0.75, 0.25], dtype=torch.float64)
    assert cov.kl_uniform == pytest.approx(float((p * torch.log(8 * p)).sum()), rel=1e-12)


def test_true_mixture_scores_high():
    gen = torch.Generator().manual_seed(0)
    for modes, std in ((ring_modes(), 0.01), (grid_modes(), 0.05)):
        cov = mode_coverage(sample_mixture(modes, std, 2500, gen), modes, std)
        assert cov.modes_captured == len(modes) and cov.high_quality > 0.95 and cov.kl_uniform < 0.02


def test_nearest_mode_and_kl_helpers():
    index, dist = nearest_mode(torch.tensor([[0.9, 0.1], [-1.0, 0.0]]), ring_modes())
    assert index.tolist() == [0, 4] and dist[1].item() == pytest.approx(0.0, abs=1e-7)
    assert kl_from_uniform(torch.tensor([5.0, 0.0])) == pytest.approx(math.log(2))
    assert math.isnan(kl_from_uniform(torch.zeros(3)))
    with pytest.raises(ValueError):
        kl_from_uniform(torch.tensor([-1.0, 2.0]))
    with pytest.raises(ValueError):
        nearest_mode(torch.zeros(3, 3), ring_modes())
    with pytest.raises(ValueError):
        mode_coverage(torch.zeros(0, 2), ring_modes(), 0.01)


def test_toy_mixtures():
    rng = torch.Generator().manual_seed(0)
    ring, ring_centres = ring_mixture(2500, rng)
    grid, grid_centres = grid_mixture(2500, rng)
    assert ring.shape == grid.shape == (2500, 2)
    assert ring_centres.shape == (8, 2) and torch.allclose(ring_centres.norm(dim=1), torch.ones(8, dtype=torch.float64))
    assert grid_centres.shape == (25, 2) and set(grid_centres[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    nearest = torch.cdist(ring, ring_centres).min(dim=1).values
    assert nearest.max() < 6 * 0.01  # std 0.01
    assert torch.cdist(grid, grid_centres).min(dim=1).values.max() < 6 * 0.05


def test_the_structureless_blob_has_the_mixtures_mean_and_spread_and_few_high_quality_samples():
    from gan_lib.mixtures import blob_samples
    for modes, std in ((ring_modes(), 0.01), (grid_modes(), 0.05)):
        x = blob_samples(modes, std, 200_000, torch.Generator().manual_seed(0))
        mixture = sample_mixture(modes, std, 200_000, torch.Generator().manual_seed(1))
        assert torch.allclose(x.mean(0), mixture.mean(0), atol=0.02)
        assert torch.allclose(x.var(0), mixture.var(0), rtol=0.02)
        assert abs(x.var(0)[0] - x.var(0)[1]) < 0.02 * x.var(0)[0]                 # isotropic
        cov = mode_coverage(x[:2500], modes, std)
        assert cov.high_quality < 0.02                      # what a metric must not reward...
    assert mode_coverage(blob_samples(grid_modes(), 0.05, 2500, torch.Generator().manual_seed(2)),
                         grid_modes(), 0.05).modes_captured >= 12   # ...although it "captures" many grid modes
