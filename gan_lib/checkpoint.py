"""Checkpoints that are never half-written and never unpickle code.

A checkpoint is a plain dict of tensors, numbers, strings and lists, written to
a temporary file in the same folder and renamed into place (a rename is atomic,
so an interrupted save leaves the previous checkpoint intact), and read back with
``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

FORMAT = "gan-book-checkpoint"
VERSION = 1


class CheckpointError(RuntimeError):
    """A file is not a readable gan_lib checkpoint; the message says what to do."""


def save_checkpoint(payload: dict, path: str | os.PathLike) -> Path:
    """Write ``payload`` (plus a format tag) atomically to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
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
