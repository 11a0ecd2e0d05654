"""A run's history (chapter 4): seven numbers per generator step, the record every curve and diagnosis reads.

``d_loss``, ``g_loss``: the two losses; ``d_real``: the mean of D's probability on the real batch;
``d_fake_before``, ``d_fake_after``: the mean on the fake batch before and after D's step; ``g_grad_norm``,
``d_grad_norm``: the L2 norm of each network's whole gradient. (For the hinge and Wasserstein games of chapter 6,
whose scores are not logits, the "probabilities" are the sigmoid of the scores: a monitor, not a verdict.)
"""
from __future__ import annotations

import math

import torch

HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake_before", "d_fake_after", "g_grad_norm", "d_grad_norm")


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; training stops instead of producing NaN samples."""


class History:
    """The seven numbers of each step, kept on the models' device and copied into ``gan.history`` in blocks:
    reading a GPU number into Python waits for the GPU, so doing it once per step would stall every step."""

    def __init__(self, gan, block: int = 250):
        self.gan, self.first_step, self.n = gan, gan.step + 1, 0
        self.rows = torch.empty(block, len(HISTORY_KEYS), device=gan.device)

    def record(self, d_loss, g_loss, real_logit, fake_logit, fake_logit_after, g_norm, d_norm) -> None:
        torch.stack([d_loss, g_loss, torch.sigmoid(real_logit).mean(), torch.sigmoid(fake_logit).mean(),
                     torch.sigmoid(fake_logit_after).mean(), g_norm, d_norm], out=self.rows[self.n])
        self.n += 1
        if self.n == len(self.rows):
            self.flush()

    def flush(self) -> None:
        """Append the recorded rows to the history; raise :class:`TrainingDiverged` at the first non-finite value."""
        rows, self.n = self.rows[:self.n].tolist(), 0
        first, self.first_step = self.first_step, self.first_step + len(rows)
        for i, row in enumerate(rows):
            for key, value in zip(HISTORY_KEYS, row):
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"Training diverged at step {first + i}: {key} = {value}. Likely causes: a learning rate too "
                        "high for this batch size, a discriminator so confident that its logits overflow, or NaN/inf "
                        "in the input images. Lower d_lr / g_lr, check the data's range, or resume from an earlier "
                        "checkpoint.")
                self.gan.history[key].append(value)
            self.gan.history["step"].append(first + i)
