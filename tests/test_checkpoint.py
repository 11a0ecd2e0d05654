"""gan_lib.checkpoint: files never half-written, only tensors unpickled, and runs resumed bit for bit."""
import os

import pytest
import torch

from gan_lib.checkpoint import CheckpointError, load_checkpoint, load_gan, save_checkpoint, save_gan
from gan_lib.train import Recipe, new_gan, train


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("recipe", [Recipe(batch_size=16), Recipe(batch_size=16, d_dropout=0.3, d_steps=2,
                                                                   real_target=0.9),
                                    Recipe(batch_size=16, g_ema=0.99, d_spectral_norm=True)])
def test_resume_is_bit_identical(tiny_images, tmp_path, recipe):
    straight = train(new_gan(recipe, seed=1), tiny_images, 8)
    half = train(new_gan(recipe, seed=1), tiny_images, 4)
    save_gan(half, tmp_path / "ckpt.pt")
    resumed = train(load_gan(tmp_path / "ckpt.pt"), tiny_images, 4)
    for net in ("generator", "discriminator"):
        assert all(torch.equal(p, q) for p, q in zip(_params(getattr(straight, net)), _params(getattr(resumed, net))))
    assert resumed.history["g_loss"] == straight.history["g_loss"] and resumed.step == 8
    if recipe.g_ema:
        assert all(torch.equal(p, q) for p, q in zip(_params(straight.g_ema), _params(resumed.g_ema)))


def test_checkpoint_is_atomic_and_validated(tmp_path):
    path = save_checkpoint({"x": torch.ones(3)}, tmp_path / "a.pt")
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    assert torch.equal(load_checkpoint(path)["x"], torch.ones(3))
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.ones(2)}, foreign)
    with pytest.raises(CheckpointError, match="not a gan_lib checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="No checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_interrupted_save_keeps_the_old_checkpoint(tmp_path):
    path = save_checkpoint({"x": torch.ones(1)}, tmp_path / "a.pt")

    class Boom:
        def __reduce__(self):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"x": Boom()}, path)
    assert torch.equal(load_checkpoint(path)["x"], torch.ones(1))
    assert list(tmp_path.iterdir()) == [path]


def test_unwritable_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(CheckpointError, match="Cannot write"):
        save_checkpoint({"x": torch.ones(1)}, "/proc/no-such-dir/x.pt")
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere
            pytest.skip("running as root: permissions do not stop writes")
        with pytest.raises(CheckpointError, match="Choose a folder"):
            save_checkpoint({"x": torch.ones(1)}, locked / "x.pt")
    finally:
        os.chmod(locked, 0o700)


def test_a_checkpoint_from_another_recipe_version_is_refused(tmp_path, tiny_images):
    gan = train(new_gan(Recipe(batch_size=8), seed=0), tiny_images, 1)
    path = save_gan(gan, tmp_path / "g.pt")
    ckpt = load_checkpoint(path)
    ckpt["recipe"]["lr_g"] = ckpt["recipe"].pop("g_lr")  # a field renamed since
    save_checkpoint({k: v for k, v in ckpt.items() if k not in ("format", "version")}, path)
    with pytest.raises(CheckpointError, match="another version"):
        load_gan(path)
