"""How good is a generator? The book's metric (chapter 4), explained in chapter 7, and its rivals.

Inception-network features, used by FID (Heusel et al. 2017) for natural images, are neither
available offline nor meaningful for 28 x 28 grey garments, so the book uses a small convolutional
classifier trained on the same data set (``gan_lib.classifier``), and the squared Frechet distance
(what FID reports) between the Gaussians fitted to its penultimate-layer features (128 numbers per
image) of generated and of real images. The functions on images take them in [-1, 1] and refuse
anything else. Precision/recall, density/coverage and KID, which take those features, live in
``gan_lib.feature_metrics``.
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
