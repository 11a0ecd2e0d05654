"""Where the book's computations run, and how they are made repeatable.

Every chapter calls :func:`pick_device` and :func:`seed_everything`, so the same
notebook runs on a laptop CPU, an NVIDIA GPU or an Apple GPU without edits. The trainer
calls :func:`keep_freed_memory`, a setting of the C library's allocator that spares the CPU
work that is not the GAN's arithmetic. :func:`bf16_autocast` is the command line's opt-in
``--bf16``; the book's own runs stay in fp32.
"""
from __future__ import annotations

import contextlib
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


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices natively: a CUDA GPU that supports bf16, or a CPU with
    AVX512-BF16 or AMX (oneDNN's own check). Elsewhere bf16 is far slower than fp32 (13-15x measured on a CPU with
    oneDNN limited to AVX2, ``benchmarks/results/bf16_autocast_cpu_avx2.txt``)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def bf16_autocast(device: torch.device | str) -> contextlib.AbstractContextManager:
    """bfloat16 autocast for whole training runs on ``device`` (matrix multiplies in bf16, losses and Adam in fp32).

    The weight cache is off. Autocast keeps the bf16 copy of each weight until the outermost ``with`` block ends;
    around a whole run, every step after the first would use the *first* weights (``benchmarks/bf16_autocast.py``
    saw such runs collapse to an FD of about 6,000). Measured there on a 2-core CPU with AVX512-BF16: steps 1.6x
    (the book's recipe) to 1.9x (plain) faster. bf16 runs are not bit-identical to fp32 ones.
    """
    device = torch.device(device)
    if not native_bf16(device):
        raise ValueError(f"this {device.type} has no native bfloat16 (a CPU needs AVX512-BF16 or AMX), so bf16 "
                         "would be slower than fp32 here: train without --bf16.")
    return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=False)
