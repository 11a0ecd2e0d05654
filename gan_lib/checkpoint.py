"""Checkpoints that are never half-written and never unpickle code (chapter 4).

A checkpoint is a plain dict of tensors, numbers, strings and lists, written to
a temporary file in the same folder and renamed into place (a rename is atomic,
so an interrupted save leaves the previous checkpoint intact), and read back with
``torch.load(weights_only=True)``. :func:`save_gan` stores everything a run needs to
continue bit for bit; :func:`load_gan` rebuilds it.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch

from .train import GAN, Recipe, new_gan

FORMAT = "gan-book-checkpoint"
VERSION = 1


class CheckpointError(RuntimeError):
    """A file is not a readable gan_lib checkpoint; the message says what to do."""


def save_checkpoint(payload: dict, path: str | os.PathLike) -> Path:
    """Write ``payload`` (plus a format tag) atomically to ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    except OSError as err:
        raise CheckpointError(f"Cannot write {path}: {err.strerror or err} in {path.parent}. "
                              "Choose a folder you can write to.") from err
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT, "version": VERSION, **payload}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`, refusing anything else with a clear error."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}. Train one first: `python -m gan_lib train --out {path}`.")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        raise CheckpointError(f"{path} is not a readable checkpoint: the file is truncated, corrupt, or holds "
                              f"objects other than tensors ({type(err).__name__}). Delete it and train again.") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a torch file but not a gan_lib checkpoint (no '{FORMAT}' tag). "
                              "Pass a file written by `python -m gan_lib train`.")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {payload.get('version')}, this gan_lib reads "
                              f"version {VERSION}. Train it again with this version.")
    return payload


def save_gan(gan: GAN, path: str | os.PathLike) -> Path:
    """Everything needed to resume exactly: models, optimizers, every random stream, step and history."""
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return save_checkpoint({
        "recipe": asdict(gan.recipe), "seed": gan.seed, "step": gan.step, "seconds": gan.seconds,
        "generator": gan.generator.state_dict(), "discriminator": gan.discriminator.state_dict(),
        "opt_g": gan.opt_g.state_dict(), "opt_d": gan.opt_d.state_dict(),
        "batch_rng": gan.batch_rng.get_state(), "noise_rng": gan.noise_rng.get_state(),
        "torch_rng": torch.get_rng_state(), "cuda_rng": cuda_rng,
        "fixed_z": gan.fixed_z.cpu(), "history": gan.history,
        "g_ema": gan.g_ema.state_dict() if gan.g_ema is not None else {},
    }, path)


def load_gan(path: str | os.PathLike, device: torch.device | str = "cpu") -> GAN:
    """Rebuild a :class:`~gan_lib.train.GAN` from :func:`save_gan`'s file, ready to train further."""
    ckpt = load_checkpoint(path)
    try:
        recipe = Recipe(**ckpt["recipe"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path} was written by another version of gan_lib (its recipe {ckpt['recipe']} "
                              f"does not fit this one: {err}). Train it again.") from err
    gan = new_gan(recipe, ckpt["seed"], device, num_fixed=len(ckpt["fixed_z"]))
    gan.generator.load_state_dict(ckpt["generator"])
    gan.discriminator.load_state_dict(ckpt["discriminator"])
    gan.opt_g.load_state_dict(ckpt["opt_g"])
    gan.opt_d.load_state_dict(ckpt["opt_d"])
    if gan.g_ema is not None:
        gan.g_ema.load_state_dict(ckpt["g_ema"])
    for name in ("batch_rng", "noise_rng"):  # a random stream of another kind of device cannot be restored
        if ckpt[name].numel() == getattr(gan, name).get_state().numel():
            getattr(gan, name).set_state(ckpt[name])
    torch.set_rng_state(ckpt["torch_rng"])
    if ckpt["cuda_rng"] and torch.cuda.is_available() and len(ckpt["cuda_rng"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(ckpt["cuda_rng"])
    gan.fixed_z = ckpt["fixed_z"].to(gan.device)
    gan.step, gan.seconds, gan.history = ckpt["step"], ckpt["seconds"], ckpt["history"]
    return gan
