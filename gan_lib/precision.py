"""bfloat16 autocast: the command line's opt-in ``--bf16``, for CPUs (and GPUs) that multiply bf16 natively.

The book's own runs stay in fp32, so that the cached models are the same on every reader's machine; this module
is kept out of :mod:`gan_lib.runtime` so that it is no part of the code the cache's keys hash. Measured by
``benchmarks/bf16_autocast.py``.
"""
from __future__ import annotations

import contextlib

import torch


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices natively: a CUDA GPU with bf16 arithmetic (not emulated), or
    a CPU with AVX512-BF16 or AMX (and oneDNN not limited to AVX2 or below). Elsewhere bf16 is far slower than fp32
    (13-15x measured with oneDNN limited to AVX2, ``benchmarks/results/bf16_autocast_cpu_avx2.txt``)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type != "cpu":
        return False
    has_instructions = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return has_instructions and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())   # oneDNN's own check: its ISA limit


def autocast_without_cache(device: torch.device | str) -> contextlib.AbstractContextManager:
    """bf16 autocast with the weight cache off, unchecked (``benchmarks/bf16_autocast.py`` times it anywhere).

    Autocast keeps the bf16 copy of each weight until the outermost ``with`` block ends; around a whole run, every
    step after the first would use the *first* weights (the benchmark saw such runs collapse to an FD of about
    6,000). Without the cache each step casts the weights it has.
    """
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16, cache_enabled=False)


def bf16_autocast(device: torch.device | str) -> contextlib.AbstractContextManager:
    """bf16 autocast for whole training runs on ``device``, refused where bf16 is not native.

    Under it the matrix multiplies run in bf16, and so do what takes their outputs: the logits, the book's BCE and
    its gradient (chapter 2's Function; a target of 0.9 becomes 0.898), spectral normalisation's power iteration,
    the history's values and the sample grids. The weights, their gradients and Adam's state stay fp32, and so does
    the moving average of G. Measured on a 2-core CPU with AVX512-BF16: steps 1.6x (the book's recipe) to 1.9x
    (plain) faster. bf16 runs are not bit-identical to fp32 ones, and a checkpoint does not record the precision.
    """
    device = torch.device(device)
    if not native_bf16(device):
        needs = "a GPU of compute capability 8.0 or more" if device.type == "cuda" else "AVX512-BF16 or AMX"
        raise ValueError(f"this {device.type} device has no native bfloat16 ({needs}), so bf16 would be slower than "
                         "fp32 here: train without --bf16.")
    return autocast_without_cache(device)
