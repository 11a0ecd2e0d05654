"""Where the book's computations run, and how they are made repeatable.

Every chapter calls :func:`pick_device` and :func:`seed_everything`, so the same
notebook runs on a laptop CPU, an NVIDIA GPU or an Apple GPU without edits. The trainer
calls :func:`keep_freed_memory`, a setting of the C library's allocator that spares the CPU
work that is not the GAN's arithmetic.
"""
from __future__ import annotations

import ctypes
import functools
import os
import random

import numpy as np
import torch


def pick_device() -> torch.device:
    """CUDA if present, then Apple's MPS, then the CPU.

    Set ``GAN_BOOK_DEVICE=cpu`` (or ``cuda``, ``mps``) to force one.
    """
    forced = os.environ.get("GAN_BOOK_DEVICE", "").strip().lower()
    if forced:
        if forced == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("GAN_BOOK_DEVICE=cuda, but torch sees no CUDA GPU. Unset it to use the CPU.")
        if forced == "mps" and not _mps_available():
            raise RuntimeError("GAN_BOOK_DEVICE=mps, but this torch has no MPS backend. Unset it to use the CPU.")
        if forced not in {"cpu", "cuda", "mps"}:
            raise ValueError(f"GAN_BOOK_DEVICE={forced!r} is not one of 'cpu', 'cuda', 'mps'.")
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a torch.Generator seeded alike.

    On the CPU, the same seed gives bit-identical training runs. cuDNN is asked for
    deterministic kernels too, though some GPU operations remain nondeterministic.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def describe(device: torch.device | None = None) -> str:
    """One line naming the device and thread count, printed at the top of each chapter."""
    device = device or pick_device()
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        name = "Apple GPU (MPS)"
    else:
        name = f"CPU, {torch.get_num_threads()} threads"
    return f"torch {torch.__version__} on {device.type}: {name}"


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # glibc's mallopt() parameters, from <malloc.h>


@functools.cache
def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it to the system (once per process).

    A training step frees and allocates the same blocks every step (activations, gradients, the weights that spectral
    normalisation divides). By default glibc may hand large freed blocks back to the kernel, and taking them again
    costs a page fault per 4 KiB, each page zeroed by the kernel: about 2,000 faults per step of the book's recipe
    on two cores (none for the plain recipe's step, whose blocks glibc's own rules happen to keep), measured by
    ``benchmarks/freed_memory_cost.py``. Kept, they are reused at no cost; the price is that the process holds on to
    its peak memory until it exits. ``GAN_BOOK_KEEP_FREED_MEMORY=0`` leaves malloc alone. Returns whether the
    setting is in force (never off glibc: macOS, Windows, musl).
    """
    if os.environ.get("GAN_BOOK_KEEP_FREED_MEMORY", "1").strip() == "0":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    # blocks up to 32 MiB (glibc's own upper limit for this threshold) from the heap, and no trimming below 256 MiB
    return bool(mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(M_TRIM_THRESHOLD, 256 << 20))
