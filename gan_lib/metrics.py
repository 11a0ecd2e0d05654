"""How good is a generator? The book's metric (chapter 4), explained in chapter 7, and its rivals.

Inception-network features, used by FID (Heusel et al. 2017) for natural images, are neither
available offline nor meaningful for 28 x 28 grey garments, so the book uses a small convolutional
classifier trained on the same data set (``gan_lib.classifier``), and the squared Frechet distance
(what FID reports) between the Gaussians fitted to its penultimate-layer features (128 numbers per
image) of generated and of real images. The functions on images take them in [-1, 1] and refuse
anything else; precision/recall, density/coverage and KID take those features (N x d), real first.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def check_images(images: torch.Tensor, what: str = "images") -> None:
    """Refuse what is not a batch of images in [-1, 1]: NaN or infinite values, or values outside the range."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.is_floating_point():
        got = f"a {images.dtype} tensor of shape {tuple(images.shape)}" if isinstance(images, torch.Tensor) \
            else type(images).__name__
        raise ValueError(f"{what} must be a float tensor N x C x H x W, got {got}.")
    bad = int((~torch.isfinite(images)).sum())
    if bad:
        raise ValueError(f"{what} hold {bad} NaN or infinite values: the generator that made them has diverged, "
                         "or the file is damaged. Sample again from a healthy checkpoint.")
    low, high = images.min().item(), images.max().item()
    if low < -1.0 - 1e-4 or high > 1.0 + 1e-4:
        raise ValueError(f"{what} range from {low:.3g} to {high:.3g}, but the book's images lie in [-1, 1] "
                         "(the generator's Tanh range). Rescale them, e.g. x / 127.5 - 1 for 0..255 pixels.")


@torch.no_grad()
def predict(net: nn.Sequential, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(class probabilities, features) of images in [-1, 1], computed in eval mode on ``net``'s device."""
    check_images(images)
    net.eval()
    device = next(net.parameters()).device
    probs, feats = [], []
    for chunk in images.split(batch_size):
        f = net[:-1](chunk.to(device))
        probs.append(torch.softmax(net[-1](f), dim=1).cpu())
        feats.append(f.cpu())
    return torch.cat(probs), torch.cat(feats)


def accuracy(net: nn.Sequential, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of images whose most probable class is the label."""
    probs, _ = predict(net, images)
    return (probs.argmax(1) == labels.cpu()).double().mean().item()


def speckle_rate(images: torch.Tensor, threshold: float = 1.0) -> float:
    """Chapter 4's speckle count: the share of interior pixels further than ``threshold`` (half the [-1, 1] range)
    from the median of their 3 x 3 neighbourhood. A flat image or a sharp edge scores 0, one isolated dot 1/26^2."""
    check_images(images)
    patches = nn.functional.unfold(images.float().cpu(), kernel_size=3)   # N x 9 x (H-2)(W-2); the centre is row 4
    return (patches[:, 4] - patches.median(dim=1).values).abs().gt(threshold).double().mean().item()


def gaussian_stats(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of the rows of ``features``, in float64."""
    f = features.double().cpu().numpy()
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Squared Frechet (2-Wasserstein) distance between N(mu1, cov1) and N(mu2, cov2), Eqs. (ch4-fd) and (ch7-fd):

    ||mu1 - mu2||^2 + tr(cov1) + tr(cov2) - 2 tr((cov1 cov2)^{1/2}).

    The trace of the square root is the sum of square roots of the eigenvalues of the symmetric matrix
    cov1^{1/2} cov2 cov1^{1/2}, which has the same eigenvalues as cov1 cov2 (Eq. (ch7-trace)). Those square roots
    are the singular values of cov1^{1/2} cov2^{1/2}, and are computed as such: forming the product with
    cov2 squares the roots and loses half the digits of the near-zero ones that dead ReLU features give.
    """
    singular = np.linalg.svd(_sqrt_psd(cov1) @ _sqrt_psd(cov2), compute_uv=False)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * singular.sum())


def _sqrt_psd(cov: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((cov + cov.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def fd(net: nn.Sequential, fake: torch.Tensor, real: torch.Tensor) -> float:
    """The book's metric: Frechet distance between classifier features of ``fake`` and ``real`` images."""
    if fake.shape[1:] != real.shape[1:]:
        raise ValueError(f"fake images {tuple(fake.shape[1:])} and real images {tuple(real.shape[1:])} differ in shape.")
    if len(fake) < 2 or len(real) < 2:
        raise ValueError("the Frechet distance needs at least 2 images per side (a covariance).")
    return frechet_distance(*gaussian_stats(predict(net, fake)[1]), *gaussian_stats(predict(net, real)[1]))


# --- Chapter 7: the metrics explained and calibrated -----------------------------------------

def frechet_distance_sqrtm(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray,
                           jitter: float = 1e-6) -> float:
    """Eq. (ch7-fd) by the reference-code route: scipy's general ``sqrtm`` of cov1 cov2 (an independent check).

    ``jitter * I`` is added to both covariances, always (pytorch-fid adds 1e-6 only when the square root of the
    product comes out non-finite), because dead ReLU units give zero-variance features and a singular product
    whose square root is ill-conditioned. Compare it with :func:`frechet_distance` on the same jittered covariances.
    """
    import scipy.linalg
    eye = jitter * np.eye(len(cov1))
    cov1, cov2 = cov1 + eye, cov2 + eye
    covmean = scipy.linalg.sqrtm(cov1 @ cov2)
    covmean = np.real(covmean)  # round-off leaves imaginary parts of order 1e-12
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(covmean))


def inception_score(probs: torch.Tensor) -> float:
    """Eq. (ch7-is): exp of the mean KL divergence from p(y|x) to the marginal p(y) (Salimans et al. 2016).

    ``probs`` is N x K, each row a class distribution; 1 (one class) <= score <= K (all classes,
    each confidently). Computed on all N rows at once with the book's classifier: not comparable with
    published scores, which average over 10 splits of 50,000 images and use the Inception network.
    """
    from scipy.special import xlogy
    p = _as_probs(probs)
    marginal = p.mean(axis=0)
    kl = (xlogy(p, p) - xlogy(p, marginal)).sum(axis=1)
    return float(np.exp(kl.mean()))


def class_histogram(probs: torch.Tensor) -> np.ndarray:
    """How many images the classifier puts in each class (the most probable one), as K integers."""
    p = _as_probs(probs)
    return np.bincount(p.argmax(axis=1), minlength=p.shape[1])


def classes_present(histogram: np.ndarray, min_share: float = 0.01) -> int:
    """Number of classes that receive at least ``min_share`` of the images (not Naeem et al.'s coverage)."""
    h = np.asarray(histogram, dtype=np.float64)
    if h.sum() <= 0:
        raise ValueError("the histogram is empty: evaluate at least one image.")
    return int((h / h.sum() >= min_share).sum())


@torch.no_grad()
def nearest_neighbours(queries: torch.Tensor, references: torch.Tensor,
                       batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query, the Euclidean distance to its nearest reference, and that reference's index.

    Images are compared pixel by pixel; N x d feature rows (``predict(net, images)[1]``) work too, and suit the
    memorisation check of chapter 7 better: blurry images sit close in pixels to many images.
    """
    refs = references.flatten(1).float()
    ref_sq = refs.pow(2).sum(1)
    dists, index = [], []
    for chunk in queries.flatten(1).float().split(batch_size):
        d2 = chunk.pow(2).sum(1, keepdim=True) - 2 * chunk @ refs.T + ref_sq  # ||a - b||^2 expanded
        where = d2.argmin(dim=1)
        dists.append((chunk - refs[where]).norm(dim=1))  # exact: the expanded form cancels badly near 0
        index.append(where)
    return torch.cat(dists), torch.cat(index)


def sample_scores(probs: torch.Tensor, features: torch.Tensor, real_stats: tuple[np.ndarray, np.ndarray],
                  min_share: float = 0.01) -> dict:
    """Every chapter-7 metric of one image set, from the classifier's outputs on it (see :func:`predict`)."""
    hist = class_histogram(probs)
    return {"num_samples": len(probs), "fd": frechet_distance(*gaussian_stats(features), *real_stats),
            "inception_score": inception_score(probs), "classes_present": classes_present(hist, min_share),
            "kl_uniform": kl_from_uniform(torch.as_tensor(hist)), "histogram": hist.tolist()}


def evaluate(net: nn.Sequential, fake: torch.Tensor, real: torch.Tensor, min_share: float = 0.01) -> dict:
    """:func:`sample_scores` of ``fake`` against ``real`` images (use the same number of each for the FD)."""
    if fake.shape[1:] != real.shape[1:]:
        raise ValueError(f"fake images {tuple(fake.shape[1:])} and real images {tuple(real.shape[1:])} differ in shape.")
    if len(fake) < 2 or len(real) < 2:
        raise ValueError("the Frechet distance needs at least 2 images per side (a covariance).")
    probs, features = predict(net, fake)
    return sample_scores(probs, features, gaussian_stats(predict(net, real)[1]), min_share)


def _as_probs(probs: torch.Tensor) -> np.ndarray:
    p = np.asarray(probs.detach().double().cpu() if isinstance(probs, torch.Tensor) else probs, dtype=np.float64)
    if p.ndim != 2 or (p < 0).any() or not np.allclose(p.sum(axis=1), 1, atol=1e-4):
        raise ValueError(f"expected class probabilities: an N x K array of non-negative rows that sum to 1, got "
                         f"shape {p.shape}. Compute them with metrics.predict(classifier, images)[0].")
    return p


def kl_from_uniform(counts: torch.Tensor) -> float:
    """Eq. (ch6-kl): KL(p_hat || uniform) = sum_k p_k log(K p_k) in nats, p_hat = counts / counts.sum()."""
    counts = counts.double()
    if counts.ndim != 1 or bool((counts < 0).any()):
        raise ValueError("counts must be a 1-D tensor of non-negative numbers, one per mode or class.")
    total = counts.sum()
    if total == 0:
        return float("nan")
    p = counts / total
    return float(torch.special.xlogy(p, p * len(counts)).sum())


# --- Chapter 7: fidelity and diversity from k-nearest-neighbour balls, and the kernel distance -------
# These take feature arrays (N x d, numpy or torch), e.g. ``predict(classifier, images)[1]``, real first.

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
