"""Shared fixtures. Tests never train for long: a handful of steps on tiny data."""

import pytest
import torch



@pytest.fixture
def tiny_images() -> torch.Tensor:
    """256 random 'images' in [-1, 1], enough for a few training steps."""
    g = torch.Generator().manual_seed(0)
    return torch.rand(256, 1, 28, 28, generator=g) * 2 - 1


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """No dataset anywhere: empty cache, empty GAN_BOOK_DATA, no Debian folder."""
    from gan_lib import data
    monkeypatch.setenv("GAN_BOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GAN_BOOK_DATA", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    for name, spec in list(data.DATASETS.items()):
        monkeypatch.setitem(data.DATASETS, name, spec.__class__(spec.folder, (str(tmp_path / "no-debian"),),
                                                                spec.train_mean, spec.classes))
    return tmp_path / "data"
