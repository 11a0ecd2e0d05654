"""Where does a training step's time go? ``torch.profiler`` over gan_lib's step, by operator, and host syncs on a GPU.

Prints the profiler's table (self time per operator, sorted) for ``--steps`` steps of a recipe after a warm-up,
then the share of the step spent in matrix multiplies (``aten::mm``, ``aten::addmm``) and in everything else, and
the time of the step's matrix multiplies alone, replayed with nothing in between (the floor that removing every
other cost would reach), and the page faults per step (memory the kernel maps afresh: none, once freed blocks are
kept for reuse).
On a CUDA device it also counts how often the host waits for the GPU during training (``torch.cuda``'s sync
debug mode): the loop is written so that it never waits per step (the history is kept on the device and read
in blocks, the batches are indexed on the device), so the count should be about one per block and per sample grid.

    python benchmarks/profile_step.py                 # the plain recipe, 100 steps, about 10 s on 2 CPU cores
    python benchmarks/profile_step.py --recipe book   # the book's recipe
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings

import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils._python_dispatch import TorchDispatchMode

from gan_lib.data import load_images
from gan_lib.machinery import recipes
from gan_lib.runtime import describe, pick_device
from gan_lib.train import new_gan, train


def profile_table(recipe, images: torch.Tensor, device: torch.device, num_steps: int, rows: int) -> tuple[str, float]:
    """(the profiler's table, share of self time in matrix multiplies) over ``num_steps`` steps."""
    gan = new_gan(recipe, 0, device)
    train(gan, images, 20, progress=False)  # warm-up
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        train(gan, images, num_steps, progress=False)
    events = prof.key_averages()
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    total = sum(getattr(e, key.replace("_total", "_total")) for e in events)
    matmul = sum(getattr(e, key) for e in events if e.key in ("aten::mm", "aten::addmm", "aten::bmm"))
    return events.table(sort_by=key, row_limit=rows), matmul / total if total else float("nan")


MATMULS = (torch.ops.aten.mm.default, torch.ops.aten.addmm.default)


class _RecordMatmuls(TorchDispatchMode):
    """Notes the shape and strides of every argument of each matrix multiply that runs inside it."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in MATMULS:
            self.calls.append((func, [(a.shape, a.stride()) for a in args if isinstance(a, torch.Tensor)]))
        return func(*args, **(kwargs or {}))


def matmul_floor(recipe, images: torch.Tensor, device: torch.device, num_steps: int) -> tuple[float, float, float]:
    """(seconds per step of the matrix multiplies alone, seconds per training step, matmul FLOPs per step).

    The multiplies of one step are recorded, then replayed on fresh tensors of the same shapes and layouts, with
    nothing in between: the time a step would take if everything else cost nothing.
    """
    gan = new_gan(recipe, 0, device)
    train(gan, images, 5, progress=False)
    with _RecordMatmuls() as recorder:
        train(gan, images, 1, progress=False)

    def like(shape, stride):
        size = sum((n - 1) * s for n, s in zip(shape, stride)) + 1
        return torch.randn(size, device=device).as_strided(shape, stride)

    replay = [(func, [like(*a) for a in args]) for func, args in recorder.calls]
    flops = sum(2 * args[-2][0][0] * args[-2][0][1] * args[-1][0][1] for _, args in recorder.calls)

    def replay_steps() -> None:
        for _ in range(num_steps):
            for func, args in replay:
                func(*args)

    seconds = {}
    for name, run in (("replay", replay_steps), ("step", lambda: train(gan, images, num_steps, progress=False))):
        run()  # warm-up
        _sync(device)
        t0 = time.perf_counter()
        run()
        _sync(device)
        seconds[name] = (time.perf_counter() - t0) / num_steps
    return seconds["replay"], seconds["step"], flops


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def page_faults_per_step(recipe, images: torch.Tensor, device: torch.device, num_steps: int) -> float:
    """Minor page faults of this process per training step: memory the kernel had to map (and zero) afresh."""
    gan = new_gan(recipe, 0, device)
    train(gan, images, 5, progress=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    train(gan, images, num_steps, progress=False)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / num_steps


def host_syncs_per_step(recipe, images: torch.Tensor, device: torch.device, num_steps: int) -> float:
    """On CUDA: how many times per step the host waits for the device during ``train`` (sync debug mode)."""
    gan = new_gan(recipe, 0, device)
    train(gan, images, 5, progress=False)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            train(gan, images, num_steps, progress=False)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught) / num_steps


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--recipe", choices=["plain", "book"], default="plain")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--rows", type=int, default=25)
    args = p.parse_args(argv)
    device = pick_device()
    recipe = recipes.PLAIN if args.recipe == "plain" else recipes.BOOK
    images = load_images("fashion-mnist", "train").images.to(device)
    start = time.perf_counter()
    table, share = profile_table(recipe, images, device, args.steps, args.rows)
    print(f"{describe(device)}; {args.recipe} recipe, batch {recipe.batch_size}, {args.steps} steps profiled\n")
    print(table)
    print(f"matrix multiplies: {share:.0%} of the profiled self time; everything else: {1 - share:.0%}")
    replay, step, flops = matmul_floor(recipe, images, device, args.steps)
    print(f"the step's {flops / 1e9:.2f} GFLOP of matrix multiplies alone, replayed with the same shapes and layouts: "
          f"{1e3 * replay:.1f} ms ({flops / replay / 1e9:.0f} GFLOP/s), against {1e3 * step:.1f} ms for the whole "
          f"step: everything else costs {1 - replay / step:.0%} of it, the most that removing it could save")
    print(f"page faults per step: {page_faults_per_step(recipe, images, device, args.steps):.1f} (with freed memory "
          "kept, gan_lib.runtime.keep_freed_memory; benchmarks/freed_memory_cost.py compares with malloc left alone)")
    if device.type == "cuda":
        print(f"host syncs per training step: {host_syncs_per_step(recipe, images, device, 500):.3f} "
              "(0 would be none; one block read per 250 steps gives 0.004)")
    else:
        print("host syncs: not applicable on the CPU (every operation is synchronous there)")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
