"""gan_lib.stats: the paired interval against SciPy, the chances of a verdict by luck, and power."""
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from gan_lib import stats


def test_paired_interval_matches_scipy():
    a, b = [512.0, 470.5, 498.0, 455.2], [580.1, 560.0, 590.3, 540.0]
    c = stats.paired(a, b, seeds=(0, 1, 2, 3), names=("tuned", "plain"))
    ci = scipy_stats.ttest_rel(a, b).confidence_interval(0.95)
    assert c.low == pytest.approx(ci.low, rel=1e-12) and c.high == pytest.approx(ci.high, rel=1e-12)
    assert c.p_value == pytest.approx(scipy_stats.ttest_rel(a, b).pvalue, rel=1e-10)
    assert c.verdict == "tuned" and "tuned is better" in str(c) and "2.5%" in str(c)


def test_direction_and_undecided():
    assert stats.paired([1, 2, 3], [2, 3, 4.5], lower_is_better=False).verdict == "B"
    assert stats.paired([1, 2, 3], [1.5, 1.5, 3.2]).verdict == "undecided"
    assert "only 2 seeds" in str(stats.paired([1, 2], [3, 5]))


def test_the_rule_passes_by_luck_at_the_stated_rate():
    rng = np.random.default_rng(0)
    trials, n = 20_000, 3
    seed_effect = rng.normal(0, 50, size=(trials, n))            # what a seed does to both recipes
    a = 500 + seed_effect + rng.normal(0, 10, size=(trials, n))  # no real difference between A and B
    b = 500 + seed_effect + rng.normal(0, 10, size=(trials, n))
    wins = sum(stats.paired(x, y).verdict == "A" for x, y in zip(a[:4000], b[:4000]))
    assert abs(wins / 4000 - 0.025) < 0.01
    x, y = rng.normal(size=(trials, n)), rng.normal(size=(trials, n))  # exchangeable scores, no seed pairing
    every = ((x[:, :, None] < y[:, None, :]).all(axis=(1, 2))).mean()  # every A seed beats every B seed
    assert every == pytest.approx(stats.chance_every_seed_beats_every_seed(n, n), abs=0.005)  # 1 in 20


def test_chances_of_simple_rules():
    assert stats.chance_every_seed_beats_every_seed(2, 2) == pytest.approx(1 / 6)
    assert stats.chance_every_pair_wins(5) == 1 / 32
    assert stats.chance_any_of(3, 0.5) == pytest.approx(0.875)


def test_power_against_simulation_and_seeds_needed():
    rng = np.random.default_rng(1)
    effect, sd, n = 30.0, 25.0, 5
    d = rng.normal(-effect, sd, size=(20_000, n))
    half = scipy_stats.t.ppf(0.975, n - 1) * d.std(axis=1, ddof=1) / math.sqrt(n)
    simulated = (d.mean(axis=1) + half < 0).mean()
    assert stats.power(effect, sd, n) == pytest.approx(simulated, abs=0.015)
    n80 = stats.seeds_needed(effect, sd)
    assert stats.power(effect, sd, n80) >= 0.8 > stats.power(effect, sd, n80 - 1)


def test_bootstrap_interval_brackets_the_mean():
    low, high = stats.bootstrap_interval([1.0, 2.0, 3.0, 4.0])
    assert low < 2.5 < high and 1.0 <= low and high <= 4.0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="same length"):
        stats.paired([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least 2 seeds"):
        stats.paired([1], [2])
