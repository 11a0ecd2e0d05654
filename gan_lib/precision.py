"""bfloat16 autocast: the command line's opt-in ``--bf16``, for CPUs (and GPUs) that multiply bf16 natively.

The book's own runs stay in fp32, so that the cached models are the same on every reader's machine; this module
is kept out of :mod:`gan_lib.runtime` so that it is no part of the code the cache's keys hash. Measured by
``benchmarks/bf16_autocast.py``.
"""
from __future__ import annotations

import contextlib

import torch


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
