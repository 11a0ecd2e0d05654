"""Machinery: is a chapter's equal-cost comparison at equal cost on this machine?

Chapters 4 and 5 train recipes for step counts fixed from cost ratios measured once (``recipes.BOOK_COST_RATIO``,
``DCGAN_COST_RATIO``, ``RESIZE_COST_RATIO``), so that their cached runs repeat exactly. :func:`seconds_per_step`
times the recipes again, interleaved (A, B, C, A, B, C, ...), and :func:`check_cost_ratio` compares the measured
ratio with the fixed one and prints what the difference means. It does not fail on a difference: the ratios are
those of the machines they were measured on (recipes.py says which), and another machine's are its own (two 2-core
CPUs of this project measured a DCGAN step at 4.7 and at 2.8 plain steps a day apart). It asserts only that the costlier recipe is costlier.
"""
from __future__ import annotations

import statistics
import time

import torch

from ..train import Recipe, new_gan, train
from .budgets import Budget

TOLERANCE = 0.4


def seconds_per_step(recipes: list[Recipe], images: torch.Tensor, step_counts: list[int], rounds: int = 5,
                     device: torch.device | None = None) -> list[list[float]]:
    """Seconds per step of each recipe in every round, timed in turn after a two-step warm-up."""
    device = device or images.device
    gans = [new_gan(r, seed=0, device=device) for r in recipes]
    for gan in gans:
        train(gan, images, 2, progress=False)
    times: list[list[float]] = [[] for _ in gans]
    for _ in range(rounds):
        for gan, t, n in zip(gans, times, step_counts):
            start = time.perf_counter()
            train(gan, images, n, progress=False)
            if device.type == "cuda":
                torch.cuda.synchronize()
            t.append((time.perf_counter() - start) / n)
    return times


def median_ratio(times: list[float], baseline: list[float]) -> float:
    """The median over rounds of the per-round ratio: robust to a round the machine was busy for."""
    return statistics.median(a / b for a, b in zip(times, baseline))


def check_cost_ratio(name: str, here: float, fixed: float, b: Budget, device: torch.device) -> bool:
    """Print the measured and the fixed ratio and what their difference means for the runs' seconds; return whether
    they agree within TOLERANCE. Asserted, on a CPU outside the smoke budget, is only that the recipe's step costs
    more than a plain one: the direction of the handicap that the equal-cost step counts give it."""
    share = here / fixed  # (steps / fixed * here) / steps: the recipe's seconds as a share of the plain run's
    print(f"one {name} step costs {here:.2f} plain steps here; fixed in recipes from the machine it was measured on: "
          f"{fixed} ({abs(share - 1):.0%} apart), so here its runs take {share:.0%} of the plain runs' seconds (100% there)")
    if b.name != "smoke" and device.type == "cpu":
        assert here > 1, f"a {name} step measured cheaper than a plain one ({here:.2f}): the equal-cost premise fails"
    if abs(share - 1) <= TOLERANCE:
        return True
    print(f"NOTE: more than {TOLERANCE:.0%} apart: the comparison is at equal cost on the machine the ratio was measured "
          f"on, not on this one (the step counts stay fixed, so that the cached runs repeat exactly)")
    return False
