"""An exponential moving average of the generator's weights (chapter 4): what the book's recipe samples from.

The generator's weights keep moving as the two networks chase each other, and a snapshot taken at any one step
carries that step's noise, speckle included. Their running average, Eq. (ch4-ema), moves slowly and smoothly;
it is not trained itself and costs one pass over the weights per step (Karras et al. 2018; Yazici et al. 2019).
"""
from __future__ import annotations

import torch
from torch import nn


def ema_decay(decay: float, step: int) -> float:
    """Eq. (ch4-ema)'s decay at generator step ``step`` (0-based): min(decay, (1 + step) / (10 + step)).

    The warm-up lets the average forget the random initial weights quickly in a short run: after
    the first step the average is 90% the trained weights, and the full decay applies only once
    (1 + t) / (10 + t) exceeds it (after about 900 steps for 0.99).
    """
    return min(decay, (1 + step) / (10 + step))


@torch.no_grad()
def update_average(average: nn.Module, model: nn.Module, decay: float) -> None:
    """average <- decay * average + (1 - decay) * model, weight by weight; buffers (batch norm's statistics) copied."""
    torch._foreach_lerp_(list(average.parameters()), list(model.parameters()), 1 - decay)
    for mine, theirs in zip(average.buffers(), model.buffers()):
        mine.copy_(theirs)
