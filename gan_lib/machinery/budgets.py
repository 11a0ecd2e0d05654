"""Machinery: the one place that decides how long the book trains.

A *budget* is a named set of step counts. The CPU default is sized so that each
chapter runs in its stated time on two cores; a GPU gets a larger default; and
``GAN_BOOK_BUDGET`` forces a named budget:

* ``smoke`` - a few steps of everything, for quick checks (every cell still runs);
* ``cpu``   - the default on a CPU;
* ``gpu``   - the default on CUDA or MPS;
* ``full``  - for readers with time: long runs that give the best samples.

Chapters ask ``budget().gan_steps`` and never type a step count themselves.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, asdict

import torch

ENV_VAR = "GAN_BOOK_BUDGET"


@dataclass(frozen=True)
class Budget:
    name: str
    gan_steps: int          # generator updates of an image GAN (chapters 4-8)
    toy_steps: int          # generator updates of a 2-D toy GAN (chapter 6)
    classifier_steps: int   # updates of the evaluation classifier
    fd_samples: int         # images per side in the book's Frechet distance
    demo_steps: int         # short in-chapter demonstrations (hand-written loops, resume checks)
    cli_steps: int          # `python -m gan_lib train` without --steps: the book's recipe, a few minutes

    def as_dict(self) -> dict:
        return asdict(self)


BUDGETS: dict[str, Budget] = {
    "smoke": Budget("smoke", gan_steps=40, toy_steps=50,
                    classifier_steps=40, fd_samples=500, demo_steps=5, cli_steps=20),
    "cpu": Budget("cpu", gan_steps=2500, toy_steps=2000,
                  classifier_steps=2000, fd_samples=10_000, demo_steps=100, cli_steps=8000),
    "gpu": Budget("gpu", gan_steps=20_000, toy_steps=10_000,
                  classifier_steps=4000, fd_samples=10_000, demo_steps=200, cli_steps=40_000),
    "full": Budget("full", gan_steps=50_000, toy_steps=20_000,
                   classifier_steps=6000, fd_samples=10_000, demo_steps=200, cli_steps=50_000),
}


def budget(device: torch.device | str | None = None) -> Budget:
    """The budget in force: ``$GAN_BOOK_BUDGET`` if set, else ``gpu`` on an accelerator, else ``cpu``."""
    forced = os.environ.get(ENV_VAR, "").strip().lower()
    if forced:
        if forced not in BUDGETS:
            raise ValueError(f"{ENV_VAR}={forced!r} is not a budget; choose one of {sorted(BUDGETS)}.")
        return BUDGETS[forced]
    if device is None:
        from ..runtime import pick_device
        device = pick_device()
    return BUDGETS["cpu" if torch.device(device).type == "cpu" else "gpu"]
