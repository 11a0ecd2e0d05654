"""Machinery: the checks of chapter 7's exercises: the Frechet distance of diagonal Gaussians, the unbiased kernel
distance, and precision by k-nearest-neighbour balls, none of which the chapter prints as code.

Each check runs the answer on inputs of several shapes in float32 and float64, compares it with ``gan_lib.metrics``
in float64, and names the mistakes learners make: variances where standard deviations belong, the distance not
squared, the biased V-statistic, a point counted as its own neighbour, recall for precision.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .core import DT, CheckFailed, _as_tensor, _call, _not_answered, _NotAnswered, check_close, tolerances

__all__ = ["check_fd_diagonal", "check_mmd2_unbiased", "check_precision"]

DTYPES = (torch.float64, torch.float32)
TOL = {"rtol": 1e-9, "atol": 1e-12}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _scalar(value, name: str, dtype: torch.dtype) -> torch.Tensor:
    """One number from the answer, held to the precision of the inputs' ``dtype`` (a Python float made from
    float32 tensors is a float32 result)."""
    t = _as_tensor(value, name)
    if t.numel() != 1:
        raise CheckFailed(f"{name.capitalize()} has shape {tuple(t.shape)}; return one number (a float or a "
                          "0-dim tensor): did you forget to sum over the dimensions?")
    t = t.reshape(())
    return t.to(dtype) if t.is_floating_point() and torch.finfo(t.dtype).bits > torch.finfo(dtype).bits else t


def _is(answer: torch.Tensor, value: float, dtype: torch.dtype) -> bool:
    rtol, atol = tolerances(dtype, abs(value) or 1.0, **TOL)
    return math.isfinite(value) and abs(answer.item() - value) <= atol + rtol * abs(value)


# --- Frechet distance of diagonal Gaussians, Eq. (ch7-fd) ---------------------------------------

def _fd_diagonal(mu1, var1, mu2, var2) -> float:
    from ...metrics import frechet_distance
    return frechet_distance(mu1.numpy(), torch.diag(var1).numpy(), mu2.numpy(), torch.diag(var2).numpy())


def check_fd_diagonal(fn: Callable) -> bool:
    """Chapter 7, Eq. (ch7-fd): ``fn(mu1, var1, mu2, var2)`` returns the squared Frechet distance between
    N(mu1, diag(var1)) and N(mu2, diag(var2)), one number; the four arguments are 1-D tensors of length d."""
    try:
        for dtype in DTYPES:
            for case, d in enumerate((1, 3, 7)):
                g = _gen(70 + case)
                mu1, mu2 = (torch.randn(d, generator=g, dtype=DT) for _ in range(2))
                var1, var2 = (torch.rand(d, generator=g, dtype=DT) * 4 + 0.1 for _ in range(2))
                args = [t.to(dtype) for t in (mu1, var1, mu2, var2)]
                a = [t.to(DT) for t in args]
                answer = _scalar(_call(fn, *(t.clone() for t in args)), "your distance", dtype)
                true = _fd_diagonal(*a)
                mean_term = float(((a[0] - a[2]) ** 2).sum())
                where = f"for d = {d} ({dtype})"
                named = {
                    "the square root of the true one: Eq. (ch7-fd) is the *squared* distance (what FID reports), "
                    "so do not take a square root at the end": math.sqrt(true),
                    "sum (var1 - var2)^2 plus the mean term: the covariance term compares standard deviations, "
                    "(sqrt(var1) - sqrt(var2))^2": mean_term + float(((a[1] - a[3]) ** 2).sum()),
                    "the covariance term alone: add the squared distance of the means": true - mean_term,
                    "the mean term alone: the covariance term tr S1 + tr S2 - 2 tr (S1 S2)^(1/2) is missing": mean_term,
                    "sum (sqrt(var1) - sqrt(var2)) without the square, plus the mean term":
                        mean_term + float((a[1].sqrt() - a[3].sqrt()).sum()),
                }
                if not _is(answer, true, dtype):
                    for what, value in named.items():
                        if abs(value - true) > 1e-9 * max(1.0, abs(true)) and _is(answer, value, dtype):
                            raise CheckFailed(f"Your distance {where} is {what}.")
                check_close(f"distance {where}", answer, torch.tensor(true, dtype=DT), truth="the true distance",
                            quiet=True, **TOL)
    except _NotAnswered:
        return _not_answered("your Frechet distance")
    print("Correct: your distance matches Eq. (ch7-fd) for diagonal Gaussians in 1, 3 and 7 dimensions, "
          "in float32 and float64.")
    return True


# --- the unbiased squared MMD of KID, Eq. (ch7-kid) ----------------------------------------------

def _kernel(x: torch.Tensor, y: torch.Tensor, degree: int = 3, scaled: bool = True) -> torch.Tensor:
    return (x @ y.T / (x.shape[1] if scaled else 1) + 1) ** degree


def _mmd2(x, y, diagonal: bool = False, over_m2: bool = False, **kernel) -> float:
    kxx, kyy, kxy = _kernel(x, x, **kernel), _kernel(y, y, **kernel), _kernel(y, x, **kernel).T
    m, n = len(x), len(y)
    if diagonal:
        return float(kxx.mean() + kyy.mean() - 2 * kxy.mean())
    off_x, off_y = kxx.sum() - kxx.diagonal().sum(), kyy.sum() - kyy.diagonal().sum()
    if over_m2:
        return float(off_x / m ** 2 + off_y / n ** 2 - 2 * kxy.mean())
    return float(off_x / (m * (m - 1)) + off_y / (n * (n - 1)) - 2 * kxy.mean())


def check_mmd2_unbiased(fn: Callable) -> bool:
    """Chapter 7, Eq. (ch7-kid): ``fn(x, y)`` returns the unbiased squared MMD between the rows of x (m x d) and
    of y (n x d) under the kernel k(a, b) = (a . b / d + 1)^3, one number; m and n may differ."""
    from ...feature_metrics import polynomial_mmd2
    shapes = [(5, 7, 3), (10, 4, 6), (6, 6, 2)]
    try:
        for dtype in DTYPES:
            for case, (m, n, d) in enumerate(shapes):
                g = _gen(80 + case)
                x = torch.randn(m, d, generator=g, dtype=DT).to(dtype)
                y = (torch.randn(n, d, generator=g, dtype=DT) * 1.5 + 0.3).to(dtype)
                answer = _scalar(_call(fn, x.clone(), y.clone()), "your MMD", dtype)
                x64, y64 = x.to(DT), y.to(DT)
                true = polynomial_mmd2(x64, y64)
                where = f"for x of shape {(m, d)} and y of shape {(n, d)} ({dtype})"
                named = {
                    "the biased V-statistic: the means of K_xx and K_yy keep the diagonal k(a, a). Leave it out and "
                    "divide by m (m - 1) and n (n - 1)": _mmd2(x64, y64, diagonal=True),
                    "right but for the division: leaving out the diagonal of K_xx (m^2 - m entries) leaves m (m - 1) "
                    "terms, so divide by m (m - 1), not m^2": _mmd2(x64, y64, over_m2=True),
                    "computed with k(a, b) = (a . b + 1)^3: the kernel divides the inner product by the dimension d":
                        _mmd2(x64, y64, scaled=False),
                    "computed with a quadratic kernel: KID's kernel is cubic, (a . b / d + 1)^3":
                        _mmd2(x64, y64, degree=2),
                }
                if not _is(answer, true, dtype):
                    for what, value in named.items():
                        if abs(value - true) > 1e-9 * max(1.0, abs(true)) and _is(answer, value, dtype):
                            raise CheckFailed(f"Your MMD {where} is {what}.")
                check_close(f"MMD {where}", answer, torch.tensor(true, dtype=DT), truth="the true unbiased MMD",
                            quiet=True, **TOL)
    except _NotAnswered:
        return _not_answered("your MMD function")
    print("Correct: your unbiased MMD matches Eq. (ch7-kid) for sets of equal and of different sizes, "
          "in float32 and float64.")
    return True


# --- precision by k-nearest-neighbour balls, Eq. (ch7-precision-recall) -------------------------

def _precision(real: torch.Tensor, fake: torch.Tensor, k: int, strict: bool = False, self_counted: bool = False) -> float:
    d_rr, d_fr = torch.cdist(real, real), torch.cdist(fake, real)
    radius = d_rr.sort(dim=1).values[:, k - 1 if self_counted else k]  # column 0 is the point itself
    inside = d_fr < radius if strict else d_fr <= radius
    return float(inside.any(dim=1).double().mean())


def _knn_cases(dtype: torch.dtype) -> list[tuple[torch.Tensor, torch.Tensor, int]]:
    g = _gen(90)
    grid = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0]], dtype=DT)
    probes = torch.tensor([[1.0, 1.0], [3.0, 0.0], [2.0, 2.0], [5.0, 7.0], [9.0, 9.0], [0.5, 0.0]], dtype=DT)
    return [(torch.randn(30, 4, generator=g, dtype=DT).to(dtype),
             (torch.randn(20, 4, generator=g, dtype=DT) * 1.4 + 0.5).to(dtype), 3),
            (torch.randn(12, 2, generator=g, dtype=DT).to(dtype), torch.randn(25, 2, generator=g, dtype=DT).to(dtype), 1),
            (grid.to(dtype), probes.to(dtype), 1)]  # exact ties: a probe on a ball's surface is inside


def check_precision(fn: Callable) -> bool:
    """Chapter 7, Eq. (ch7-precision-recall): ``fn(real, fake, k)`` returns the precision of the fake features (rows
    of an N x d tensor): the share of fake rows inside at least one real ball, a ball reaching from a real row to
    its k-th nearest *other* real row, its surface included."""
    from ...feature_metrics import precision_recall
    try:
        for dtype in DTYPES:
            for real, fake, k in _knn_cases(dtype):
                answer = _scalar(_call(fn, real.clone(), fake.clone(), k), "your precision", dtype)
                r64, f64 = real.to(DT), fake.to(DT)
                true, recall = precision_recall(r64, f64, k=k)
                where = f"for {len(real)} real and {len(fake)} fake rows of {real.shape[1]} numbers, k = {k} ({dtype})"
                named = {
                    "the recall, not the precision: precision asks how many *fake* rows lie in the real balls":
                        recall,
                    "what you get when a real row counts as its own nearest neighbour: its distance to itself is "
                    "0, so the radius is the distance to the k-th nearest *other* real row":
                        _precision(r64, f64, k, self_counted=True),
                    "what a strict < gives: a fake row exactly on a ball's surface counts as inside (<=)":
                        _precision(r64, f64, k, strict=True),
                }
                if not _is(answer, true, dtype):
                    for what, value in named.items():
                        if abs(value - true) > 1e-12 and _is(answer, value, dtype):
                            raise CheckFailed(f"Your precision {where} is {value:.4g}, {what}. The true value is "
                                              f"{true:.4g}.")
                check_close(f"precision {where}", answer, torch.tensor(true, dtype=DT), truth="the true precision",
                            quiet=True, rtol=1e-12, atol=1e-12)
    except _NotAnswered:
        return _not_answered("your precision function")
    print("Correct: your precision matches Eq. (ch7-precision-recall) for k = 1 and 3, random sets and a grid "
          "with exact ties, in float32 and float64.")
    return True
