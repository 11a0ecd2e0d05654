"""Data for the book: Fashion-MNIST (the default) and MNIST, preloaded as tensors.

Images are read once through torchvision's dataset classes and kept as one float
tensor in [-1, 1] of shape N x 1 x 28 x 28 (the range of the generator's Tanh), so
a training step indexes a tensor instead of running a per-image PIL pipeline.

Three splits. ``"test"`` is the data set's 10,000 test images, the book's final reports only.
The 60,000 training images are cut once, by a fixed seed, into ``"validation"`` (500 per
class, 5,000 images: what recipes are *selected* on) and ``"train"`` (the other 55,000: what
every GAN and the evaluation classifier learn from). Nothing the book trains sees a
validation or a test image.

Where the files are looked for, in order:

1. ``$GAN_BOOK_DATA`` (a folder holding the four idx files, plain or ``.gz``, or
   torchvision's ``FashionMNIST/raw/`` / ``MNIST/raw/`` layout);
2. the book's cache, ``$GAN_BOOK_CACHE/data`` (default ``~/.cache/gan-book/data``);
3. the Debian package's folder (``apt-get install dataset-fashion-mnist`` gives
   ``/usr/share/datasets/fashion-mnist/``);
4. a download through torchvision, where the network allows.
"""
from __future__ import annotations

import gzip
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch


class DataError(RuntimeError):
    """A dataset is missing or its files are damaged; the message says what to do."""


@dataclass(frozen=True)
class _Spec:
    folder: str                 # torchvision's folder name under ROOT
    debian: tuple[str, ...]     # where Debian packages put the files
    train_mean: float           # published mean pixel value (0-255) of the training set
    classes: tuple[str, ...]


FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000)}
SPLITS = ("train", "validation", "test")
VALIDATION_PER_CLASS = 500   # 5,000 of the 60,000 training images, held out for selecting recipes
VALIDATION_SEED = 20_240_601

DATASETS = {
    "fashion-mnist": _Spec("FashionMNIST", ("/usr/share/datasets/fashion-mnist",), 72.94,
                           ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
    "mnist": _Spec("MNIST", ("/usr/share/datasets/mnist",), 33.32, tuple(str(d) for d in range(10))),
}


@dataclass
class ImageData:
    """A whole split in memory: ``images`` N x 1 x 28 x 28 in [-1, 1], ``labels`` N (int64)."""
    images: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...]
    source: str

    def __len__(self) -> int:
        return len(self.labels)


def cache_dir() -> Path:
    """The book's cache folder: ``$GAN_BOOK_CACHE`` or ``~/.cache/gan-book``."""
    return Path(os.environ.get("GAN_BOOK_CACHE") or Path.home() / ".cache" / "gan-book")


def load_images(name: str = "fashion-mnist", split: str = "train", download: bool = True) -> ImageData:
    """Load a split of ``name`` ("fashion-mnist" or "mnist"): "train", "validation" or "test" (see above)."""
    spec = _spec(name)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    file_split = "test" if split == "test" else "train"
    root = _torchvision_root(name, download)
    from torchvision import datasets
    cls = datasets.FashionMNIST if name == "fashion-mnist" else datasets.MNIST
    try:
        ds = cls(str(root), train=(file_split == "train"), download=False)
        pixels, labels = ds.data, ds.targets.to(torch.int64)
    except Exception as err:  # torchvision reports a short file as a bare shape error
        raise DataError(f"The {name} files in {root / spec.folder / 'raw'} could not be read ({err}). "
                        "They are truncated or corrupt: delete that folder and run "
                        "`python -m gan_lib data` to find or fetch them again.") from err
    _validate(name, file_split, pixels, labels, root)
    if split != "test":
        held_out = torch.zeros(len(labels), dtype=torch.bool)
        held_out[validation_indices(labels)] = True
        keep = held_out if split == "validation" else ~held_out
        pixels, labels = pixels[keep], labels[keep]
    images = pixels.to(torch.float32).div_(127.5).sub_(1.0).unsqueeze_(1)
    return ImageData(images, labels, spec.classes, str(root / spec.folder / "raw"))


def validation_indices(labels: torch.Tensor, per_class: int = VALIDATION_PER_CLASS,
                       seed: int = VALIDATION_SEED) -> torch.Tensor:
    """Which of the 60,000 training images form the validation split: ``per_class`` of each class, fixed by ``seed``."""
    rng = torch.Generator().manual_seed(seed)
    chosen = [(labels == c).nonzero().squeeze(1) for c in range(int(labels.max()) + 1)]
    return torch.cat([members[torch.randperm(len(members), generator=rng)[:per_class]] for members in chosen]).sort().values


def locate(name: str = "fashion-mnist") -> tuple[Path | None, list[str]]:
    """Where the idx files of ``name`` are (or None), and every place that was looked at."""
    spec, looked = _spec(name), []
    candidates = []
    if os.environ.get("GAN_BOOK_DATA"):
        base = Path(os.environ["GAN_BOOK_DATA"]).expanduser()
        candidates += [(base, True), (base / spec.folder / "raw", False), (base / name, False)]
    candidates.append((cache_dir() / "data" / spec.folder / "raw", False))
    candidates += [(Path(p), False) for p in spec.debian]
    for folder, shared in candidates:
        looked.append(str(folder))
        if all(_find(folder, f) for split in FILES.values() for f in split[:2]):
            # MNIST and Fashion-MNIST files have the same names: a folder that could hold either is asked which.
            if not shared or _identify(folder) == name:
                return folder, looked
            looked[-1] += f" (holds {_identify(folder)}, not {name})"
    return None, looked


def _identify(folder: Path) -> str:
    """Which dataset a folder's idx files are: the one whose published mean pixel is nearest to the test images'
    (MNIST about 33, Fashion-MNIST about 73, on 0..255)."""
    path = _find(folder, FILES["test"][0])
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path} is truncated or corrupt ({err}). Reinstall or re-download it.") from err
    mean = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).double().mean().item()
    return min(DATASETS, key=lambda n: abs(DATASETS[n].train_mean - mean))


def _torchvision_root(name: str, download: bool) -> Path:
    """A folder ROOT with ROOT/<folder>/raw/ holding the decompressed idx files."""
    spec = _spec(name)
    found, looked = locate(name)
    if (found is not None and found.name == "raw" and found.parent.name == spec.folder
            and all((found / f).is_file() for s in FILES.values() for f in s[:2])):
        return found.parent.parent
    root = cache_dir() / "data"
    raw = root / spec.folder / "raw"
    if found is not None:  # decompress (or copy) once into the cache, in torchvision's layout
        raw.mkdir(parents=True, exist_ok=True)
        for split in FILES.values():
            for f in split[:2]:
                _decompress(_find(found, f), raw / f)
        return root
    if download:
        try:
            from torchvision import datasets
            cls = datasets.FashionMNIST if name == "fashion-mnist" else datasets.MNIST
            cls(str(root), train=True, download=True)
            cls(str(root), train=False, download=True)
            return root
        except Exception as err:  # no network, or a server refused
            looked.append(f"download through torchvision ({type(err).__name__}: {err})")
    raise DataError(_missing_message(name, looked))


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _decompress(src: Path, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".part")
    try:
        with (gzip.open(src, "rb") if src.suffix == ".gz" else open(src, "rb")) as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    except (OSError, EOFError) as err:
        tmp.unlink(missing_ok=True)
        raise DataError(f"{src} is truncated or corrupt ({err}). Reinstall or re-download it.") from err
    os.replace(tmp, dest)


def _validate(name: str, split: str, pixels: torch.Tensor, labels: torch.Tensor, root: Path) -> None:
    """Refuse a wrong or damaged dataset instead of training on it silently."""
    n = FILES[split][2]
    where = root / _spec(name).folder / "raw"
    if tuple(pixels.shape) != (n, 28, 28) or tuple(labels.shape) != (n,):
        raise DataError(f"{name} {split} in {where} has images {tuple(pixels.shape)} and labels "
                        f"{tuple(labels.shape)}, expected ({n}, 28, 28) and ({n},). Delete the folder and fetch it again.")
    if int(labels.min()) < 0 or int(labels.max()) > 9:
        raise DataError(f"{name} {split} labels in {where} are outside 0..9: the label file is corrupt.")
    if split == "train":
        mean = pixels.double().mean().item()
        if not math.isclose(mean, _spec(name).train_mean, abs_tol=0.5):
            raise DataError(f"The {name} training images in {where} have mean pixel {mean:.2f}, but the published "
                            f"value is {_spec(name).train_mean}: these are not {name}'s files (another dataset?).")


def _missing_message(name: str, looked: list[str]) -> str:
    spec = _spec(name)
    files = ", ".join(f"{f}[.gz]" for s in FILES.values() for f in s[:2])
    hint = ("on Debian or Ubuntu, `sudo apt-get install dataset-fashion-mnist`; or " if name == "fashion-mnist" else "")
    return (f"Could not find the {name} dataset. Looked in:\n  - " + "\n  - ".join(looked) +
            f"\nTo fix: {hint}put the four files ({files}) in a folder and set GAN_BOOK_DATA to it "
            f"(or use {cache_dir() / 'data' / spec.folder / 'raw'}); with internet access the book downloads them itself.")


def _spec(name: str) -> _Spec:
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {sorted(DATASETS)}.")
    return DATASETS[name]


def random_batch(images: torch.Tensor, batch_size: int, rng: torch.Generator) -> torch.Tensor:
    """A minibatch drawn uniformly with replacement; ``rng`` (a CPU generator) makes it repeatable."""
    if not 0 < batch_size:
        raise ValueError(f"batch_size must be positive, got {batch_size}.")
    index = torch.randint(len(images), (batch_size,), generator=rng)
    return images[index.to(images.device)]
