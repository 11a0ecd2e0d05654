"""gan_lib.machinery.checks.ch7: right answers in both dtypes and equivalent forms pass; the typical mistakes are named."""
import math

import pytest
import torch

from gan_lib.machinery.checks import CheckFailed, check_fd_diagonal, check_mmd2_unbiased, check_precision


def fd_diagonal(mu1, var1, mu2, var2):
    return ((mu1 - mu2) ** 2).sum() + ((var1.sqrt() - var2.sqrt()) ** 2).sum()


def fd_diagonal_expanded(mu1, var1, mu2, var2):  # the trace form of Eq. (ch7-fd), as a float
    return float(((mu1 - mu2) ** 2).sum() + var1.sum() + var2.sum() - 2 * (var1 * var2).sqrt().sum())


def mmd2(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1) ** 3  # noqa: E731
    m, n = len(x), len(y)
    kxx, kyy = k(x, x), k(y, y)
    return ((kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1))
            - 2 * k(x, y).mean())


def mmd2_loops(x, y):  # the same sums, written with loops over pairs
    d, m, n = x.shape[1], len(x), len(y)
    k = lambda a, b: (float(a @ b) / d + 1) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def precision(real, fake, k):
    radius = torch.cdist(real, real).sort(dim=1).values[:, k]
    return (torch.cdist(fake, real) <= radius).any(dim=1).double().mean()


def precision_loops(real, fake, k):
    inside = 0
    for f in fake:
        for r in real:
            others = sorted(float((r - q).norm()) for q in real)[1:]   # leave out r itself
            if float((f - r).norm()) <= others[k - 1]:
                inside += 1
                break
    return inside / len(fake)


def test_right_answers_and_equivalent_forms_pass():
    for fn in (fd_diagonal, fd_diagonal_expanded):
        assert check_fd_diagonal(fn)
    for fn in (mmd2, mmd2_loops):
        assert check_mmd2_unbiased(fn)
    for fn in (precision, precision_loops):
        assert check_precision(fn)


def test_answers_computed_in_float32_pass():
    assert check_fd_diagonal(lambda *a: fd_diagonal(*(t.float() for t in a)))
    assert check_mmd2_unbiased(lambda x, y: mmd2(x.float(), y.float()))
    assert check_precision(lambda r, f, k: precision(r.float(), f.float(), k).float())


def test_a_stub_is_not_answered_yet(capsys):
    assert check_fd_diagonal(lambda *a: None) is False
    assert check_mmd2_unbiased(lambda *a: (_ for _ in ()).throw(NotImplementedError)) is False
    assert check_precision(lambda *a: None) is False
    assert capsys.readouterr().out.count("Not answered yet") == 3


@pytest.mark.parametrize("wrong, message", [
    (lambda m1, v1, m2, v2: fd_diagonal(m1, v1, m2, v2).sqrt(), "square root of the true one"),
    (lambda m1, v1, m2, v2: ((m1 - m2) ** 2).sum() + ((v1 - v2) ** 2).sum(), "standard deviations"),
    (lambda m1, v1, m2, v2: ((v1.sqrt() - v2.sqrt()) ** 2).sum(), "add the squared distance of the means"),
    (lambda m1, v1, m2, v2: ((m1 - m2) ** 2).sum(), "the mean term alone"),
    (lambda m1, v1, m2, v2: fd_diagonal(m1, v1, m2, v2).reshape(1).repeat(2), "return one number"),
    (lambda m1, v1, m2, v2: 1.1 * fd_diagonal(m1, v1, m2, v2), "differs from the true distance"),
])
def test_fd_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check_fd_diagonal(wrong)


def _biased(x, y):
    k = lambda a, b: (a @ b.T / x.shape[1] + 1) ** 3  # noqa: E731
    return k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()


def _over_m2(x, y):
    k = lambda a, b: (a @ b.T / x.shape[1] + 1) ** 3  # noqa: E731
    kxx, kyy = k(x, x), k(y, y)
    return (kxx.sum() - kxx.trace()) / len(x) ** 2 + (kyy.sum() - kyy.trace()) / len(y) ** 2 - 2 * k(x, y).mean()


def _unscaled(x, y):
    return mmd2(x * math.sqrt(x.shape[1]), y * math.sqrt(x.shape[1]))


@pytest.mark.parametrize("wrong, message", [(_biased, "biased V-statistic"), (_over_m2, "not m\\^2"),
                                            (_unscaled, "divides the inner product by the dimension"),
                                            (lambda x, y: -mmd2(x, y), "differs from the true unbiased MMD")])
def test_mmd_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check_mmd2_unbiased(wrong)


def _self_counted(real, fake, k):
    radius = torch.cdist(real, real).sort(dim=1).values[:, k - 1]
    return (torch.cdist(fake, real) <= radius).any(dim=1).double().mean()


def _strict(real, fake, k):
    radius = torch.cdist(real, real).sort(dim=1).values[:, k]
    return (torch.cdist(fake, real) < radius).any(dim=1).double().mean()


@pytest.mark.parametrize("wrong, message", [(lambda r, f, k: precision(f, r, k), "the recall"),
                                            (_self_counted, "its own nearest neighbour"),
                                            (_strict, "strict <"),
                                            (lambda r, f, k: precision(r, f, k) * len(f), "differs from the true")])
def test_precision_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check_precision(wrong)


def test_a_failure_is_one_line():
    with pytest.raises(CheckFailed) as info:
        check_fd_diagonal(lambda m1, v1, m2, v2: ((m1 - m2) ** 2).sum())
    assert len(info.value._render_traceback_()) == 1
