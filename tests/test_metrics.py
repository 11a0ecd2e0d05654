"""gan_lib.metrics: Frechet distance, Inception Score, class histograms, nearest neighbours, precision/recall,
density/coverage and KID. Small, synthetic inputs with known answers; nothing here needs a dataset."""
import numpy as np
import pytest
import torch

from gan_lib import metrics
from gan_lib.classifier import classifier_net


def _random_cov(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_identical_sets_are_at_distance_zero():
    rng = np.random.default_rng(0)
    mu, cov = rng.normal(size=6), _random_cov(rng, 6)
    assert abs(metrics.frechet_distance(mu, cov, mu, cov)) < 1e-9
    features = torch.randn(300, 8, generator=torch.Generator().manual_seed(0))
    stats = metrics.gaussian_stats(features)
    assert abs(metrics.frechet_distance(*stats, *stats)) < 1e-9
    assert abs(metrics.frechet_distance_sqrtm(*stats, *stats)) < 1e-6


def test_diagonal_gaussians_give_the_closed_form():
    # Commuting (diagonal) covariances: FD = ||mu1 - mu2||^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2.
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, abs=1e-10)
    assert metrics.frechet_distance_sqrtm(mu1, np.diag(a), mu2, np.diag(b), jitter=0) == pytest.approx(expected, abs=1e-8)


def test_non_commuting_2x2_gaussians_give_the_closed_form():
    # For a 2 x 2 matrix M with positive eigenvalues, tr(M^{1/2}) = sqrt(tr M + 2 sqrt(det M)).
    cov1 = np.array([[2.0, 0.8], [0.8, 1.0]])
    cov2 = np.array([[1.0, -0.5], [-0.5, 3.0]])
    mu1, mu2 = np.array([1.0, 2.0]), np.array([-1.0, 0.0])
    m = cov1 @ cov2
    tr_sqrt = np.sqrt(np.trace(m) + 2 * np.sqrt(np.linalg.det(m)))
    expected = 8.0 + np.trace(cov1) + np.trace(cov2) - 2 * tr_sqrt
    assert metrics.frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("d", [4, 32, 128])
def test_sqrtm_and_eigen_routes_agree(d):
    rng = np.random.default_rng(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    cov1, cov2 = _random_cov(rng, d), _random_cov(rng, d)
    eye = 1e-6 * np.eye(d)
    by_eig = metrics.frechet_distance(mu1, cov1 + eye, mu2, cov2 + eye)
    assert metrics.frechet_distance_sqrtm(mu1, cov1, mu2, cov2) == pytest.approx(by_eig, rel=1e-6, abs=1e-6)


def test_routes_agree_on_singular_covariances_with_jitter():
    # Dead ReLU units: features that are always 0 give zero rows and columns in the covariance.
    g = torch.Generator().manual_seed(1)
    f1, f2 = torch.relu(torch.randn(400, 16, generator=g)), torch.relu(torch.randn(400, 16, generator=g) + 0.3)
    f1[:, :4] = 0
    f2[:, :4] = 0
    (mu1, cov1), (mu2, cov2) = metrics.gaussian_stats(f1), metrics.gaussian_stats(f2)
    assert np.linalg.matrix_rank(cov1) < 16
    eye = 1e-6 * np.eye(16)
    by_eig = metrics.frechet_distance(mu1, cov1 + eye, mu2, cov2 + eye)
    assert metrics.frechet_distance_sqrtm(mu1, cov1, mu2, cov2) == pytest.approx(by_eig, abs=1e-6)


def test_inception_score_bounds():
    uniform_one_hot = torch.eye(10).repeat(7, 1)
    assert metrics.inception_score(uniform_one_hot) == pytest.approx(10.0, rel=1e-12)
    single_class = torch.eye(10)[[3] * 50]
    assert metrics.inception_score(single_class) == pytest.approx(1.0, rel=1e-12)
    unsure = torch.full((20, 10), 0.1)  # every image maximally uncertain: no information either
    assert metrics.inception_score(unsure) == pytest.approx(1.0, rel=1e-12)
    mixed = torch.softmax(torch.randn(200, 10, generator=torch.Generator().manual_seed(0)) * 3, dim=1)
    assert 1.0 < metrics.inception_score(mixed) < 10.0


def test_inception_score_equals_entropy_difference():
    # exp(E_x KL(p(y|x) || p(y))) = exp(H(p(y)) - E_x H(p(y|x))).
    p = torch.softmax(torch.randn(100, 10, generator=torch.Generator().manual_seed(2)), dim=1).double()
    marginal = p.mean(0)
    h_marginal = -(marginal * marginal.log()).sum()
    h_conditional = -(p * p.log()).sum(1).mean()
    assert metrics.inception_score(p) == pytest.approx(float(torch.exp(h_marginal - h_conditional)), rel=1e-10)


def test_probabilities_are_validated():
    with pytest.raises(ValueError, match="class probabilities"):
        metrics.inception_score(torch.randn(5, 10))


def test_histogram_classes_present_and_kl():
    probs = torch.eye(10)[torch.tensor([0] * 50 + [1] * 30 + [2] * 20)]
    hist = metrics.class_histogram(probs)
    assert hist.tolist() == [50, 30, 20] + [0] * 7
    assert metrics.classes_present(hist) == 3
    assert metrics.classes_present(hist, min_share=0.25) == 2
    share = np.array([0.5, 0.3, 0.2])
    assert metrics.kl_from_uniform(torch.as_tensor(hist)) == pytest.approx(np.sum(share * np.log(share * 10)), rel=1e-12)
    assert metrics.kl_from_uniform(torch.full((10,), 7)) == pytest.approx(0.0, abs=1e-12)
    assert metrics.kl_from_uniform(torch.eye(10)[4] * 100) == pytest.approx(np.log(10), rel=1e-12)
    with pytest.raises(ValueError, match="empty"):
        metrics.classes_present(np.zeros(10))


def test_nearest_neighbours_finds_copies():
    g = torch.Generator().manual_seed(0)
    train = torch.rand(500, 1, 28, 28, generator=g) * 2 - 1
    copies = train[[7, 123, 499]]
    dist, index = metrics.nearest_neighbours(copies, train, batch_size=2)
    assert index.tolist() == [7, 123, 499] and dist.max() < 1e-6
    queries = torch.rand(20, 1, 28, 28, generator=g) * 2 - 1
    dist, index = metrics.nearest_neighbours(queries, train)
    brute = torch.cdist(queries.flatten(1).double(), train.flatten(1).double())
    assert torch.equal(index, brute.argmin(1))
    assert torch.allclose(dist.double(), brute.min(1).values, atol=1e-3)


def test_evaluate_and_sample_scores():
    g = torch.Generator().manual_seed(0)
    net = classifier_net().eval()
    fake, real = torch.rand(40, 1, 28, 28, generator=g) * 2 - 1, torch.rand(40, 1, 28, 28, generator=g) * 2 - 1
    scores = metrics.evaluate(net, fake, real)
    assert set(scores) == {"num_samples", "fd", "inception_score", "classes_present", "kl_uniform", "histogram"}
    assert scores["num_samples"] == 40 and sum(scores["histogram"]) == 40 and scores["fd"] >= 0
    assert abs(metrics.evaluate(net, real, real)["fd"]) < 1e-6
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.evaluate(net, fake, real[:, :, :14])


def test_identical_near_singular_covariances_are_at_distance_zero():
    # Many dead units and a few large variances: the squared eigen route would be off by ~1e-6 here.
    g = torch.Generator().manual_seed(3)
    f = torch.relu(torch.randn(2000, 128, generator=g) * torch.linspace(0.1, 12, 128))
    f[:, :40] = 0
    mu, cov = metrics.gaussian_stats(f)
    cov = cov + 1e-6 * np.eye(128)
    assert abs(metrics.frechet_distance(mu, cov, mu, cov)) < 1e-9


def test_images_outside_the_range_or_not_finite_are_refused_in_plain_words():
    net = classifier_net().eval()
    good = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    good[0, 0, 0, 0] = 1.0  # so that the largest value times 10 is 10 exactly
    with pytest.raises(ValueError, match="range from .* to 10"):
        metrics.fd(net, good * 10, good)
    nan = good.clone()
    nan[3, 0, 5, 5] = float("nan")
    with pytest.raises(ValueError, match="1 NaN or infinite values"):
        metrics.evaluate(net, nan, good)
    with pytest.raises(ValueError, match="N x C x H x W"):
        metrics.predict(net, good.flatten(1))


def test_speckle_rate_on_images_whose_answer_is_known():
    flat = torch.full((1, 1, 28, 28), -1.0)
    dot, edge = flat.clone(), flat.clone()
    dot[0, 0, 10, 10] = 1.0          # one white pixel on black: the only speckled pixel of 26 x 26
    edge[0, 0, :, 14:] = 1.0         # a sharp edge: every pixel has neighbours of its own colour
    assert metrics.speckle_rate(flat) == 0 and metrics.speckle_rate(edge) == 0
    assert metrics.speckle_rate(dot) == 1 / 26**2
    noise = torch.where(torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0)) < 0.5, -1.0, 1.0)
    assert 0.2 < metrics.speckle_rate(noise) < 0.5  # salt and pepper: a pixel is speckled when its 3 x 3 majority differs
