"""gan_lib.machinery.cache: keys that change with the code training runs and with nothing else; hits, misses, warm."""
import importlib
import inspect

import pytest
import torch

from gan_lib import checkpoint, classifier
from gan_lib.data import ImageData
from gan_lib.machinery import cache
from gan_lib.train import Recipe

TRAIN_SOURCE = inspect.getsource(importlib.import_module("gan_lib.train"))


def test_comments_and_docstrings_do_not_change_the_stripped_source():
    edited = TRAIN_SOURCE.replace('    D = gan.discriminator\n', '    D = gan.discriminator  # a new comment\n', 1)
    edited = edited.replace('"""One Adam step of G on', '"""A reworded docstring. One Adam step of G on', 1)
    edited = "# a comment at the top\n" + edited
    assert edited != TRAIN_SOURCE
    assert cache.strip_source(edited) == cache.strip_source(TRAIN_SOURCE)


def test_a_one_token_change_to_the_generator_step_changes_it():
    edited = TRAIN_SOURCE.replace("g_loss = generator_game_loss(gan.recipe.game, fake_logit, kind=gan.recipe.g_loss)",
                                  "g_loss = 2 * generator_game_loss(gan.recipe.game, fake_logit, kind=gan.recipe.g_loss)", 1)
    assert edited != TRAIN_SOURCE
    assert cache.strip_source(edited) != cache.strip_source(TRAIN_SOURCE)


def test_gan_keys_depend_on_training_modules_only(monkeypatch):
    cpu = torch.device("cpu")
    before = cache.gan_path(Recipe(), 0, 10, cpu)
    classifier_before = cache.classifier_path("fashion-mnist", 10, 0, cpu)[0]
    real_getsource = inspect.getsource

    def edited(module_name, old, new):
        def getsource(obj):
            text = real_getsource(obj)
            return text.replace(old, new, 1) if getattr(obj, "__name__", "") == module_name else text
        return getsource

    for name in ("gan_lib.metrics", "gan_lib.plots", "gan_lib.cli", "gan_lib.machinery.recipes"):
        monkeypatch.setattr(inspect, "getsource", edited(name, "import", "import os\nimport"))
        assert cache.gan_path(Recipe(), 0, 10, cpu) == before, f"editing {name} changed a GAN's key"
    monkeypatch.setattr(inspect, "getsource", edited("gan_lib.train", "g_loss.backward()", "(2 * g_loss).backward()"))
    assert cache.gan_path(Recipe(), 0, 10, cpu) != before, "the generator step changed, the key did not"
    assert cache.classifier_path("fashion-mnist", 10, 0, cpu)[0] == classifier_before, \
        "the classifier does not run the GAN loop: its key must not change"
    monkeypatch.setattr(inspect, "getsource", edited("gan_lib.classifier", "lr: float = 1e-3", "lr: float = 2e-3"))
    assert cache.classifier_path("fashion-mnist", 10, 0, cpu)[0] != classifier_before


def test_settings_seed_and_steps_are_in_the_key():
    cpu = torch.device("cpu")
    paths = {cache.gan_path(Recipe(), 0, 10, cpu), cache.gan_path(Recipe(), 1, 10, cpu),
             cache.gan_path(Recipe(), 0, 11, cpu), cache.gan_path(Recipe(d_spectral_norm=True), 0, 10, cpu)}
    assert len(paths) == 4


@pytest.fixture
def tiny_classifier_data(tmp_path, monkeypatch):
    """An empty model cache, a tiny labelled 'dataset', and a counter of classifier trainings."""
    monkeypatch.setenv("GAN_BOOK_CACHE", str(tmp_path))
    g = torch.Generator().manual_seed(0)
    split = ImageData(torch.rand(64, 1, 28, 28, generator=g) * 2 - 1, torch.randint(10, (64,), generator=g),
                      tuple(str(i) for i in range(10)), "synthetic")
    monkeypatch.setattr(classifier, "load_images", lambda name, which: split)
    calls = []
    real_train = classifier.train_classifier

    def counting_train(*args, **kwargs):
        calls.append(kwargs.get("seed"))
        return real_train(*args, **kwargs)

    monkeypatch.setattr(classifier, "train_classifier", counting_train)
    return calls


def test_classifier_cache_hits_and_retrains_when_stale(tiny_classifier_data, capsys):
    calls, cpu = tiny_classifier_data, torch.device("cpu")
    first = cache.trained_classifier("fashion-mnist", num_steps=2, device=cpu)
    assert len(calls) == 1
    again = cache.trained_classifier("fashion-mnist", num_steps=2, device=cpu)
    assert len(calls) == 1, "a second request with the same settings must load, not train"
    assert all(torch.equal(p, q) for p, q in zip(first.parameters(), again.parameters()))

    (path,) = cache.cache_root().glob("classifier-*.pt")
    ckpt = checkpoint.load_checkpoint(path)
    ckpt["settings"] = {**ckpt["settings"], "num_steps": 1}  # stale settings
    checkpoint.save_checkpoint({k: v for k, v in ckpt.items() if k not in ("format", "version")}, path)
    cache.trained_classifier("fashion-mnist", num_steps=2, device=cpu)
    assert len(calls) == 2 and "stale settings" in capsys.readouterr().out

    ckpt = checkpoint.load_checkpoint(path)
    ckpt["state"]["0.bias"] += 1.0  # weights that no longer match their checksum
    checkpoint.save_checkpoint({k: v for k, v in ckpt.items() if k not in ("format", "version")}, path)
    cache.trained_classifier("fashion-mnist", num_steps=2, device=cpu)
    assert len(calls) == 3 and "bad checksum" in capsys.readouterr().out

    cache.trained_classifier("fashion-mnist", num_steps=3, device=cpu)  # new settings: a new file
    assert len(calls) == 4 and len(list(cache.cache_root().glob("classifier-*.pt"))) == 2


def test_gan_cache_trains_once_then_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_BOOK_CACHE", str(tmp_path))
    trained = []
    images = torch.rand(64, 1, 28, 28) * 2 - 1

    def fake_train_recipe(recipe, seed, num_steps, device, sample_every, progress):
        from gan_lib.train import new_gan, train
        trained.append(seed)
        return train(new_gan(recipe, seed, device), images, num_steps, sample_every=sample_every, progress=progress)

    monkeypatch.setattr(cache, "train_recipe", fake_train_recipe)
    recipe = Recipe(batch_size=8)
    a = cache.trained_gan(recipe, 0, 3, torch.device("cpu"))
    b = cache.trained_gan(recipe, 0, 3, torch.device("cpu"))
    assert trained == [0] and a.history["g_loss"] == b.history["g_loss"] and b.step == 3


def test_warm_on_a_full_cache_trains_nothing_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAN_BOOK_CACHE", str(tmp_path))
    monkeypatch.setenv("GAN_BOOK_BUDGET", "smoke")
    monkeypatch.setattr(cache, "book_runs", lambda b: [])
    monkeypatch.setattr(cache, "trained_classifier", lambda **kw: pytest.fail("must not train"))
    path, _ = cache.classifier_path("fashion-mnist", 40, 0, torch.device("cpu"))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"cached")
    assert cache.warm() == 0
    assert "nothing to train" in capsys.readouterr().out
