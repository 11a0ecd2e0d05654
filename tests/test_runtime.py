"""gan_lib.runtime: the device, forced or picked, and seeds that repeat every random stream."""
import os
import subprocess
import sys

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


def test_keep_freed_memory_can_be_turned_off(monkeypatch):
    from gan_lib.runtime import keep_freed_memory
    monkeypatch.setenv("GAN_BOOK_KEEP_FREED_MEMORY", "0")
    keep_freed_memory.cache_clear()
    try:
        assert keep_freed_memory() is False
    finally:
        keep_freed_memory.cache_clear()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_keep_freed_memory_removes_the_book_steps_page_faults():
    # each side in a fresh process (the setting is process-wide): the book's step frees and takes back the same
    # blocks; left alone, glibc returns them to the kernel (about 2,000 page faults per step on the book's machine)
    code = (
        "import resource, torch; from gan_lib.machinery.recipes import BOOK\n"
        "from gan_lib.runtime import keep_freed_memory; from gan_lib.train import new_gan, train\n"
        "images = torch.rand(2000, 1, 28, 28) * 2 - 1; gan = new_gan(BOOK, 0); train(gan, images, 10)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt; train(gan, images, 20)\n"
        "print(keep_freed_memory(), (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)\n")

    def faults_per_step(flag: str) -> tuple[str, float]:
        env = os.environ | {"GAN_BOOK_KEEP_FREED_MEMORY": flag, "GAN_BOOK_PROGRESS": "0"}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
        in_force, faults = out.split()
        return in_force, float(faults)

    (off, left_alone), (on, kept) = faults_per_step("0"), faults_per_step("1")
    assert (off, on) == ("False", "True")
    assert kept < left_alone / 10, f"page faults per step: {left_alone} left alone, {kept} kept"
