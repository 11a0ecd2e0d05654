"""Machinery: a seeded cache of trained models, so that each chapter stays standalone and nothing trains twice.

A trained GAN or classifier is stored under a key made of what decides it: its settings (recipe,
seed, steps), torch's version, the kind of device, and a hash of the *code* that training runs
(:func:`code_hash`: the source of those modules with comments and docstrings stripped). Editing a
comment, a docstring, ``metrics``, ``plots``, the recipes' prose or the CLI leaves every key as it
was; changing a line the training step executes changes the keys of the runs that execute it.
A chapter asks for what it needs; on a miss the model is trained (and saved, atomically), on a hit
it is loaded. ``python -m gan_lib cache warm`` trains, in advance, everything the book asks for at
the budget in force.
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import json
import time
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from .. import classifier
from ..checkpoint import CheckpointError, load_checkpoint, load_gan, save_checkpoint, save_gan
from ..data import cache_dir
from ..runtime import pick_device
from ..train import GAN, Recipe, train_recipe
from .budgets import budget
from .recipes import book_runs

# The modules whose code runs when a cached model is trained (and decides the result).
GAN_MODULES = ("train", "models", "spectral_norm", "losses", "ema", "history", "augment", "conditional", "data", "runtime")
CLASSIFIER_MODULES = ("classifier", "data")


def cache_root() -> Path:
    """``$GAN_BOOK_CACHE/models`` (default ``~/.cache/gan-book/models``)."""
    return cache_dir() / "models"


def strip_source(source: str) -> str:
    """What a module's code does, without its comments and docstrings: its syntax tree, dumped."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


def code_hash(modules: tuple[str, ...]) -> str:
    """sha256 of the stripped source (:func:`strip_source`) of these ``gan_lib`` modules."""
    h = hashlib.sha256()
    for name in modules:
        source = inspect.getsource(importlib.import_module(f"gan_lib.{name}"))
        h.update(name.encode() + b"\0" + strip_source(source).encode() + b"\0")
    return h.hexdigest()[:16]


def _key(spec: dict, modules: tuple[str, ...], device: torch.device) -> str:
    full = {**spec, "code": code_hash(modules), "torch": torch.__version__, "device": device.type}
    return hashlib.sha256(json.dumps(full, sort_keys=True).encode()).hexdigest()[:16]


def gan_path(recipe: Recipe, seed: int, num_steps: int, device: torch.device) -> Path:
    """Where the run of ``recipe`` from ``seed`` for ``num_steps`` steps is (or will be) cached."""
    spec = {"kind": "gan", "recipe": asdict(recipe), "seed": seed, "num_steps": num_steps,
            "sample_every": _sample_every(num_steps)}
    return cache_root() / f"gan-{recipe.model}-seed{seed}-{num_steps}steps-{_key(spec, GAN_MODULES, device)}.pt"


def _sample_every(num_steps: int) -> int:
    return max(1, num_steps // 30)  # about 30 sample grids per run, for the animation of chapter 4


def trained_gan(recipe: Recipe, seed: int, num_steps: int, device: torch.device | None = None,
                verbose: bool = False) -> GAN:
    """The GAN of ``recipe`` trained ``num_steps`` steps from ``seed``: from the cache, or trained now."""
    device = device or pick_device()
    path = gan_path(recipe, seed, num_steps, device)
    if path.is_file():
        try:
            return load_gan(path, device)
        except CheckpointError as err:
            print(f"cache: {err} Training it again.")
    if verbose:
        changed = {k: v for k, v in asdict(recipe).items() if v != getattr(Recipe(), k)}
        print(f"cache: training a {recipe.model} GAN {changed or '(plain recipe)'}, seed {seed}, "
              f"{num_steps} steps on {device.type}", flush=True)
    gan = train_recipe(recipe, seed, num_steps, device, sample_every=_sample_every(num_steps), progress=False)
    save_gan(gan, path)
    return gan


def classifier_path(dataset: str, num_steps: int, seed: int, device: torch.device) -> tuple[Path, dict]:
    """Where the evaluation classifier with these settings is cached, and the settings stored with it."""
    settings = {"kind": "classifier", "dataset": dataset, "num_steps": num_steps, "seed": seed}
    key = _key(settings, CLASSIFIER_MODULES, device)
    return cache_root() / f"classifier-{dataset}-{num_steps}steps-{key}.pt", settings


def trained_classifier(dataset: str = "fashion-mnist", num_steps: int | None = None, seed: int = 0,
                       device: torch.device | None = None, verbose: bool = False) -> nn.Sequential:
    """The book's evaluation classifier (``gan_lib.classifier``), cached with its settings and a checksum.

    A cached file whose settings differ or whose weights fail the checksum is retrained.
    """
    device = device or pick_device()
    num_steps = num_steps if num_steps is not None else budget(device).classifier_steps
    path, settings = classifier_path(dataset, num_steps, seed, device)
    net = classifier.classifier_net().to(device)
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
    net = classifier.fit_classifier(dataset, num_steps, seed=seed, device=device)
    state = {k: v.cpu() for k, v in net.state_dict().items()}
    save_checkpoint({"settings": settings, "state": state, "checksum": _checksum(state)}, path)
    return net


def _checksum(state: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(state):
        h.update(name.encode() + state[name].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def warm(verbose: bool = True) -> int:
    """Train (or find) every model the chapters ask for at the budget in force; say what was trained."""
    start, device = time.perf_counter(), pick_device()
    b = budget(device)
    runs = book_runs(b)
    print(f"cache: budget '{b.name}' on {device.type}, {len(runs)} GANs and 1 classifier, in {cache_root()}")
    trained = 0
    if not classifier_path("fashion-mnist", b.classifier_steps, 0, device)[0].is_file():
        trained_classifier(device=device, verbose=verbose)
        trained += 1
    for run in runs:
        if gan_path(run.recipe, run.seed, run.num_steps, device).is_file():
            continue
        gan = trained_gan(run.recipe, run.seed, run.num_steps, device, verbose=verbose)
        trained += 1
        if verbose:
            print(f"cache: {run.name}: {run.num_steps} steps, {gan.seconds:.0f} s of training", flush=True)
    seconds = time.perf_counter() - start
    if trained == 0:
        print(f"cache: all {len(runs) + 1} models were already cached; nothing to train ({seconds:.1f} s).")
    else:
        print(f"cache: trained {trained} of {len(runs) + 1} models in {seconds:.0f} s; the rest were cached.")
    return 0


def clear() -> int:
    """Delete every cached model; return how many files were removed."""
    files = list(cache_root().glob("*.pt")) if cache_root().is_dir() else []
    for f in files:
        f.unlink()
    return len(files)
