"""What does keeping freed memory save? (``gan_lib.runtime.keep_freed_memory``, called by ``gan_lib.train.train``)

glibc's malloc setting is process-wide and cannot be undone, so the two sides run in two worker processes, one
with ``GAN_BOOK_KEEP_FREED_MEMORY=0`` (malloc left alone) and one with the setting, each holding a plain and a book
GAN. The main process asks them in turn (rotating the order each round, never two at once) to train a number of
steps and report the seconds and the minor page faults, then prints, per recipe, the median and quartiles of the
per-round ratio (kept / left alone) and the faults per step on each side. Run it on an otherwise idle machine:

    python benchmarks/freed_memory_cost.py                        # about three minutes on 2 CPU cores
    python benchmarks/freed_memory_cost.py --rounds 2 --steps 5   # a smoke test
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

from train_throughput import spread

RECIPES = ("plain", "book")
SIDES = {"left alone": "0", "kept": "1"}


def worker() -> None:
    """Read 'recipe steps' lines; train that many steps; answer with a JSON line of seconds and page faults."""
    import time

    from gan_lib.data import load_images
    from gan_lib.machinery import recipes
    from gan_lib.runtime import keep_freed_memory, pick_device
    from gan_lib.train import new_gan, train
    device = pick_device()
    images = load_images("fashion-mnist").images.to(device)
    gans = {name: new_gan(getattr(recipes, name.upper()), 0, device) for name in RECIPES}
    print(json.dumps({"kept": keep_freed_memory()}), flush=True)
    for line in sys.stdin:
        name, steps = line.split()
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        train(gans[name], images, int(steps), progress=False)
        seconds = time.perf_counter() - t0
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        print(json.dumps({"seconds": seconds, "faults": faults}), flush=True)


def ask(process: subprocess.Popen, name: str, steps: int) -> dict:
    process.stdin.write(f"{name} {steps}\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    parser.add_argument("--steps", type=int, default=100, help="generator steps per trial (default 100)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker()
    workers = {side: subprocess.Popen([sys.executable, __file__, "--worker"], text=True, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=os.environ | {"GAN_BOOK_KEEP_FREED_MEMORY": flag})
               for side, flag in SIDES.items()}
    in_force = {side: json.loads(w.stdout.readline())["kept"] for side, w in workers.items()}
    if in_force != {"left alone": False, "kept": True}:
        sys.exit(f"the setting is not in force as asked ({in_force}): glibc's mallopt is needed (Linux).")
    trials = [(name, side) for name in RECIPES for side in SIDES]
    for name, side in trials:  # warm-up
        ask(workers[side], name, 10)
    seconds = {trial: [] for trial in trials}
    faults = {trial: [] for trial in trials}
    for k in range(args.rounds):
        for name, side in trials[k % len(trials):] + trials[:k % len(trials)]:
            answer = ask(workers[side], name, args.steps)
            seconds[name, side].append(answer["seconds"] / args.steps)
            faults[name, side].append(answer["faults"] / args.steps)
    for w in workers.values():
        w.stdin.close()
        w.wait()
    print(f"{args.rounds} rounds of {args.steps} steps, order rotated each round; ratio: kept / left alone, per round")
    for name in RECIPES:
        ratio = spread([a / b for a, b in zip(seconds[name, "kept"], seconds[name, "left alone"])])
        ms = {side: 1e3 * spread(seconds[name, side])["median"] for side in SIDES}
        fps = {side: spread(faults[name, side])["median"] for side in SIDES}
        print(f"  {name:<6} step {ms['left alone']:5.1f} ms -> {ms['kept']:5.1f} ms: ratio median {ratio['median']:.3f}"
              f" (quartiles {ratio['q1']:.3f}-{ratio['q3']:.3f}); page faults per step "
              f"{fps['left alone']:.0f} -> {fps['kept']:.0f}")


if __name__ == "__main__":
    main()
