"""Would bfloat16 autocast make the book's CPU runs better? Speed and quality, measured in one run.

Why this is not the book's default: bf16 matrix multiplies are fast only on CPUs with native bf16 instructions
(AVX512-BF16 or AMX); elsewhere they are far slower than fp32 (13 to 15 times, measured with oneDNN limited to
AVX2). The book's cached runs must be the same on every reader's machine, so they stay fp32; this script tells a
reader with such a CPU what they gain.

1. Whether this CPU has native bf16 (:func:`gan_lib.precision.native_bf16`); without it, only the timing runs.
   ``ONEDNN_MAX_CPU_ISA=AVX2`` limits oneDNN (not the rest of torch) to AVX2, to time that case.
2. Seconds per step of the plain and the book's recipe (``gan_lib.machinery.recipes``), fp32 against
   ``torch.autocast("cpu", dtype=torch.bfloat16)``, the four variants timed in turn (A, B, C, D, A, B, ...) after a
   warm-up; every ratio is the median of the per-round ratios.
3. Quality: the book's recipe under autocast from ``recipes.CONFIRM_SEEDS``, (a) at the book's step count, against
   the cached fp32 runs of chapter 4 (does bf16 hurt?), and (b) at the steps that fit the fp32 runs' seconds, from
   the speed-up measured in 2 (does it help?). The FD is chapter 4's: 10,000 samples of seed 123 against the test
   images, with the cached classifier; the comparison is :func:`gan_lib.stats.paired`, by seed.

    python benchmarks/bf16_autocast.py            # about 8 minutes on 2 CPU cores, on an idle machine
    python benchmarks/bf16_autocast.py --quick    # a smoke test: timing only, a few steps
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch

from gan_lib import metrics, stats
from gan_lib.data import load_images
from gan_lib.machinery import budgets, cache, recipes
from gan_lib.precision import autocast_without_cache, native_bf16
from gan_lib.runtime import describe, seed_everything
from gan_lib.train import GAN, Recipe, new_gan, train, train_recipe

DEVICE = torch.device("cpu")


def autocast(enabled: bool) -> contextlib.AbstractContextManager:
    """What ``--bf16`` runs (:func:`gan_lib.precision.autocast_without_cache`), unchecked, so that a CPU without
    native bf16 can be timed too; or nothing."""
    return autocast_without_cache(DEVICE) if enabled else contextlib.nullcontext()


def seconds_per_step(variants: list[tuple[Recipe, bool]], images: torch.Tensor, steps: int,
                     rounds: int) -> list[list[float]]:
    """Seconds per step of each (recipe, bf16) variant in every round, timed in turn after a warm-up."""
    gans = [new_gan(recipe, seed=0, device=DEVICE) for recipe, _ in variants]
    for gan, (_, bf16) in zip(gans, variants):
        with autocast(bf16):
            train(gan, images, 3, progress=False)
    times: list[list[float]] = [[] for _ in variants]
    for _ in range(rounds):
        for gan, (_, bf16), t in zip(gans, variants, times):
            start = time.perf_counter()
            with autocast(bf16):
                train(gan, images, steps, progress=False)
            t.append((time.perf_counter() - start) / steps)
    return times


def median_ratio(times: list[float], baseline: list[float]) -> float:
    """The median over rounds of times[i] / baseline[i]."""
    return statistics.median(a / b for a, b in zip(times, baseline))


def trained_bf16(recipe: Recipe, seed: int, steps: int) -> GAN:
    """A run of ``recipe`` from ``seed`` with every step under bf16 autocast (not cached: this script's question)."""
    with autocast(True):
        return train_recipe(recipe, seed, steps, DEVICE, progress=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="timing only, a few steps (a smoke test)")
    parser.add_argument("--rounds", type=int, default=7, help="timing rounds (default 7)")
    parser.add_argument("--steps", type=int, default=40, help="steps per variant per round (default 40)")
    args = parser.parse_args()
    seed_everything(0)
    native = native_bf16(DEVICE)
    print(f"{describe(DEVICE)}; native bf16 on this CPU: {native}")

    images = load_images("fashion-mnist", "train").images
    rounds, steps = (2, 3) if args.quick else (args.rounds, args.steps)
    variants = [(recipes.PLAIN, False), (recipes.PLAIN, True), (recipes.BOOK, False), (recipes.BOOK, True)]
    t = seconds_per_step(variants, images, steps, rounds)
    print(f"\nseconds per step, median of {rounds} interleaved rounds of {steps} steps:")
    for (recipe, bf16), times in zip(variants, t):
        name = "book " if recipe == recipes.BOOK else "plain"
        print(f"  {name} {'bf16' if bf16 else 'fp32'}   {1000 * statistics.median(times):6.1f} ms")
    plain_speedup, book_speedup = median_ratio(t[0], t[1]), median_ratio(t[2], t[3])
    print(f"  bf16 speed-up (fp32 time / bf16 time, median of per-round ratios): plain {plain_speedup:.2f}x, "
          f"book {book_speedup:.2f}x")
    if args.quick or not native:
        return                     # without native bf16 the speed-up is the answer (below 1: nothing to gain)

    b = budgets.BUDGETS["cpu"]
    book_steps = recipes.equal_cost_steps(b.gan_steps, recipes.BOOK_COST_RATIO)
    fast_steps = round(book_steps * book_speedup)
    classifier = cache.trained_classifier("fashion-mnist", device=DEVICE)
    real_test = load_images("fashion-mnist", "test").images[:b.fd_samples]

    def fd(gan: GAN) -> float:
        return metrics.fd(classifier, gan.sample(b.fd_samples, seed=123), real_test)

    seeds = recipes.CONFIRM_SEEDS
    fp32 = [fd(cache.trained_gan(recipes.BOOK, s, book_steps, DEVICE)) for s in seeds]
    print(f"\nthe book's recipe, seeds {seeds}, FD against the {b.fd_samples} test images:")
    print(f"  fp32, {book_steps} steps (chapter 4's cached runs): " + "  ".join(f"{x:.1f}" for x in fp32))
    same, more, seconds = [], [], []
    for s in seeds:
        same.append(fd(trained_bf16(recipes.BOOK, s, book_steps)))
        gan = trained_bf16(recipes.BOOK, s, fast_steps)
        more.append(fd(gan))
        seconds.append(gan.seconds)
    print(f"  bf16, {book_steps} steps (the same steps):       " + "  ".join(f"{x:.1f}" for x in same))
    print(f"  bf16, {fast_steps} steps (the fp32 runs' seconds, from the interleaved speed-up above; these runs took "
          + ", ".join(f"{x:.0f}" for x in seconds) + " s): " + "  ".join(f"{x:.1f}" for x in more))
    print("\n(a) does bf16 hurt at the same steps?")
    print(stats.paired(same, fp32, seeds=seeds, names=("bf16", "fp32")))
    print("(b) does it help in the same seconds?")
    print(stats.paired(more, fp32, seeds=seeds, names=("bf16, more steps", "fp32")))
    print("three seeds a side: an interval, not a verdict that would stand in for chapter 4's confirmation")


if __name__ == "__main__":
    main()
