"""The book's named training recipes, and the runs its chapters share through the cache.

``PLAIN`` is the source article's recipe: its MLPs, batch 64, Adam with lr 2e-4 and
betas (0.5, 0.999) (DCGAN's betas; the article leaves Adam's betas at their defaults
in its snippet, which the book corrects in chapter 3), nothing else.
``TUNED`` is chapter 4's recipe: the same networks and batch, plus dropout in the
discriminator and one-sided label smoothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from .budgets import Budget
from .train import Recipe

PLAIN = Recipe()
TUNED = Recipe(d_dropout=0.3, real_target=0.9)

# Cost of one TUNED step relative to one PLAIN step, measured on a 2-core CPU with
# benchmarks/train_throughput.py (interleaved runs, medians). Fixed here, not measured at
# run time, so that the cached seeded runs are reproducible; chapter 4 prints the seconds.
TUNED_COST_RATIO = 1.0

# Chapter 5's DCGAN (gan_lib.models.dcgan_generator / dcgan_discriminator, width 64): the
# source article's Adam and batch, nothing else (Radford et al. 2015 use no label smoothing).
DCGAN = Recipe(model="dcgan")

# Cost of one DCGAN step relative to one TUNED MLP step on a 2-core CPU: MEASURED_PLACEHOLDER
DCGAN_COST_RATIO = 10.0

SEEDS = (0, 1)


@dataclass(frozen=True)
class Run:
    name: str
    recipe: Recipe
    seed: int
    num_steps: int


def equal_cost_steps(num_steps: int, cost_ratio: float) -> int:
    """Steps of a recipe whose step costs ``cost_ratio`` times a baseline step, at the baseline's cost."""
    return max(1, round(num_steps / cost_ratio))


def chapter4_runs(b: Budget) -> list[Run]:
    """Chapter 4: the plain and the tuned recipe, two seeds each, at an equal training cost."""
    runs = [Run(f"plain-seed{s}", PLAIN, s, b.gan_steps) for s in SEEDS]
    runs += [Run(f"tuned-seed{s}", TUNED, s, equal_cost_steps(b.gan_steps, TUNED_COST_RATIO)) for s in SEEDS]
    return runs


def chapter5_runs(b: Budget) -> list[Run]:
    """Chapter 5: the DCGAN, two seeds, each at the training cost of one chapter-4 MLP run."""
    return [Run(f"dcgan-seed{s}", DCGAN, s, equal_cost_steps(b.gan_steps, DCGAN_COST_RATIO)) for s in SEEDS]


# Each chapter that trains GANs lists its runs in a function above and adds it here.
CHAPTER_RUNS = [chapter4_runs, chapter5_runs]


def book_runs(b: Budget) -> list[Run]:
    """Every GAN the chapters load from the cache at budget ``b`` (``python -m gan_lib cache warm``)."""
    return [run for chapter in CHAPTER_RUNS for run in chapter(b)]
