import gzip
import shutil
from pathlib import Path

import pytest
import torch

from gan_lib import data

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(data.locate("fashion-mnist")[0] is None,
                                   reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


@needs_fashion
def test_fashion_mnist_loads_preloaded_in_range():
    test = data.load_images("fashion-mnist", "test")
    assert test.images.shape == (10_000, 1, 28, 28) and test.images.dtype == torch.float32
    assert test.images.min() == -1 and test.images.max() == 1
    assert torch.equal(test.labels.bincount(), torch.full((10,), 1000))
    assert test.class_names[0] == "T-shirt/top" and len(test.class_names) == 10


def test_missing_dataset_names_places_and_fix(isolated_data):
    with pytest.raises(data.DataError) as info:
        data.load_images("fashion-mnist", download=False)
    message = str(info.value)
    assert "fashion-mnist" in message and str(isolated_data) in message
    assert "apt-get install dataset-fashion-mnist" in message and "GAN_BOOK_DATA" in message


def test_failed_download_is_reported(isolated_data, monkeypatch):
    from torchvision import datasets

    def no_network(*args, **kwargs):
        raise OSError("network unreachable")
    monkeypatch.setattr(datasets.MNIST, "__init__", no_network)
    with pytest.raises(data.DataError, match="network unreachable"):
        data.load_images("mnist", download=True)


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist not installed")
@pytest.mark.parametrize("damage", ["truncated_gzip", "truncated_idx"])
def test_truncated_file_gives_clear_error(isolated_data, damage):
    for f in DEBIAN.glob("*.gz"):
        shutil.copy(f, isolated_data / f.name)
    victim = isolated_data / "train-images-idx3-ubyte.gz"
    if damage == "truncated_gzip":
        victim.write_bytes(victim.read_bytes()[:100_000])
    else:
        raw = gzip.decompress(victim.read_bytes())
        victim.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    with pytest.raises(data.DataError, match="truncated or corrupt"):
        data.load_images("fashion-mnist", download=False)


def test_unknown_dataset_and_split():
    with pytest.raises(ValueError, match="Unknown dataset"):
        data.load_images("cifar")
    with pytest.raises(ValueError, match="split"):
        data.load_images("fashion-mnist", "valid")


@needs_fashion
def test_validation_split_is_held_out_balanced_and_fixed():
    train_set, validation = data.load_images("fashion-mnist", "train"), data.load_images("fashion-mnist", "validation")
    assert len(train_set) == 55_000 and len(validation) == 5_000
    assert torch.bincount(validation.labels).tolist() == [500] * 10
    assert torch.bincount(train_set.labels).tolist() == [5_500] * 10
    flat = lambda x: {bytes(row) for row in ((x.flatten(1) + 1) * 127.5).round().to(torch.uint8).numpy()}
    assert not flat(validation.images) & flat(train_set.images[:20_000]), "a validation image is also a training image"
    assert torch.equal(validation.images, data.load_images("fashion-mnist", "validation").images)


def test_validation_indices_are_per_class_and_seeded():
    labels = torch.arange(1000) % 10
    a = data.validation_indices(labels, per_class=7)
    assert len(a) == 70 and torch.bincount(labels[a]).tolist() == [7] * 10 and len(a.unique()) == 70
    assert torch.equal(a, data.validation_indices(labels, per_class=7))
    assert not torch.equal(a, data.validation_indices(labels, per_class=7, seed=1))


def test_random_batch_is_repeatable():
    images = torch.arange(100.0).view(100, 1, 1, 1)
    a = data.random_batch(images, 8, torch.Generator().manual_seed(1))
    b = data.random_batch(images, 8, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == (8, 1, 1, 1)
    with pytest.raises(ValueError):
        data.random_batch(images, 0, torch.Generator())


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist not installed")
@pytest.mark.parametrize("layout", ["plain folder", "folder named raw"])
def test_a_data_folder_is_not_taken_for_the_other_dataset(isolated_data, layout, monkeypatch):
    """MNIST and Fashion-MNIST share file names: $GAN_BOOK_DATA holding Fashion-MNIST must not pass for MNIST."""
    folder = isolated_data / "raw" if layout == "folder named raw" else isolated_data
    folder.mkdir(exist_ok=True)
    for f in DEBIAN.glob("*.gz"):  # decompressed in the 'raw' case, as torchvision's own layout holds them
        target = folder / (f.stem if folder.name == "raw" else f.name)
        target.write_bytes(gzip.decompress(f.read_bytes()) if folder.name == "raw" else f.read_bytes())
    monkeypatch.setenv("GAN_BOOK_DATA", str(folder))
    found, looked = data.locate("mnist")
    assert found is None and any("holds fashion-mnist, not mnist" in place for place in looked)
    assert data.locate("fashion-mnist")[0] == folder
    test = data.load_images("fashion-mnist", "test", download=False)  # a 'raw' folder not under FashionMNIST/
    assert test.images.shape == (10_000, 1, 28, 28)
    with pytest.raises(data.DataError, match="Could not find the mnist dataset"):
        data.load_images("mnist", download=False)
