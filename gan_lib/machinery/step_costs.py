"""Machinery: is a chapter's equal-cost comparison at equal cost on this machine?

Chapters 4 and 5 train recipes for step counts fixed from cost ratios measured once (``recipes.BOOK_COST_RATIO``,
``DCGAN_COST_RATIO``, ``RESIZE_COST_RATIO``), so that their cached runs repeat exactly. :func:`seconds_per_step`
times the recipes again, interleaved (A, B, C, A, B, C, ...), and :func:`check_cost_ratio` compares the measured
ratio with the fixed one: a difference of more than ``TOLERANCE`` fails on a CPU outside the smoke budget (on the
book's reference machine the ratios were measured; elsewhere the chapter warns only, since another machine's
ratios are its own).
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
    """Print the measured and fixed ratios; fail (on a CPU, outside smoke) when they differ by more than TOLERANCE."""
    off = abs(here / fixed - 1)
    print(f"one {name} step costs {here:.2f} plain steps here; fixed in recipes: {fixed} ({off:.0%} apart)")
    if off <= TOLERANCE:
        return True
    message = (f"the measured {name} cost ratio {here:.2f} differs from the fixed {fixed} by more than "
               f"{TOLERANCE:.0%}: on this machine the equal-cost comparison is not at equal cost")
    print("WARNING:", message)
    if b.name != "smoke" and device.type == "cpu":
        raise AssertionError(message)
    return False
