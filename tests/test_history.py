"""gan_lib.history: the seven numbers per step, read from the device in blocks, and a divergence named by its step."""
import math

import pytest
import torch

from gan_lib.history import HISTORY_KEYS, History, TrainingDiverged
from gan_lib.train import Recipe, new_gan


def _values(i: float) -> list[torch.Tensor]:
    logit = torch.full((4, 1), i)
    return [torch.tensor(i), torch.tensor(2 * i), logit, -logit, logit, torch.tensor(3.0), torch.tensor(4.0)]


def test_rows_arrive_in_blocks_and_at_the_flush():
    gan = new_gan(Recipe(batch_size=8), seed=0)
    history = History(gan, block=3)
    for i in range(5):
        gan.step += 1
        history.record(*_values(float(i)))
        assert len(gan.history["d_loss"]) == (3 if i >= 2 else 0), "a block is read when it is full"
    history.flush()
    assert gan.history["step"] == [1, 2, 3, 4, 5] and gan.history["g_loss"] == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert gan.history["d_real"][2] == pytest.approx(1 / (1 + math.exp(-2.0)))
    assert set(HISTORY_KEYS) <= set(gan.history)


def test_a_non_finite_value_is_named_with_its_step():
    gan = new_gan(Recipe(batch_size=8), seed=0)
    history = History(gan, block=10)
    for i in range(4):
        values = _values(1.0)
        if i == 2:
            values[1] = torch.tensor(float("inf"))   # g_loss at the third step
        history.record(*values)
    with pytest.raises(TrainingDiverged, match="step 3: g_loss = inf"):
        history.flush()
