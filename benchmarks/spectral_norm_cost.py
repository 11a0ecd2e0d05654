"""What does the hand-written backward pass of spectral normalisation save? (``gan_lib.spectral_norm``, chapter 4)

Times three runs of ``gan_lib.train.train`` in turn, rotating the order each round: the plain recipe, the book's
recipe (spectral normalisation by ``gan_lib.spectral_norm``, Eq. (ch4-sn-grad) as its backward pass) and the book's
recipe with torch's own ``nn.utils.parametrizations.spectral_norm`` in D (autograd through its products). The
forward passes are the same to the bit; only the backward pass differs. Prints the medians and quartiles of the
per-round ratios. Run it on an otherwise idle machine:

    python benchmarks/spectral_norm_cost.py              # about a minute on 2 CPU cores
    python benchmarks/spectral_norm_cost.py --rounds 3 --steps 10   # a smoke test
"""
from __future__ import annotations

import argparse
import time

from train_throughput import TORCH_SN, gan_lib_run, spread, sync, torch_sn_run

from gan_lib.data import load_images
from gan_lib.machinery.recipes import BOOK, PLAIN
from gan_lib.runtime import describe, pick_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (default 15)")
    parser.add_argument("--steps", type=int, default=60, help="generator steps per trial (default 60)")
    args = parser.parse_args()
    device = pick_device()
    images = load_images("fashion-mnist").images.to(device)
    runs = {"plain": gan_lib_run(PLAIN, images, device), "book": gan_lib_run(BOOK, images, device),
            TORCH_SN: torch_sn_run(images, device)}
    for run in runs.values():  # warm-up
        run(5)
    seconds, names = {name: [] for name in runs}, list(runs)
    for k in range(args.rounds):
        for name in names[k % len(names):] + names[:k % len(names)]:
            sync(device)
            t0 = time.perf_counter()
            runs[name](args.steps)
            sync(device)
            seconds[name].append((time.perf_counter() - t0) / args.steps)
    print(f"{describe(device)}; {args.rounds} interleaved rounds of {args.steps} steps; per-round ratios of seconds")
    for a, b in [("book", "plain"), (TORCH_SN, "plain"), ("book", TORCH_SN)]:
        r = spread([x / y for x, y in zip(seconds[a], seconds[b])])
        print(f"  {a + ' / ' + b:<50} median {r['median']:.3f}, quartiles {r['q1']:.3f} to {r['q3']:.3f}")


if __name__ == "__main__":
    main()
