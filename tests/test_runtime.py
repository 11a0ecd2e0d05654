"""gan_lib.runtime: the device, forced or picked, and seeds that repeat every random stream."""
import pytest
import torch

from gan_lib.runtime import describe, pick_device, seed_everything


def test_pick_device_is_usable():
    device = pick_device()
    assert torch.zeros(1, device=device).device.type == device.type
    assert device.type in describe(device)


def test_pick_device_can_be_forced_to_cpu(monkeypatch):
    monkeypatch.setenv("GAN_BOOK_DEVICE", "cpu")
    assert pick_device().type == "cpu"


def test_pick_device_rejects_unknown(monkeypatch):
    monkeypatch.setenv("GAN_BOOK_DEVICE", "tpu")
    with pytest.raises(ValueError, match="not one of"):
        pick_device()


def test_seed_everything_repeats_every_stream():
    import random

    import numpy as np
    seed_everything(3)
    a = (random.random(), np.random.rand(), torch.rand(3))
    seed_everything(3)
    b = (random.random(), np.random.rand(), torch.rand(3))
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])


def test_seed_everything_rejects_bad_seed():
    with pytest.raises(ValueError):
        seed_everything(-1)
