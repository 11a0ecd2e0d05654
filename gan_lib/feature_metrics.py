"""Fidelity, diversity and the kernel distance, measured on feature sets (chapter 7).

Every function here takes two feature arrays (N x d, numpy or torch), real first, e.g. the classifier's
penultimate-layer features ``metrics.predict(classifier, images)[1]``: precision and recall from
k-nearest-neighbour balls (Kynkaanniemi et al. 2019), density and coverage (Naeem et al. 2020), and the
kernel inception distance (Binkowski et al. 2018). ``gan_lib.metrics`` holds the Frechet distance.
"""
from __future__ import annotations

import numpy as np
import torch


def precision_recall(real_features, fake_features, k: int = 3, batch_size: int = 1000) -> tuple[float, float]:
    """Eq. (ch7-precision-recall) (Kynkaanniemi et al. 2019): (precision, recall) of the fake set.

    Around every real feature, a ball reaching its k-th nearest real neighbour (itself not counted);
    the union of the balls estimates the real manifold, and the same is done for the fakes.
    Precision is the share of fake features inside some real ball (fidelity), recall the share of
    real features inside some fake ball (diversity). As in the authors' code, k = 3 and a point on a
    ball's surface is inside (<=). Distances are computed in float64 blocks of ``batch_size`` rows,
    never as one N x M matrix.
    """
    real, fake = _feature_pair(real_features, fake_features, k)
    in_real_balls, _, in_fake_balls = _ball_counts(real, fake, _knn_radii2(real, k, batch_size),
                                                   _knn_radii2(fake, k, batch_size), batch_size)
    return in_real_balls.gt(0).double().mean().item(), in_fake_balls.double().mean().item()


def density_coverage(real_features, fake_features, k: int = 5, batch_size: int = 1000) -> tuple[float, float]:
    """Eq. (ch7-density-coverage) (Naeem et al. 2020): (density, coverage) of the fake set, k = 5 as theirs.

    Only real balls are used (a fake outlier cannot inflate them). Density is the mean number of real
    balls a fake feature falls in, divided by k: about 1 when fake and real come from the same
    distribution, (k + 1) / k exactly for a copy of the real set, above 1 when fakes crowd dense
    regions. Coverage is the share of real balls that hold at least one fake feature. Their code tests
    inside with < and this one with <= (as Kynkaanniemi et al.): they differ only on exact ties.
    """
    real, fake = _feature_pair(real_features, fake_features, k)
    in_real_balls, ball_holds_fake, _ = _ball_counts(real, fake, _knn_radii2(real, k, batch_size), None, batch_size)
    return in_real_balls.double().mean().item() / k, ball_holds_fake.double().mean().item()


def polynomial_mmd2(x, y, unbiased: bool = True) -> float:
    """Eq. (ch7-kid): squared MMD between two feature sets under the cubic kernel k(a, b) = (a.b / d + 1)^3.

    Unbiased (Binkowski et al. 2018, their code's default): the within-set means leave out the
    diagonal k(a, a), (sum_{i != j} K_xx / (m (m - 1)) + the same for y - 2 mean K_xy), so the value
    averages to 0 over draws of two samples of one distribution and can be negative.
    ``unbiased=False`` gives the biased V-statistic (diagonals kept, / m^2), positive on average.
    """
    x, y = _feature_pair(x, y, 1)
    k_xx, k_yy, k_xy = _cubic_kernel(x, x), _cubic_kernel(y, y), _cubic_kernel(x, y)
    if not unbiased:
        return float(k_xx.mean() + k_yy.mean() - 2 * k_xy.mean())
    m, n = len(x), len(y)
    within = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1)) + (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return float(within - 2 * k_xy.mean())


def kernel_inception_distance(real_features, fake_features, subset_size: int = 1000, num_subsets: int = 100,
                              seed: int = 0) -> tuple[float, float]:
    """Eq. (ch7-kid), KID (Binkowski et al. 2018) on the book's features: (mean, std) of :func:`polynomial_mmd2`
    over ``num_subsets`` pairs of subsets of ``subset_size`` features each.

    Each subset is drawn without replacement, from a generator seeded with ``seed``, as the authors' code
    does (it uses 50 subsets; torch-fidelity's default, kept here, is 100 of 1000). The std is the
    spread of one subset's estimate (numpy's std, as both print it), not the standard error of the mean:
    the subsets overlap. Published KIDs use Inception features; these values are comparable only within the book.
    """
    real, fake = _feature_pair(real_features, fake_features, 1)
    if not 2 <= subset_size <= min(len(real), len(fake)) or num_subsets < 1:
        raise ValueError(f"subset_size must lie in 2..{min(len(real), len(fake))} (the smaller set) and num_subsets "
                         f"be >= 1, got {subset_size} and {num_subsets}: pass subset_size=min(len(real), len(fake)).")
    rng = torch.Generator().manual_seed(seed)
    subset = lambda f: f[torch.randperm(len(f), generator=rng)[:subset_size].to(f.device)]
    values = np.array([polynomial_mmd2(subset(real), subset(fake)) for _ in range(num_subsets)])
    return float(values.mean()), float(values.std())


def _cubic_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.addmm(torch.ones((), dtype=a.dtype, device=a.device), a, b.T, alpha=1 / a.shape[1]).pow_(3)


def _as_features(features, name: str) -> torch.Tensor:
    """An N x d float64 tensor: torch stays on its device (MPS has no float64: the CPU), numpy goes to the CPU."""
    f = features.detach() if isinstance(features, torch.Tensor) else torch.as_tensor(np.asarray(features))
    f = f.to("cpu") if f.device.type == "mps" else f
    if f.dim() != 2 or not (f.is_floating_point() or f.dtype in (torch.int32, torch.int64)):
        raise ValueError(f"{name} must be an N x d array of numbers (one feature row per image), got shape "
                         f"{tuple(f.shape)}: compute them with metrics.predict(classifier, images)[1].")
    if not torch.isfinite(f).all():
        raise ValueError(f"{name} hold NaN or infinite values: the images they come from are damaged.")
    return f.to(torch.float64)


def _feature_pair(real_features, fake_features, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    real, fake = _as_features(real_features, "real features"), _as_features(fake_features, "fake features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real features have {real.shape[1]} columns but fake ones {fake.shape[1]}: "
                         "compute both with the same network.")
    if min(len(real), len(fake)) < k + 1:
        raise ValueError(f"each set needs at least k + 1 = {k + 1} features (a k-th neighbour besides itself), "
                         f"got {len(real)} real and {len(fake)} fake.")
    return real, fake.to(real.device)


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """||a_i - b_j||^2 for a block of rows a against all rows of b, expanded (one matrix product), clamped at 0."""
    return torch.addmm(b.pow(2).sum(1), a, b.T, alpha=-2).add_(a.pow(2).sum(1, keepdim=True)).clamp_(min=0)


def _knn_radii2(features: torch.Tensor, k: int, batch_size: int) -> torch.Tensor:
    """Squared distance from each row to its k-th nearest other row (its own distance, 0, is the first of k + 1)."""
    radii = []
    for start in range(0, len(features), batch_size):
        d2 = _squared_distances(features[start:start + batch_size], features)
        rows = torch.arange(len(d2), device=d2.device)
        d2[rows, rows + start] = 0.0  # itself, exactly
        radii.append(d2.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(radii)


def _ball_counts(real: torch.Tensor, fake: torch.Tensor, real_r2: torch.Tensor, fake_r2: torch.Tensor | None,
                 batch_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """One pass over the real x fake distances, ``batch_size`` real rows at a time: per fake, how many real balls
    hold it; per real, whether its own ball holds a fake, and (given fake radii) whether it lies in some fake ball."""
    in_real_balls = torch.zeros(len(fake), dtype=torch.int64, device=real.device)
    ball_holds_fake, in_fake_balls = [], []
    for start in range(0, len(real), batch_size):
        d2 = _squared_distances(real[start:start + batch_size], fake)
        inside = d2 <= real_r2[start:start + batch_size, None]
        in_real_balls += inside.sum(0, dtype=torch.int32)
        ball_holds_fake.append(inside.any(1))
        if fake_r2 is not None:
            in_fake_balls.append((d2 <= fake_r2).any(1))
    return in_real_balls, torch.cat(ball_holds_fake), torch.cat(in_fake_balls) if in_fake_balls else None
