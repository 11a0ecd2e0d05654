"""How good is a generator? The book's metric (chapter 4), explained in chapter 7.

Inception-network features, used by FID (Heusel et al. 2017) for natural images, are neither
available offline nor meaningful for 28 x 28 grey garments, so the book uses a small convolutional
classifier trained on the same data set, and the Frechet distance between the Gaussians fitted to
its penultimate-layer features (128 numbers per image) of generated and of real test images.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn



def classifier_net(num_classes: int = 10) -> nn.Sequential:
    """Two conv blocks (with batch norm) and a 128-unit feature layer; ``net[:-1]`` gives the features."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),    # 32 x 14 x 14
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),   # 64 x 7 x 7
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),            # the features
        nn.Linear(128, num_classes),
    )


def train_classifier(images: torch.Tensor, labels: torch.Tensor, num_steps: int, seed: int = 0,
                     batch_size: int = 128, lr: float = 1e-3) -> nn.Sequential:
    """Train :func:`classifier_net` with Adam (cosine-annealed lr) and cross-entropy; ``images`` in [-1, 1] on the target device."""
    torch.manual_seed(seed)
    net = classifier_net().to(images.device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=num_steps)  # anneal lr to 0
    rng = torch.Generator().manual_seed(seed)
    data = torch.utils.data.TensorDataset(images, labels.to(images.device))
    for _ in range(num_steps):
        index = torch.randint(len(images), (batch_size,), generator=rng).to(images.device)
        x, y = data[index]
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
    return net.eval()


@torch.no_grad()
def predict(net: nn.Sequential, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(class probabilities, features) for each image, computed in eval mode on ``net``'s device."""
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


def gaussian_stats(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of the rows of ``features``, in float64."""
    f = features.double().cpu().numpy()
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Frechet distance between N(mu1, cov1) and N(mu2, cov2), Eq. (4.4) (and (7.1)):

    ||mu1 - mu2||^2 + tr(cov1) + tr(cov2) - 2 tr((cov1 cov2)^{1/2}).

    The trace of the square root is the sum of square roots of the eigenvalues of the symmetric matrix
    cov1^{1/2} cov2 cov1^{1/2}, which has the same eigenvalues as cov1 cov2 (Eq. (7.2)). Those square roots
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
    """Eq. (7.1) by the reference-code route: scipy's general ``sqrtm`` of cov1 cov2 (an independent check).

    ``jitter * I`` is added to both covariances first, as reference FID code does, because dead ReLU
    units give zero-variance features and a singular product whose square root is ill-conditioned.
    Compare it with :func:`frechet_distance` on the same jittered covariances.
    """
    import scipy.linalg
    eye = jitter * np.eye(len(cov1))
    cov1, cov2 = cov1 + eye, cov2 + eye
    covmean = scipy.linalg.sqrtm(cov1 @ cov2)
    covmean = np.real(covmean)  # round-off leaves imaginary parts of order 1e-12
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(covmean))


def inception_score(probs: torch.Tensor) -> float:
    """Eq. (7.3): exp of the mean KL divergence from p(y|x) to the marginal p(y) (Salimans et al. 2016).

    ``probs`` is N x K, each row a class distribution; 1 (one class) <= score <= K (all classes,
    each confidently). Computed on all N rows at once (Salimans et al. average over 10 splits).
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


def classes_covered(histogram: np.ndarray, min_share: float = 0.01) -> int:
    """Number of classes that receive at least ``min_share`` of the images."""
    h = np.asarray(histogram, dtype=np.float64)
    if h.sum() <= 0:
        raise ValueError("the histogram is empty: evaluate at least one image.")
    return int((h / h.sum() >= min_share).sum())


@torch.no_grad()
def nearest_neighbours(queries: torch.Tensor, references: torch.Tensor,
                       batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query image, the Euclidean pixel distance to its nearest reference image, and that image's index.

    The memorisation check of chapter 7: a generator that copies training images gives distances near 0.
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


def interpolate_latents(z0: torch.Tensor, z1: torch.Tensor, num_points: int,
                        spherical: bool = False) -> torch.Tensor:
    """``num_points`` codes from z0 to z1: Eq. (7.6), linear, or Eq. (7.7), spherical (slerp)."""
    if num_points < 2:
        raise ValueError(f"num_points must be at least 2 (the two ends), got {num_points}.")
    t = torch.linspace(0, 1, num_points, dtype=z0.dtype, device=z0.device)[:, None]
    if not spherical:
        return (1 - t) * z0 + t * z1
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm())
    omega = torch.arccos(cos.clamp(-1, 1))
    if omega.abs() < 1e-6:  # (nearly) parallel codes: slerp and lerp coincide
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def sample_scores(probs: torch.Tensor, features: torch.Tensor, real_stats: tuple[np.ndarray, np.ndarray],
                  min_share: float = 0.01) -> dict:
    """Every chapter-7 metric of one image set, from the classifier's outputs on it (see :func:`predict`)."""
    hist = class_histogram(probs)
    return {"num_samples": len(probs), "fd": frechet_distance(*gaussian_stats(features), *real_stats),
            "inception_score": inception_score(probs), "classes_covered": classes_covered(hist, min_share),
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
        raise ValueError(f"expected an N x K array of class probabilities (rows summing to 1), got shape {p.shape}; "
                         "pass the first output of metrics.predict.")
    return p


# --- Mode collapse on 2-D mixtures (chapter 6) -----------------------------------------------
# The metric of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018): a sample is of high
# quality if it lies within ``num_std`` standard deviations of its nearest mode, and a mode is
# captured if it is the nearest mode of at least one high-quality sample.

from typing import NamedTuple  # noqa: E402  (this section was appended as a unit)


class ModeCoverage(NamedTuple):
    """Eq. (6.1)-(6.2): modes captured, share of high-quality samples, KL(p_hat || uniform) in nats."""
    modes_captured: int
    high_quality: float
    kl_uniform: float       # NaN when no sample is of high quality (p_hat is then undefined)
    counts: torch.Tensor    # high-quality samples per mode


def nearest_mode(samples: torch.Tensor, modes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(index of the nearest mode, Euclidean distance to it) for each row of ``samples`` (n x d)."""
    if samples.ndim != 2 or modes.ndim != 2 or samples.shape[1] != modes.shape[1]:
        raise ValueError(f"samples {tuple(samples.shape)} and modes {tuple(modes.shape)} must be n x d and k x d.")
    dist = torch.cdist(samples.double(), modes.double())
    best, index = dist.min(dim=1)
    return index, best


def kl_from_uniform(counts: torch.Tensor) -> float:
    """Eq. (6.2): KL(p_hat || uniform) = sum_k p_k log(K p_k) in nats, p_hat = counts / counts.sum()."""
    counts = counts.double()
    if counts.ndim != 1 or bool((counts < 0).any()):
        raise ValueError("counts must be a 1-D tensor of non-negative numbers, one per mode or class.")
    total = counts.sum()
    if total == 0:
        return float("nan")
    p = counts / total
    return float(torch.special.xlogy(p, p * len(counts)).sum())


def mode_coverage(samples: torch.Tensor, modes: torch.Tensor, std: float, num_std: float = 3.0) -> ModeCoverage:
    """The 2-D mode-collapse metric, Eq. (6.1)-(6.2), of ``samples`` (n x d) against a mixture's ``modes``."""
    if std <= 0 or num_std <= 0:
        raise ValueError(f"std and num_std must be positive, got {std} and {num_std}.")
    if len(samples) == 0:
        raise ValueError("no samples: draw some (the literature uses 2,500) before measuring coverage.")
    index, dist = nearest_mode(samples, modes)
    good = dist <= num_std * std
    counts = torch.bincount(index[good], minlength=len(modes))
    return ModeCoverage(int((counts > 0).sum()), good.double().mean().item(), kl_from_uniform(counts), counts)
