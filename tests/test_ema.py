"""gan_lib.ema: the decay's warm-up and the average itself."""
import pytest
import torch

from gan_lib.ema import ema_decay, update_average
from gan_lib.models import mlp_generator


def test_ema_decay_warms_up_then_holds():
    assert ema_decay(0.99, 0) == pytest.approx(0.1) and ema_decay(0.99, 10) == pytest.approx(11 / 20)
    assert ema_decay(0.99, 10_000) == 0.99 and ema_decay(0.999, 1_000) == pytest.approx(1_001 / 1_010)


def test_update_average_is_a_weighted_mean_of_the_weights():
    torch.manual_seed(0)
    a, b = mlp_generator(), mlp_generator()
    expected = [0.75 * p + 0.25 * q for p, q in zip(a.parameters(), b.parameters())]
    update_average(a, b, 0.75)
    assert all(torch.allclose(p, e, atol=1e-7) for p, e in zip(a.parameters(), expected))
