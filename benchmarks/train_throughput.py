"""How fast is gan_lib's training step? Three figures, measured in one run.

1. Images per second of ``gan_lib.train.train`` with the seed recipe (``Recipe()``,
   batch 64, data preloaded as one tensor) against the textbook loop: torchvision's
   ``FashionMNIST`` through ``ToTensor`` + ``Normalize`` and a ``DataLoader``
   (``num_workers`` 0 and 2), the same MLPs with a Sigmoid on D, ``nn.BCELoss``, the
   same Adam. "Images" are real images consumed per generator step (batch_size * d_steps).
2. The cost of one BOOK step relative to one PLAIN step (``gan_lib.machinery.recipes``), to
   compare with the value fixed in ``recipes.BOOK_COST_RATIO``, and the same with torch's own
   ``spectral_norm`` in D instead of ``gan_lib.spectral_norm`` (Eq. (ch4-sn-grad) by hand): its baseline.
3. The fraction of the machine's fp32 matmul rate (``torch.mm`` on 2048 x 2048) that
   gan_lib's step achieves at batch 64 and 256, from an analytic FLOP count
   (:func:`gan_lib_step_flops`, cross-checked with ``torch.utils.flop_counter``).
4. The cost of one step of chapter 5's DCGAN relative to one PLAIN step, with its spread over the rounds, to
   compare with ``recipes.DCGAN_COST_RATIO``. ``--step-costs`` measures only such ratios, for every recipe
   chapters 5 and 6 train (the DCGAN, its resize-convolution generator, chapter 6's remedies and games), with
   more rounds, and writes them to ``--out`` (benchmarks/results/step_costs_cpu.json on the book's machine).

``gan_lib.train.train`` keeps freed memory for reuse (``gan_lib.runtime.keep_freed_memory``), a setting of the whole
process: the script turns it on first, so the textbook loop, timed in the same process, has it too and the ratio does
not credit it to gan_lib (``benchmarks/freed_memory_cost.py`` measures what it saves).

Trials of all variants are interleaved (A, B, C, ..., A, B, C, ...), each variant is
warmed up first, and every ratio is the median of the per-round ratios: on a shared
machine only ratios within one run mean anything. Run it on an otherwise idle machine:

    python benchmarks/train_throughput.py            # about a minute on 2 CPU cores
    python benchmarks/train_throughput.py --quick    # a smoke test
    python benchmarks/train_throughput.py --step-costs --out benchmarks/results/step_costs_cpu.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

import torch
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode
from torchvision import datasets, transforms

from gan_lib import models
from gan_lib.data import load_images, random_batch
from gan_lib.losses import discriminator_loss, generator_loss
from gan_lib.machinery import recipes
from gan_lib.machinery.recipes import BOOK, BOOK_COST_RATIO, DCGAN, DCGAN_COST_RATIO, PLAIN
from gan_lib.runtime import describe, keep_freed_memory, pick_device
from gan_lib.train import Recipe, new_gan, train

TARGET_SPEEDUP = 1.8          # gan_lib / textbook loop (num_workers=0), batch 64 (issue 13)
TARGET_MATMUL_FRACTION = 0.85 # achieved / peak fp32 matmul rate, batch 256 (issue 13)
SEED = 0


# --- FLOPs ---------------------------------------------------------------------------------

def _linear_flops(model: nn.Module) -> tuple[int, int]:
    """(2 * sum of in*out over the Linear layers, 2 * in*out of the first one): FLOPs per image."""
    dims = [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]
    return 2 * sum(i * o for i, o in dims), 2 * dims[0][0] * dims[0][1]


def gan_lib_step_flops(recipe: Recipe) -> int:
    """Matmul FLOPs of one generator step of ``gan_lib.train.train`` (biases and elementwise ops ignored).

    For a Linear layer in -> out and one image, a forward costs 2*in*out, and the backward
    costs 2*in*out for the weight gradient plus 2*in*out for the input gradient, each only
    where autograd needs it. Write F(G), F(D) for the forward cost of a whole network and
    F1(G), F1(D) for that of its first layer. Per image:

    * each of the ``d_steps`` discriminator steps:
      G forward on z                                     F(G)
      D forward on real and on fake.detach()             2 F(D)
      D backward on both, weight gradients               2 F(D)
      D backward on both, input gradients of every layer
      but the first (its input, real or detached fake,
      does not require grad)                             2 (F(D) - F1(D))
    * the generator step (reuses the last ``fake``):
      D forward on fake                                  F(D)
      D backward, input gradients only (D frozen), down
      to the image, which G needs                        F(D)
      G backward, weight gradients                       F(G)
      G backward, input gradients but the first (z)      F(G) - F1(G)

    A textbook step that leaves D's weights requiring grad in the generator step costs
    F(D) more per image (D's weight gradients, computed and thrown away).
    """
    G, D = models.build(recipe)
    fg, fg1 = _linear_flops(G)
    fd, fd1 = _linear_flops(D)
    d_step = fg + 2 * fd + 2 * fd + 2 * (fd - fd1)
    g_step = fd + fd + fg + (fg - fg1)
    return recipe.batch_size * (recipe.d_steps * d_step + g_step)


def counted_step_flops(recipe: Recipe, images: torch.Tensor, device: torch.device) -> int:
    """The same count taken by torch's FlopCounterMode over one real step (matmuls only)."""
    gan = new_gan(recipe, SEED, device)
    with FlopCounterMode(display=False) as counter:
        train(gan, images, 1, progress=False)
    return counter.get_total_flops()


# --- what is timed -------------------------------------------------------------------------

def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def matmul_run(device: torch.device, n: int = 2048):
    """A 'variant' whose one step is one n x n fp32 torch.mm (2 n^3 FLOPs)."""
    a, b = (torch.randn(n, n, device=device) for _ in range(2))
    return lambda num_steps: [torch.mm(a, b) for _ in range(num_steps)]


def gan_lib_run(recipe: Recipe, images: torch.Tensor, device: torch.device):
    """``num_steps`` generator steps of ``gan_lib.train.train``."""
    gan = new_gan(recipe, SEED, device)
    return lambda num_steps: train(gan, images, num_steps, progress=False)


def torch_sn_run(images: torch.Tensor, device: torch.device):
    """BOOK with torch's own ``spectral_norm`` in D instead of ``gan_lib.spectral_norm``: the baseline of the
    hand-written backward pass of Eq. (ch4-sn-grad). The same forward values, the same run up to float rounding."""
    with mock.patch.object(models, "spectral_norm", nn.utils.parametrizations.spectral_norm):
        gan = new_gan(BOOK, SEED, device)
    return lambda num_steps: train(gan, images, num_steps, progress=False)


def textbook_run(root: Path, device: torch.device, num_workers: int, batch_size: int = 64):
    """The common textbook loop: torchvision dataset + DataLoader, Sigmoid + BCELoss, Adam for both."""
    torch.manual_seed(SEED)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    dataset = datasets.FashionMNIST(str(root), train=True, download=False, transform=transform)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=num_workers, drop_last=True)
    G = models.mlp_generator().to(device)
    D = nn.Sequential(models.mlp_discriminator(), nn.Sigmoid()).to(device)
    criterion = nn.BCELoss()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ones = torch.ones(batch_size, 1, device=device)
    zeros = torch.zeros(batch_size, 1, device=device)
    batches, losses = _forever(loader), []

    def run(num_steps: int) -> None:
        for _ in range(num_steps):
            real, _ = next(batches)
            real = real.to(device)
            z = torch.randn(batch_size, models.LATENT_DIM, device=device)
            fake = G(z)
            opt_d.zero_grad()
            loss_d = criterion(D(real), ones) + criterion(D(fake.detach()), zeros)
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = criterion(D(fake), ones)
            loss_g.backward()
            opt_g.step()
            losses.append((loss_d.item(), loss_g.item()))
    return run


def _forever(loader: DataLoader):
    while True:  # one epoch after another, as the textbook's `for epoch in ...` does
        yield from loader


# --- the cost of one step of each recipe, relative to PLAIN (chapters 5 and 6) ----------------

TORCH_SN = "book, torch's spectral_norm"   # the baseline of gan_lib.spectral_norm's backward pass


def cost_recipes() -> dict[str, Recipe]:
    """Every recipe chapters 5 and 6 train, by name: the step costs their equal-cost step counts rest on."""
    named = {"plain": PLAIN, "book": BOOK, "dcgan": DCGAN, "dcgan-resize": recipes.RESIZE_DCGAN}
    return named | {f"ch6 {name}": r for name, r in recipes.CHAPTER6_REMEDIES.items() if r != PLAIN}


def spread(ratios: list[float]) -> dict:
    """The median of the per-round ratios and their spread: quartiles, least and largest."""
    q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
    return {"median": statistics.median(ratios), "q1": q1, "q3": q3, "min": min(ratios), "max": max(ratios),
            "rounds": ratios}


def step_costs(images: torch.Tensor, device: torch.device, repeats: int, steps: int) -> dict[str, dict]:
    """Seconds per step of each of :func:`cost_recipes`, timed in turn (plain, A, plain, B, ...: every round times
    each once, in a rotated order), and each recipe's per-round ratio to PLAIN with its spread."""
    named = cost_recipes()
    runs = {name: gan_lib_run(r, images, device) for name, r in named.items()}
    runs[TORCH_SN] = torch_sn_run(images, device)
    trial = {name: max(2, steps // 4) if name in named and named[name].model != "mlp" else steps for name in runs}
    for name, run in runs.items():  # warm-up
        run(2)
    seconds = {name: [] for name in runs}
    names = list(runs)
    for k in range(repeats):
        for name in names[k % len(names):] + names[:k % len(names)]:
            sync(device)
            t0 = time.perf_counter()
            runs[name](trial[name])
            sync(device)
            seconds[name].append((time.perf_counter() - t0) / trial[name])
        print(f"round {k + 1}/{repeats}: plain {1e3 * seconds['plain'][-1]:.1f} ms/step, dcgan "
              f"{1e3 * seconds['dcgan'][-1]:.1f} ms/step", file=sys.stderr)
    return {name: {"ms_per_step": 1e3 * statistics.median(t),
                   "ratio_to_plain": spread([a / b for a, b in zip(t, seconds["plain"])])}
            for name, t in seconds.items()}


def report_step_costs(costs: dict[str, dict], device: torch.device, out: str | None) -> None:
    fixed = {"book": BOOK_COST_RATIO, "dcgan": DCGAN_COST_RATIO, "dcgan-resize": recipes.RESIZE_COST_RATIO}
    print(f"\n{describe(device)}; cost of one step relative to one PLAIN step, per-round ratios")
    print(f"{'recipe':<26}{'ms/step':>9}{'median':>8}{'quartiles':>16}{'range':>16}{'fixed':>8}")
    for name, c in costs.items():
        r = c["ratio_to_plain"]
        print(f"{name:<26}{c['ms_per_step']:>9.1f}{r['median']:>8.2f}{r['q1']:>8.2f}-{r['q3']:<7.2f}"
              f"{r['min']:>8.2f}-{r['max']:<7.2f}{fixed.get(name, ''):>8}")
    if out:
        Path(out).write_text(json.dumps({"device": describe(device), "load_average": os.getloadavg()[0],
                                         "costs": costs}, indent=1))
        print(f"written to {out}")


# --- the measurement -----------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 5; 9 with --step-costs)")
    parser.add_argument("--steps", type=int, default=60, help="generator steps per trial at batch 64 (default 60)")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 15 steps: a smoke test, not a measurement")
    parser.add_argument("--step-costs", action="store_true",
                        help="only the step-cost ratios of chapters 5 and 6's recipes (default 9 rounds)")
    parser.add_argument("--out", default=None, help="with --step-costs: write the ratios to this JSON file")
    args = parser.parse_args()
    default_repeats = 9 if args.step_costs else 5
    repeats, steps = (3, 15) if args.quick else (args.repeats or default_repeats, args.steps)
    keep_freed_memory()  # for every variant alike (see the docstring)
    if args.step_costs:
        device = pick_device()
        images = load_images("fashion-mnist").images.to(device)
        report_step_costs(step_costs(images, device, repeats, steps), device, args.out)
        return
    started, load_at_start = time.perf_counter(), os.getloadavg()[0]

    device = pick_device()
    data = load_images("fashion-mnist")
    images = data.images.to(device)
    root = Path(data.source).parents[1]
    big = Recipe(batch_size=256)
    # name -> (run, steps per trial, recipe it trains, whether it does gan_lib_step_flops(recipe) per step)
    variants = {
        "gan_lib train, PLAIN": (gan_lib_run(PLAIN, images, device), steps, PLAIN, True),
        "textbook loop, num_workers=0": (textbook_run(root, device, 0), steps, PLAIN, False),
        "textbook loop, num_workers=2": (textbook_run(root, device, 2), steps, PLAIN, False),
        "gan_lib train, BOOK": (gan_lib_run(BOOK, images, device), steps, BOOK, True),
        "gan_lib train, BOOK, torch's spectral_norm": (torch_sn_run(images, device), steps, BOOK, True),
        "gan_lib train, PLAIN, batch 256": (gan_lib_run(big, images, device), max(1, steps // 4), big, True),
        "gan_lib train, DCGAN (chapter 5)": (gan_lib_run(DCGAN, images, device), max(2, steps // 4), DCGAN, False),
    }
    peak_run, peak_steps, peak_flops = matmul_run(device), 4, 2 * 2048 ** 3

    for run, *_ in [*variants.values(), (peak_run,)]:  # warm-up: allocator, threads, DataLoader workers
        run(5)
    sync(device)

    def timed(run, num_steps: int) -> float:
        sync(device)
        t0 = time.perf_counter()
        run(num_steps)
        sync(device)
        return time.perf_counter() - t0

    seconds_per_step = {name: [] for name in [*variants, "peak"]}
    names = list(variants) + ["peak"]
    for k in range(repeats):
        for name in names[k % len(names):] + names[:k % len(names)]:  # rotate the order each round
            run, n = (peak_run, peak_steps) if name == "peak" else variants[name][:2]
            seconds_per_step[name].append(timed(run, n) / n)
        print(f"round {k + 1}/{repeats}: gan_lib {PLAIN.batch_size / seconds_per_step['gan_lib train, PLAIN'][-1]:.0f}"
              f" images/s, torch.mm {peak_flops / seconds_per_step['peak'][-1] / 1e9:.0f} GFLOP/s"
              f" ({time.perf_counter() - started:.0f} s; a round far off the others was disturbed)", file=sys.stderr)

    images_per_s = {name: [r.batch_size * r.d_steps / t for t in seconds_per_step[name]]
                    for name, (_, _, r, _) in variants.items()}
    peak_gflops = [peak_flops / t / 1e9 for t in seconds_per_step["peak"]]
    gflops = {name: [gan_lib_step_flops(r) / t / 1e9 for t in seconds_per_step[name]]
              for name, (_, _, r, flops) in variants.items() if flops}

    def paired(a: list[float], b: list[float]) -> float:  # median over rounds of a / b
        return statistics.median(x / y for x, y in zip(a, b))

    med = statistics.median
    speedup0 = paired(images_per_s["gan_lib train, PLAIN"], images_per_s["textbook loop, num_workers=0"])
    speedup2 = paired(images_per_s["gan_lib train, PLAIN"], images_per_s["textbook loop, num_workers=2"])
    tuned_cost = paired(seconds_per_step["gan_lib train, BOOK"], seconds_per_step["gan_lib train, PLAIN"])
    torch_sn_cost = paired(seconds_per_step["gan_lib train, BOOK, torch's spectral_norm"],
                           seconds_per_step["gan_lib train, PLAIN"])
    dcgan_cost = [d / p for d, p in zip(seconds_per_step["gan_lib train, DCGAN (chapter 5)"],
                                        seconds_per_step["gan_lib train, PLAIN"])]
    fraction = {name: paired(g, peak_gflops) for name, g in gflops.items()}

    analytic = gan_lib_step_flops(PLAIN) / PLAIN.batch_size
    counted = counted_step_flops(PLAIN, images, device) / PLAIN.batch_size

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(f"\n{describe(device)}; {repeats} interleaved rounds, {steps} steps per trial at batch 64; medians")
    print(f"load average at start {load_at_start:.2f}, at end {os.getloadavg()[0]:.2f} (run on an idle machine)")
    print(f"FLOPs of one gan_lib step per image: {analytic / 1e6:.2f} M analytic, "
          f"{counted / 1e6:.2f} M counted by FlopCounterMode")
    print(f"torch.mm 2048 x 2048 fp32: {med(peak_gflops):.0f} GFLOP/s (median; best {max(peak_gflops):.0f})\n")
    print(f"{'variant':<44}{'batch':>6}{'images/s':>10}{'vs textbook0':>13}{'GFLOP/s':>9}{'of peak':>9}")
    textbook0 = images_per_s["textbook loop, num_workers=0"]
    for name, (_, _, r, _) in variants.items():
        vs = f"{paired(images_per_s[name], textbook0):.2f}x" if r.batch_size == 64 else "-"
        g = f"{med(gflops[name]):.1f}" if name in gflops else "-"
        f = f"{fraction[name]:.2f}" if name in fraction else "-"
        print(f"{name:<44}{r.batch_size:>6}{med(images_per_s[name]):>10.0f}{vs:>13}{g:>9}{f:>9}")
    print()
    rows = [
        ("gan_lib / textbook (num_workers=0), batch 64", f"{speedup0:.2f}x", f">= {TARGET_SPEEDUP}x",
         verdict(speedup0 >= TARGET_SPEEDUP)),
        ("gan_lib / textbook (num_workers=2), batch 64", f"{speedup2:.2f}x", "-", "-"),
        ("achieved / peak matmul, batch 64", f"{fraction['gan_lib train, PLAIN']:.2f}", "-", "-"),
        ("achieved / peak matmul, batch 256", f"{fraction['gan_lib train, PLAIN, batch 256']:.2f}",
         f">= {TARGET_MATMUL_FRACTION}", verdict(fraction["gan_lib train, PLAIN, batch 256"] >= TARGET_MATMUL_FRACTION)),
        ("BOOK / PLAIN cost of one step", f"{tuned_cost:.3f}", f"fixed: {BOOK_COST_RATIO}", "-"),
        ("the same with torch's spectral_norm in D", f"{torch_sn_cost:.3f}", "-", "-"),
        (f"DCGAN / PLAIN cost of one step (range {min(dcgan_cost):.2f}-{max(dcgan_cost):.2f})",
         f"{statistics.median(dcgan_cost):.3f}", f"fixed: {DCGAN_COST_RATIO}", "-"),
    ]
    print(f"{'figure':<58}{'measured':>10}{'target':>14}{'':>3}{'status'}")
    for label, value, target, status in rows:
        print(f"{label:<58}{value:>10}{target:>14}   {status}")
    print(f"\n({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
