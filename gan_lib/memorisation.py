"""Has a generator copied its training images? A test of data copying, and membership inference (chapters 7, 8).

Both compare distances or scores of two groups by their ranks, with the Mann-Whitney statistic
U = #{(a, b): a > b} + #{(a, b): a = b} / 2 over all pairs of a in A and b in B.

* :func:`data_copying_test` is the test of Meehan, Chaudhuri and Dasgupta (2020), Eq. (ch7-copying): are
  generated images closer to the training set than held-out real images are, region by region?
* :func:`auc` and :func:`auc_interval` score a membership-inference attack, Eq. (ch8-auc): how well a score
  (the discriminator's logit, Hayes et al. 2019; minus the distance to the nearest generated image) tells
  the images a GAN was trained on from held-out images of the same distribution.

Features are N x d rows (``metrics.predict(classifier, images)[1]``) or flattened images; scores are 1-D.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats as _scipy_stats

from .metrics import nearest_neighbours


def _scores(values, name: str) -> np.ndarray:
    v = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float64)
    if v.ndim != 1 or len(v) == 0 or not np.isfinite(v).all():
        raise ValueError(f"{name} must be a non-empty 1-D array of finite numbers, got shape {v.shape}.")
    return v


def mann_whitney_u(a, b) -> float:
    """U: the number of pairs (a_i, b_j) with a_i > b_j, ties counted one half (from the ranks of a among all)."""
    a, b = _scores(a, "a"), _scores(b, "b")
    ranks = _scipy_stats.rankdata(np.concatenate([a, b]))  # average ranks: a tie counts one half
    return float(ranks[:len(a)].sum() - len(a) * (len(a) + 1) / 2)


def mann_whitney_z(a, b) -> float:
    """Z_U = (U - m n / 2) / sqrt(m n (m + n + 1) / 12): about N(0, 1) when a and b come from one distribution;
    negative when the a's tend to be smaller."""
    m, n = len(_scores(a, "a")), len(_scores(b, "b"))
    return (mann_whitney_u(a, b) - m * n / 2) / math.sqrt(m * n * (m + n + 1) / 12)


def auc(positive, negative) -> float:
    """Eq. (ch8-auc): the chance that a random positive scores above a random negative (ties: one half), U / (m n).

    1: every member scores above every non-member; 0.5: the score cannot tell them apart."""
    return mann_whitney_u(positive, negative) / (len(_scores(positive, "positive")) * len(_scores(negative, "negative")))


def auc_interval(positive, negative, confidence: float = 0.95) -> tuple[float, float]:
    """DeLong et al. (1988)'s normal interval for :func:`auc`: its variance is var(V10) / m + var(V01) / n, where
    V10_i is the share of negatives that positive i beats and V01_j the share of positives that beat negative j."""
    pos, neg = _scores(positive, "positive"), _scores(negative, "negative")
    if len(pos) < 2 or len(neg) < 2:
        raise ValueError("an AUC interval needs at least 2 scores on each side.")
    m, n = len(pos), len(neg)
    joint = _scipy_stats.rankdata(np.concatenate([pos, neg]))
    v10 = (joint[:m] - _scipy_stats.rankdata(pos)) / n
    v01 = 1 - (joint[m:] - _scipy_stats.rankdata(neg)) / m
    area = float(v10.mean())
    half = float(_scipy_stats.norm.ppf((1 + confidence) / 2)) * math.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n)
    return max(0.0, area - half), min(1.0, area + half)


def kmeans(features, num_cells: int, seed: int = 0, num_iterations: int = 25) -> torch.Tensor:
    """Lloyd's k-means: ``num_cells`` centres (num_cells x d), started at rows drawn with ``seed``."""
    x = torch.as_tensor(features).double()
    if x.dim() != 2 or not 1 <= num_cells <= len(x):
        raise ValueError(f"need N x d features with N >= num_cells = {num_cells}, got shape {tuple(x.shape)}.")
    centres = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:num_cells]].clone()
    for _ in range(num_iterations):
        cell = nearest_neighbours(x, centres)[1]
        counts = torch.bincount(cell, minlength=num_cells)
        sums = torch.zeros_like(centres).index_add_(0, cell, x)
        full = counts > 0                  # an empty cell keeps its centre
        centres[full] = sums[full] / counts[full, None]
    return centres


@dataclass(frozen=True)
class CopyingTest:
    """The result of :func:`data_copying_test`: C_T and what it was made of."""
    statistic: float           # C_T: << 0 copying, about 0 like held-out data, >> 0 further from the training set
    cell_z: tuple[float, ...]  # Z_U of every cell kept
    cell_weight: tuple[float, ...]
    cells_kept: int
    num_cells: int


def data_copying_test(train_features, heldout_features, generated_features, num_cells: int = 20,
                      min_per_cell: int = 20, seed: int = 0) -> CopyingTest:
    """Eq. (ch7-copying): Meehan et al. (2020)'s C_T. Cut the space into ``num_cells`` k-means cells of the training
    features; in each cell compare the distances to the nearest training feature of the generated and of the
    held-out features by Z_U (:func:`mann_whitney_z`, generated first), and average the Z_U with weights the
    share of held-out features in each cell. Cells with fewer than ``min_per_cell`` generated or held-out
    features are left out (the authors' threshold tau), and the weights renormalised over the cells kept."""
    return data_copying_tests(train_features, heldout_features, {"generated": generated_features}, num_cells,
                              min_per_cell, seed)["generated"]


def data_copying_tests(train_features, heldout_features, generated: dict, num_cells: int = 20,
                       min_per_cell: int = 20, seed: int = 0) -> dict[str, CopyingTest]:
    """:func:`data_copying_test` of each named set of generated features in ``generated``, against the same
    training and held-out features (their cells and distances are computed once)."""
    train, heldout = torch.as_tensor(train_features).double(), torch.as_tensor(heldout_features).double()
    if train.dim() != 2 or train.shape[1:] != heldout.shape[1:]:
        raise ValueError("train and held-out features must be N x d with the same d.")
    centres = kmeans(train, num_cells, seed)
    d_heldout, cell_heldout = nearest_neighbours(heldout, train)[0], nearest_neighbours(heldout, centres)[1]
    results = {}
    for name, features in generated.items():
        features = torch.as_tensor(features).double()
        if features.shape[1:] != train.shape[1:]:
            raise ValueError(f"the generated features {name!r} have {tuple(features.shape[1:])} columns, "
                             f"the training features {tuple(train.shape[1:])}: compute both with the same network.")
        d_generated, cell_generated = nearest_neighbours(features, train)[0], nearest_neighbours(features, centres)[1]
        z, weight = [], []
        for c in range(num_cells):
            p, q = d_heldout[cell_heldout == c], d_generated[cell_generated == c]
            if len(p) >= min_per_cell and len(q) >= min_per_cell:
                z.append(mann_whitney_z(q, p))
                weight.append(len(p) / len(heldout))
        if not z:
            raise ValueError(f"no cell holds {min_per_cell} generated and held-out features ({name!r}): use fewer "
                             "cells or more images.")
        w = np.array(weight) / sum(weight)
        results[name] = CopyingTest(float(np.dot(w, z)), tuple(z), tuple(w.tolist()), len(z), num_cells)
    return results
