import pytest
import torch

from gan_lib.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gan_lib.train import HISTORY_KEYS, Recipe, TrainingDiverged, load_gan, new_gan, save_gan, train


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def test_a_few_steps_fill_the_history(tiny_images):
    gan = train(new_gan(Recipe(batch_size=16), seed=0), tiny_images, 6, sample_every=3)
    h = gan.history
    assert gan.step == 6 and h["step"] == [1, 2, 3, 4, 5, 6]
    for key in HISTORY_KEYS:
        assert len(h[key]) == 6 and all(v == v for v in h[key]), key
    assert all(0 < v < 1 for key in ("d_real", "d_fake_before", "d_fake_after") for v in h[key])
    assert h["sample_steps"] == [1, 3, 6] and h["samples"][0].shape == (64, 1, 28, 28)


def test_generator_step_leaves_discriminator_trainable(tiny_images):
    gan = train(new_gan(Recipe(batch_size=8), seed=0), tiny_images, 1)
    assert all(p.requires_grad for p in gan.discriminator.parameters())


def test_same_seed_same_result(tiny_images):
    a = train(new_gan(Recipe(batch_size=16), seed=5), tiny_images, 4)
    b = train(new_gan(Recipe(batch_size=16), seed=5), tiny_images, 4)
    assert all(torch.equal(p, q) for p, q in zip(_params(a.generator), _params(b.generator)))


@pytest.mark.parametrize("recipe", [Recipe(batch_size=16), Recipe(batch_size=16, d_dropout=0.3, d_steps=2,
                                                                   real_target=0.9)])
def test_resume_is_bit_identical(tiny_images, tmp_path, recipe):
    straight = train(new_gan(recipe, seed=1), tiny_images, 8)
    half = train(new_gan(recipe, seed=1), tiny_images, 4)
    save_gan(half, tmp_path / "ckpt.pt")
    resumed = train(load_gan(tmp_path / "ckpt.pt"), tiny_images, 4)
    for net in ("generator", "discriminator"):
        assert all(torch.equal(p, q) for p, q in zip(_params(getattr(straight, net)), _params(getattr(resumed, net))))
    assert resumed.history["g_loss"] == straight.history["g_loss"] and resumed.step == 8


def test_nan_stops_training_with_the_step(tiny_images):
    bad = tiny_images.clone()
    bad[:] = float("nan")
    with pytest.raises(TrainingDiverged, match="step 1"):
        train(new_gan(Recipe(batch_size=8), seed=0), bad, 3)


def test_recipe_validation():
    with pytest.raises(ValueError):
        Recipe(batch_size=0)
    with pytest.raises(ValueError):
        Recipe(real_target=1.5)
    with pytest.raises(ValueError, match="Unknown model"):
        Recipe(model="transformer")


def test_images_on_wrong_device_are_refused(tiny_images):
    gan = new_gan(Recipe(batch_size=8), seed=0)
    with pytest.raises(ValueError, match="move them with"):
        train(gan, tiny_images.to(torch.float64).to("meta"), 1)


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
