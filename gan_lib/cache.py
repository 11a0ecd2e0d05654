"""A seeded cache of trained models, so that each chapter stays standalone and nothing trains twice.

A trained GAN or classifier is stored under a key made of everything that determines it: the
recipe or settings, the seed, the number of steps, a hash of gan_lib's source, torch's version
and the kind of device. A chapter asks for what it needs; on a miss the model is trained (and
saved, atomically), on a hit it is loaded. ``python -m gan_lib cache warm`` trains, in advance,
everything the book will ask for at the budget in force.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from . import metrics
from .budgets import budget
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .conditional import training_data
from .data import cache_dir, load_images
from .recipes import book_runs
from .runtime import pick_device
from .train import GAN, Recipe, load_gan, new_gan, save_gan, train


def cache_root() -> Path:
    """``$GAN_BOOK_CACHE/models`` (default ``~/.cache/gan-book/models``)."""
    return cache_dir() / "models"


# The modules whose code decides what a cached model is; editing any other module (the CLI, plots,
# the chapters' worked derivations) leaves the cache valid.
TRAINING_MODULES = ("budgets", "cache", "checkpoint", "conditional", "data", "losses", "metrics", "models",
                    "recipes", "runtime", "train")


def source_hash() -> str:
    """sha256 of the gan_lib source that training depends on: changing it invalidates the cache."""
    h = hashlib.sha256()
    for name in TRAINING_MODULES:
        path = Path(__file__).parent / f"{name}.py"
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:16]


def _key(spec: dict, device: torch.device) -> str:
    full = {**spec, "gan_lib": source_hash(), "torch": torch.__version__, "device": device.type}
    return hashlib.sha256(json.dumps(full, sort_keys=True).encode()).hexdigest()[:16]


def trained_gan(recipe: Recipe, seed: int, num_steps: int, device: torch.device | None = None,
                verbose: bool = False) -> GAN:
    """The GAN of ``recipe`` trained ``num_steps`` steps from ``seed``: from the cache, or trained now."""
    device = device or pick_device()
    sample_every = max(1, num_steps // 30)
    spec = {"kind": "gan", "recipe": asdict(recipe), "seed": seed, "num_steps": num_steps,
            "sample_every": sample_every}
    path = cache_root() / f"gan-{recipe.model}-seed{seed}-{num_steps}steps-{_key(spec, device)}.pt"
    if path.is_file():
        try:
            return load_gan(path, device)
        except CheckpointError as err:
            print(f"cache: {err} Training it again.")
    if verbose:
        changed = {k: v for k, v in asdict(recipe).items() if v != getattr(Recipe(), k)}
        print(f"cache: training a {recipe.model} GAN {changed or '(plain recipe)'}, seed {seed}, "
              f"{num_steps} steps on {device.type}", flush=True)
    images, labels = training_data(load_images(recipe.dataset, "train"), recipe.subset_per_class, seed)
    labels = labels.to(device) if recipe.num_classes else None  # only a conditional GAN sees the labels
    gan = train(new_gan(recipe, seed, device), images.to(device), num_steps, sample_every=sample_every, labels=labels)
    save_gan(gan, path)
    return gan


def trained_classifier(dataset: str = "fashion-mnist", num_steps: int | None = None, seed: int = 0,
                       device: torch.device | None = None, verbose: bool = False) -> nn.Sequential:
    """The book's evaluation classifier (gan_lib.metrics), cached with its settings and a checksum.

    A cached file whose settings differ or whose weights fail the checksum is retrained.
    """
    device = device or pick_device()
    num_steps = num_steps if num_steps is not None else budget(device).classifier_steps
    settings = {"kind": "classifier", "dataset": dataset, "num_steps": num_steps, "seed": seed,
                "net": repr(metrics.classifier_net())}
    path = cache_root() / f"classifier-{dataset}-{num_steps}steps-{_key(settings, device)}.pt"
    net = metrics.classifier_net().to(device)
    if path.is_file():
        try:
            ckpt = load_checkpoint(path)
            if ckpt.get("settings") == settings and ckpt.get("checksum") == _checksum(ckpt["state"]):
                net.load_state_dict(ckpt["state"])
                return net.eval()
            print(f"cache: {path.name} has stale settings or a bad checksum; retraining.")
        except CheckpointError as err:
            print(f"cache: {err} Retraining.")
    if verbose:
        print(f"cache: training the {dataset} classifier for {num_steps} steps on {device.type}", flush=True)
    train_split = load_images(dataset, "train")
    net = metrics.train_classifier(train_split.images.to(device), train_split.labels, num_steps, seed=seed)
    state = {k: v.cpu() for k, v in net.state_dict().items()}
    save_checkpoint({"settings": settings, "state": state, "checksum": _checksum(state)}, path)
    return net


def _checksum(state: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(state):
        h.update(name.encode() + state[name].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def warm(verbose: bool = True) -> int:
    """Train (or find) every model the chapters ask for at the budget in force."""
    device = pick_device()
    b = budget(device)
    if verbose:
        print(f"cache: budget '{b.name}' on {device.type}, in {cache_root()}")
    trained_classifier(device=device, verbose=verbose)
    for run in book_runs(b):
        gan = trained_gan(run.recipe, run.seed, run.num_steps, device, verbose=verbose)
        if verbose:
            print(f"cache: {run.name}: {run.num_steps} steps, {gan.seconds:.0f} s of training", flush=True)
    return 0


def clear() -> int:
    """Delete every cached model; return how many files were removed."""
    files = list(cache_root().glob("*.pt")) if cache_root().is_dir() else []
    for f in files:
        f.unlink()
    return len(files)
