"""Comparing training runs fairly: paired over seeds, with an interval, and the chance of a verdict by luck.

Two recipes trained from the same seeds give pairs (a_i, b_i) of scores, one pair per seed. A seed fixes the
initial weights and the batches, so scores of the same seed are correlated, and the differences d_i = a_i - b_i
vary less than the scores do. The book's decision rule: recipe A is better than B when the t interval of the
mean difference, Eq. (ch4-paired-ci), lies entirely on A's better side. If the two recipes were in truth equally
good, the rule would still pass, in a direction named in advance, with probability (1 - confidence) / 2
(2.5% at 95%), and every verdict prints that chance beside it. Other rules have other chances, given here too:
"every seed of A beats every seed of B" passes by luck 1 time in C(n + m, n), "A wins every pair" 1 time in 2^n.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _scipy_stats


@dataclass(frozen=True)
class Comparison:
    """A paired comparison of A against B over seeds: the mean difference A - B and its t interval."""
    name_a: str
    name_b: str
    a: tuple[float, ...]
    b: tuple[float, ...]
    seeds: tuple[int, ...]
    mean_difference: float
    low: float
    high: float
    confidence: float
    p_value: float          # two-sided paired t-test of "no difference"
    lower_is_better: bool

    @property
    def n(self) -> int:
        return len(self.a)

    @property
    def verdict(self) -> str:
        """'A', 'B' or 'undecided': whose side of zero the whole interval lies on."""
        a_side = self.high < 0 if self.lower_is_better else self.low > 0
        b_side = self.low > 0 if self.lower_is_better else self.high < 0
        return self.name_a if a_side else self.name_b if b_side else "undecided"

    @property
    def chance_by_luck(self) -> float:
        """Chance that the rule names this winner, in this direction, when there is no real difference."""
        return (1 - self.confidence) / 2

    def __str__(self) -> str:
        better = "lower" if self.lower_is_better else "higher"
        seeds = ", ".join(str(s) for s in self.seeds)
        lines = [f"{self.name_a} vs {self.name_b}, paired over {self.n} seeds ({seeds}); {better} is better",
                 f"  {self.name_a}: " + ", ".join(f"{x:.1f}" for x in self.a),
                 f"  {self.name_b}: " + ", ".join(f"{x:.1f}" for x in self.b),
                 f"  mean difference {self.name_a} - {self.name_b}: {self.mean_difference:+.1f}, "
                 f"{self.confidence:.0%} t interval [{self.low:+.1f}, {self.high:+.1f}], paired t-test p = {self.p_value:.3f}",
                 f"  verdict: {self.verdict if self.verdict == 'undecided' else self.verdict + ' is better'}"
                 f" (the chance of this rule naming a winner in a given direction when there is no real difference:"
                 f" {self.chance_by_luck:.1%})"]
        if self.n < 3:
            lines.append("  only {} seed{}: not evidence of anything; say so".format(self.n, "" if self.n == 1 else "s"))
        return "\n".join(lines)


def paired(a: Sequence[float], b: Sequence[float], seeds: Sequence[int] | None = None, confidence: float = 0.95,
           lower_is_better: bool = True, names: tuple[str, str] = ("A", "B")) -> Comparison:
    """Eq. (ch4-paired-ci): the mean of d_i = a_i - b_i and its interval, mean +- t_{n-1} s_d / sqrt(n).

    ``a[i]`` and ``b[i]`` must come from the same seed, ``seeds[i]``.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be two lists of the same length, one score per seed; got {a.shape} and {b.shape}.")
    if len(a) < 2:
        raise ValueError(f"a paired interval needs at least 2 seeds, got {len(a)}; the book asks for 3 (images) or 5 (2-D).")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}.")
    seeds = tuple(range(len(a))) if seeds is None else tuple(seeds)
    if len(seeds) != len(a):
        raise ValueError(f"{len(seeds)} seeds for {len(a)} pairs: give one seed per pair.")
    d = a - b
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    half = float(_scipy_stats.t.ppf((1 + confidence) / 2, len(d) - 1)) * sd / math.sqrt(len(d))
    p = 1.0 if sd == 0 and mean == 0 else 0.0 if sd == 0 else float(2 * _scipy_stats.t.sf(abs(mean) / (sd / math.sqrt(len(d))), len(d) - 1))
    return Comparison(names[0], names[1], tuple(a.tolist()), tuple(b.tolist()), seeds, mean, mean - half, mean + half,
                      confidence, p, lower_is_better)


def bootstrap_interval(differences: Sequence[float], confidence: float = 0.95, num_resamples: int = 10_000,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``differences`` (a check on the t interval, not a better one:
    with 3 to 5 seeds both are rough, and the bootstrap is too narrow)."""
    d = np.asarray(differences, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(len(d), size=(num_resamples, len(d)))].mean(axis=1)
    return float(np.quantile(means, (1 - confidence) / 2)), float(np.quantile(means, (1 + confidence) / 2))


def chance_every_seed_beats_every_seed(n: int, m: int) -> float:
    """The rule "all n scores of A beat all m of B" passes by luck 1 time in C(n + m, n) (exchangeable scores)."""
    return 1 / math.comb(n + m, n)


def chance_every_pair_wins(n: int) -> float:
    """The rule "A beats B on every one of n seeds" passes by luck with probability 2^-n (the sign test)."""
    return 0.5 ** n


def chance_any_of(k: int, p: float) -> float:
    """Chance that at least one of k independent comparisons, each passing by luck with probability p, passes."""
    return 1 - (1 - p) ** k


def power(effect: float, sd: float, n: int, confidence: float = 0.95) -> float:
    """Chance that the paired rule names the better recipe, for a true mean difference ``effect`` whose per-seed
    differences have standard deviation ``sd`` (noncentral t, one direction)."""
    if n < 2:
        raise ValueError("power needs at least 2 seeds.")
    df, shift = n - 1, abs(effect) / (sd / math.sqrt(n))
    return float(_scipy_stats.nct.sf(_scipy_stats.t.ppf((1 + confidence) / 2, df), df, shift))


def seeds_needed(effect: float, sd: float, target_power: float = 0.8, confidence: float = 0.95) -> int:
    """The fewest seeds for which :func:`power` reaches ``target_power``."""
    n = 2
    while power(effect, sd, n, confidence) < target_power:
        n += 1
        if n > 10_000:
            raise ValueError("more than 10,000 seeds needed: the effect is too small for its noise.")
    return n
