"""gan_lib.feature_metrics: precision, recall, density, coverage and KID against independent routes and by hand."""
import numpy as np
import pytest
import torch

from gan_lib import feature_metrics


def _brute_force_prdc(real, fake, k):
    """Precision, recall, density, coverage from the full distance matrices (torch.cdist, sort): an independent route."""
    real, fake = torch.as_tensor(real, dtype=torch.float64), torch.as_tensor(fake, dtype=torch.float64)
    r_real = torch.cdist(real, real).sort(dim=1).values[:, k]  # column 0 is the point itself
    r_fake = torch.cdist(fake, fake).sort(dim=1).values[:, k]
    d = torch.cdist(real, fake)
    inside_real = d <= r_real[:, None]
    return (inside_real.any(0).double().mean().item(), (d <= r_fake[None, :]).any(1).double().mean().item(),
            inside_real.sum(0).double().mean().item() / k, inside_real.any(1).double().mean().item())


def test_knn_metrics_on_a_hand_computed_1d_example():
    # k = 1. Real 0, 1, 2, 3, 10: radii 1, 1, 1, 1, 7. Fake 0.5, 2.5, 2.2, 20: radii 1.7, 0.3, 0.3, 17.5.
    # 0.5 lies in the balls of 0 and 1, 2.5 in those of 2 and 3, 2.2 in those of 2 and 3, 20 in none:
    # precision 3/4, density 6 / (1 * 4); the ball of 10 holds no fake: coverage 4/5. Every real point
    # lies in some fake ball (3 and 10 only in the outlier 20's huge ball): recall 1, inflated by one outlier.
    real = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    fake = np.array([[0.5], [2.5], [2.2], [20.0]])
    assert feature_metrics.precision_recall(real, fake, k=1) == (0.75, 1.0)
    assert feature_metrics.density_coverage(real, fake, k=1) == (1.5, 0.8)


@pytest.mark.parametrize("k, batch_size", [(1, 7), (3, 1000), (5, 64)])
def test_knn_metrics_match_the_full_distance_matrix(k, batch_size):
    g = torch.Generator().manual_seed(k)
    real = torch.randn(300, 6, generator=g, dtype=torch.float64)
    fake = 1.3 * torch.randn(211, 6, generator=g, dtype=torch.float64) + 0.4
    p, r, d, c = _brute_force_prdc(real, fake, k)
    assert feature_metrics.precision_recall(real, fake, k=k, batch_size=batch_size) == pytest.approx((p, r), abs=1e-12)
    assert feature_metrics.density_coverage(real, fake, k=k, batch_size=batch_size) == pytest.approx((d, c), abs=1e-12)


def test_identical_sets_give_perfect_scores_and_density_k_plus_one_over_k():
    # A copy of the real set: every fake is at distance 0 from its original, inside its ball; and each real
    # ball holds exactly k + 1 points (the centre and its k neighbours), so density = (k + 1) / k exactly.
    real = torch.randn(500, 16, generator=torch.Generator().manual_seed(0))
    assert feature_metrics.precision_recall(real, real.clone()) == (1.0, 1.0)
    assert feature_metrics.density_coverage(real, real.clone()) == (pytest.approx(6 / 5, abs=1e-12), 1.0)
    assert feature_metrics.density_coverage(real, real.clone(), k=2) == (pytest.approx(3 / 2, abs=1e-12), 1.0)


def test_two_samples_of_one_distribution_give_naeems_expected_density_and_coverage():
    # Naeem et al. 2020: E[density] = 1 and E[coverage] = 1 - prod_{i=1..k} (N - i) / (N + M - i) when real
    # and fake come from the same distribution (about 1 - 2^-k for N = M).
    g = torch.Generator().manual_seed(1)
    n = m = 2000
    real, fake = torch.randn(n, 8, generator=g), torch.randn(m, 8, generator=g)
    expected = 1 - np.prod([(n - i) / (n + m - i) for i in range(1, 6)])
    density, coverage = feature_metrics.density_coverage(real, fake)
    assert density == pytest.approx(1.0, abs=0.05) and coverage == pytest.approx(expected, abs=0.015)


def test_far_apart_sets_score_zero():
    g = torch.Generator().manual_seed(2)
    real, fake = torch.randn(200, 5, generator=g), torch.randn(150, 5, generator=g) + 100
    assert feature_metrics.precision_recall(real, fake) == (0.0, 0.0)
    assert feature_metrics.density_coverage(real, fake) == (0.0, 0.0)


def test_a_tight_subset_has_full_precision_and_almost_no_recall():
    # Fakes packed around one real point: all realistic, no diversity.
    g = torch.Generator().manual_seed(3)
    real = torch.randn(2000, 4, generator=g)
    fake = real[:1] + 1e-3 * torch.randn(300, 4, generator=g)
    precision, recall = feature_metrics.precision_recall(real, fake)
    _, coverage = feature_metrics.density_coverage(real, fake)
    assert precision == 1.0 and recall < 0.005
    assert coverage < 0.005  # only the few real balls that reach that one point hold fakes


def test_dropping_half_the_modes_halves_recall_and_coverage_but_not_precision():
    g = torch.Generator().manual_seed(4)
    centres = 20 * torch.eye(4)
    real = centres[torch.arange(2000) % 4] + torch.randn(2000, 4, generator=g)
    fake = centres[torch.arange(2000) % 2] + torch.randn(2000, 4, generator=g)  # modes 0 and 1 only
    precision, recall = feature_metrics.precision_recall(real, fake)
    density, coverage = feature_metrics.density_coverage(real, fake)
    assert precision > 0.9 and recall == pytest.approx(0.5, abs=0.05)
    assert coverage == pytest.approx(0.5, abs=0.05) and density > 0.8


def test_knn_metrics_take_numpy_and_torch_alike():
    g = np.random.default_rng(5)
    real, fake = g.normal(size=(120, 3)), g.normal(size=(90, 3))
    assert feature_metrics.precision_recall(real, fake) == feature_metrics.precision_recall(torch.tensor(real), torch.tensor(fake))
    assert feature_metrics.density_coverage(real.astype(np.float32), fake) == pytest.approx(
        feature_metrics.density_coverage(real, fake), abs=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: feature_metrics.precision_recall(np.zeros((10, 3)), np.zeros((10, 4))), "columns"),
    (lambda: feature_metrics.precision_recall(np.zeros(10), np.zeros(10)), "N x d"),
    (lambda: feature_metrics.density_coverage(np.zeros((5, 3)), np.zeros((10, 3))), "at least k \\+ 1 = 6"),
    (lambda: feature_metrics.precision_recall(np.full((10, 2), np.nan), np.zeros((10, 2))), "NaN"),
    (lambda: feature_metrics.kernel_inception_distance(np.zeros((10, 2)), np.zeros((20, 2))), "subset_size must lie in 2..10"),
    (lambda: feature_metrics.kernel_inception_distance(np.zeros((10, 2)), np.zeros((20, 2)), 5, 0), "num_subsets"),
])
def test_feature_metric_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- the kernel (inception) distance ---------------------------------------------------------------

def test_polynomial_mmd2_by_hand():
    # d = 1, k(a, b) = (a b + 1)^3. x = {0, 1}, y = {2, 0}.
    # K_xx = [[1, 1], [1, 8]], K_yy = [[125, 1], [1, 1]], K_xy = [[1, 1], [27, 1]].
    # Unbiased: 2/2 + 2/2 - 2 * 30/4 = -13.  Biased: 11/4 + 128/4 - 2 * 30/4 = 19.75.
    x, y = np.array([[0.0], [1.0]]), np.array([[2.0], [0.0]])
    assert feature_metrics.polynomial_mmd2(x, y) == -13.0
    assert feature_metrics.polynomial_mmd2(x, y, unbiased=False) == 19.75


def test_polynomial_mmd2_with_sets_of_different_sizes_and_the_kernels_scale():
    # k(a, b) = (a . b / d + 1)^3 with d = 2; m = 3, n = 2, by explicit loops.
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([[0.0, 0.0], [2.0, 1.0]])
    k = lambda a, b: (a @ b / 2 + 1) ** 3
    within_x = sum(k(x[i], x[j]) for i in range(3) for j in range(3) if i != j) / 6
    within_y = sum(k(y[i], y[j]) for i in range(2) for j in range(2) if i != j) / 2
    across = sum(k(a, b) for a in x for b in y) / 6
    assert feature_metrics.polynomial_mmd2(x, y) == pytest.approx(within_x + within_y - 2 * across, rel=1e-14)


def test_polynomial_mmd2_is_unbiased_and_the_v_statistic_is_not():
    # Many pairs of small samples of one Gaussian: the unbiased estimate averages to 0 (within 3 standard
    # errors), the biased V-statistic to a clearly positive value (the diagonal k(x, x) it keeps).
    g = torch.Generator().manual_seed(6)
    pairs = [(torch.randn(10, 3, generator=g), torch.randn(10, 3, generator=g)) for _ in range(400)]
    unbiased = np.array([feature_metrics.polynomial_mmd2(x, y) for x, y in pairs])
    biased = np.array([feature_metrics.polynomial_mmd2(x, y, unbiased=False) for x, y in pairs])
    se = lambda v: v.std(ddof=1) / np.sqrt(len(v))
    assert abs(unbiased.mean()) < 3 * se(unbiased)
    assert biased.mean() > 10 * se(biased)


def test_kid_of_a_set_with_itself():
    # With subsets the size of the set every draw is the whole set: the spread is 0, and the unbiased
    # estimate of x against itself is (2 / (m - 1)) (mean K - mean diag K) <= 0, far below a shifted copy's.
    x = torch.randn(300, 16, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    k = (x @ x.T / 16 + 1) ** 3
    mean, std = feature_metrics.kernel_inception_distance(x, x, subset_size=300, num_subsets=4)
    assert mean == pytest.approx(2 / 299 * (k.mean() - k.diagonal().mean()).item(), rel=1e-10) and mean <= 0
    assert std < 1e-12
    shifted, _ = feature_metrics.kernel_inception_distance(x, x + 0.5, subset_size=300, num_subsets=4)
    assert abs(mean) < shifted / 10


def test_kid_of_two_samples_of_one_distribution_is_near_zero_and_seeded():
    g = torch.Generator().manual_seed(8)
    real, fake = torch.randn(1500, 8, generator=g), torch.randn(1200, 8, generator=g)
    mean, std = feature_metrics.kernel_inception_distance(real, fake, subset_size=500, num_subsets=20)
    assert abs(mean) < 2 * std
    shifted, shifted_std = feature_metrics.kernel_inception_distance(real, fake + 0.3, subset_size=500, num_subsets=20)
    assert shifted > 5 * shifted_std > 0
    assert feature_metrics.kernel_inception_distance(real, fake, 500, 20) == (mean, std)
    assert feature_metrics.kernel_inception_distance(real, fake, 500, 20, seed=1) != (mean, std)
