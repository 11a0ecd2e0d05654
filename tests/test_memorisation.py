"""gan_lib.memorisation: rank statistics on cases whose answer is known, the AUC interval's coverage, k-means,
and the data-copying test on a copier, a fair sample and a generator that stays away from the training set."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from gan_lib import memorisation


def test_u_and_auc_by_hand_with_a_tie():
    # pairs (a, b): (1, 2) lose, (2, 2) tie, (3, 2) win -> U = 1.5 of 3 pairs
    assert memorisation.mann_whitney_u([1, 2, 3], [2]) == 1.5
    assert memorisation.auc([1, 2, 3], [2]) == 0.5
    assert memorisation.auc([5, 6], [1, 2, 3]) == 1.0 and memorisation.auc([1, 2, 3], [5, 6]) == 0.0


def test_u_matches_scipy_and_z_its_normal_approximation():
    g = np.random.default_rng(0)
    a, b = g.normal(size=40).round(1), g.normal(0.3, size=55).round(1)  # rounding makes ties
    assert memorisation.mann_whitney_u(a, b) == pytest.approx(stats.mannwhitneyu(a, b).statistic)
    z = memorisation.mann_whitney_z(a, b)
    u = memorisation.mann_whitney_u(a, b)
    assert z == pytest.approx((u - 40 * 55 / 2) / math.sqrt(40 * 55 * 96 / 12))
    assert memorisation.mann_whitney_z(b, a) == pytest.approx(-z)


def test_auc_interval_is_delong_and_covers_the_true_auc():
    g = np.random.default_rng(1)
    pos, neg = g.normal(1, size=30), g.normal(size=20)
    psi = (pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None])   # brute force DeLong
    v10, v01 = psi.mean(1), psi.mean(0)
    half = stats.norm.ppf(0.975) * math.sqrt(v10.var(ddof=1) / 30 + v01.var(ddof=1) / 20)
    low, high = memorisation.auc_interval(pos, neg)
    assert (low, high) == pytest.approx((max(0, psi.mean() - half), min(1, psi.mean() + half)))
    true_auc = stats.norm.cdf(0.5 / math.sqrt(2))   # N(0.5, 1) against N(0, 1)
    covered = 0
    for _ in range(300):
        low, high = memorisation.auc_interval(g.normal(0.5, size=150), g.normal(size=150))
        covered += low <= true_auc <= high
    assert 0.90 <= covered / 300 <= 0.99


def test_scores_are_validated():
    with pytest.raises(ValueError, match="1-D"):
        memorisation.auc([[1, 2]], [1])
    with pytest.raises(ValueError, match="finite"):
        memorisation.auc([1, float("nan")], [1])
    with pytest.raises(ValueError, match="at least 2"):
        memorisation.auc_interval([1], [1, 2])


def test_kmeans_finds_well_separated_clusters():
    g = torch.Generator().manual_seed(0)
    truth = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.cat([c + 0.3 * torch.randn(100, 2, generator=g) for c in truth])
    centres = memorisation.kmeans(x, 3, seed=0)
    assert torch.cdist(truth.double(), centres).min(1).values.max() < 0.2


def _sets(seed=0, n=3000, d=8):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, generator=g, dtype=torch.float64) for _ in range(3))


def test_a_fair_sample_is_not_flagged_and_a_copier_is():
    train, heldout, fair = _sets()
    result = memorisation.data_copying_test(train, heldout, fair, num_cells=10)
    assert abs(result.statistic) < 3 and result.cells_kept == 10
    assert sum(result.cell_weight) == pytest.approx(1)
    g = torch.Generator().manual_seed(5)
    copies = train[torch.randint(len(train), (3000,), generator=g)] + 1e-3 * torch.randn(3000, 8, generator=g,
                                                                                          dtype=torch.float64)
    assert memorisation.data_copying_test(train, heldout, copies, num_cells=10).statistic < -20


def test_a_generator_far_from_the_training_set_scores_high():
    train, heldout, fair = _sets(1)
    assert memorisation.data_copying_test(train, heldout, fair * 1.3, num_cells=10).statistic > 3


def test_cells_with_too_few_points_are_left_out():
    train, heldout, fair = _sets(2, n=400, d=2)
    result = memorisation.data_copying_test(train, heldout, fair[:100], num_cells=10, min_per_cell=10)
    assert 0 < result.cells_kept < 10
    with pytest.raises(ValueError, match="no cell"):
        memorisation.data_copying_test(train, heldout, fair[:5], num_cells=10, min_per_cell=10)
