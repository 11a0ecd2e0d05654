"""gan_lib.machinery.checks.ch8: right answers in both dtypes and equivalent forms pass; the typical mistakes are named."""
import pytest
import torch
from torch.nn import functional as F

from gan_lib.machinery.checks import CheckFailed, check_auc, check_straight_through


def straight_through(logit, gumbel, tau):
    soft = torch.softmax((logit + gumbel) / tau, dim=-1)
    hard = F.one_hot(soft.argmax(-1), logit.shape[-1]).to(soft.dtype)
    return hard - soft.detach() + soft


def straight_through_scatter(logit, gumbel, tau):  # the same trick, the hard token made with scatter
    soft = ((logit + gumbel) / tau).softmax(-1)
    hard = torch.zeros_like(soft).scatter_(-1, soft.argmax(-1, keepdim=True), 1.0)
    return (hard - soft).detach() + soft


def auc(member, nonmember):
    diff = member[:, None] - nonmember[None, :]
    return ((diff > 0).double() + 0.5 * (diff == 0).double()).mean()


def auc_by_ranks(member, nonmember):
    from scipy.stats import rankdata
    ranks = rankdata(torch.cat([member, nonmember]).double().numpy())
    m, n = len(member), len(nonmember)
    return (ranks[:m].sum() - m * (m + 1) / 2) / (m * n)


def test_right_answers_and_equivalent_forms_pass():
    assert check_straight_through(straight_through)
    assert check_straight_through(straight_through_scatter)
    assert check_straight_through(lambda a, g, tau: straight_through(a.double(), g.double(), tau))
    assert check_auc(auc) and check_auc(auc_by_ranks)
    assert check_auc(lambda m, n: float(auc(m.float(), n.float())))


def test_a_stub_is_not_answered_yet(capsys):
    assert check_straight_through(lambda *a: None) is False
    assert check_auc(lambda *a: (_ for _ in ()).throw(NotImplementedError)) is False
    assert capsys.readouterr().out.count("Not answered yet") == 2


def _soft(logit, gumbel, tau):
    return torch.softmax((logit + gumbel) / tau, dim=-1)


def _hard_only(logit, gumbel, tau):
    return F.one_hot((logit + gumbel).argmax(-1), logit.shape[-1]).to(logit.dtype)


def _wrong_detach(logit, gumbel, tau):
    soft = _soft(logit, gumbel, tau)
    return soft.detach() - soft + _hard_only(logit, gumbel, tau)


def _no_tau(logit, gumbel, tau):
    soft = torch.softmax(logit + gumbel, dim=-1)
    return _hard_only(logit, gumbel, tau) - soft.detach() + soft


def _no_noise(logit, gumbel, tau):
    soft = _soft(logit, 0 * gumbel, tau)
    return F.one_hot(soft.argmax(-1), logit.shape[-1]).to(soft.dtype) - soft.detach() + soft


@pytest.mark.parametrize("wrong, message", [(_soft, "the soft token"), (_hard_only, "No gradient reaches"),
                                            (_wrong_detach, "minus the true one"), (_no_tau, "divide by tau"),
                                            (_no_noise, "without the noise"),
                                            (lambda a, g, t: straight_through(a, g, t)[..., :2], "shape")])
def test_straight_through_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check_straight_through(wrong)


def _ties_lose(member, nonmember):
    return (member[:, None] > nonmember[None, :]).double().mean()


def _ties_win(member, nonmember):
    return (member[:, None] >= nonmember[None, :]).double().mean()


@pytest.mark.parametrize("wrong, message", [(lambda m, n: auc(n, m), "1 - AUC"), (_ties_lose, "as a loss"),
                                            (_ties_win, "as a win"),
                                            (lambda m, n: auc(m, n) * len(m) * len(n), "not divided"),
                                            (lambda m, n: torch.stack([auc(m, n)] * 2), "one number")])
def test_auc_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check_auc(wrong)
