"""The bug zoo of chapter 9: the correct loop, short, from the book's pieces, and the bugs people really make, each
written as that loop with one line changed.

:func:`zoo_loop` records what ``gan_lib.train`` records, with :class:`gan_lib.diagnose.Recorder`; each entry of
:data:`BUGS` is a list of one-line edits of it (or of another entry); :func:`buggy_loop` builds the edited loop and
:func:`loop_diff` prints the edit as a diff. ``"no_detach"`` raises PyTorch's own error, as the bug does.
"""
from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass

import torch
from torch import nn

from .data import random_batch
from .diagnose import Recorder
from .losses import bce_with_logits, discriminator_loss, generator_loss  # noqa: F401 (the bugs' lines use them)
from .models import LATENT_DIM, mlp_discriminator, mlp_generator
from .runtime import seed_everything

def zoo_loop(images: torch.Tensor, num_steps: int, seed: int = 0) -> tuple[nn.Module, dict]:
    """The correct loop, Eqs. (ch4-d-loss) and (ch4-g-loss), from the book's pieces: the bugs of BUGS change one line."""
    rng = seed_everything(seed)
    generator, discriminator = mlp_generator(), mlp_discriminator()
    g_lr, d_lr, d_steps = 2e-4, 2e-4, 1
    opt_g = torch.optim.Adam(generator.parameters(), lr=g_lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=d_lr, betas=(0.5, 0.999))
    recorder = Recorder(generator, discriminator)
    for step in range(num_steps):
        for _ in range(d_steps):
            real = random_batch(images, 64, rng)
            z = torch.randn(64, LATENT_DIM)
            fake = generator(z)
            real_logit, fake_logit = discriminator(real), discriminator(fake.detach())
            d_loss = discriminator_loss(real_logit, fake_logit)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        discriminator.requires_grad_(False)
        fake_logit_after = discriminator(fake)
        g_loss = generator_loss(fake_logit_after)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        discriminator.requires_grad_(True)
        recorder.record(d_loss, g_loss, real_logit, fake_logit, fake_logit_after, real)
    return generator, recorder.history


@dataclass(frozen=True)
class Bug:
    """A change of :func:`zoo_loop` (or of another entry, ``base``): each (old, new) pair replaces one line."""
    what: str
    edits: tuple[tuple[str, str], ...]
    base: str = "zoo_loop"


_DETACHED = "discriminator(fake.detach())\n"
BUGS = {
    "no_d_step": Bug("no optimizer step for D (the source article's loop)", (("            opt_d.step()\n", ""),)),
    "fake_target": Bug("G trained towards the fake label", (("generator_loss(fake_logit_after)",
                                                             "bce_with_logits(fake_logit_after, 0.0)"),)),
    "double_sigmoid": Bug("a Sigmoid in front of a loss on logits", (("mlp_discriminator()\n",
                                                                      "nn.Sequential(mlp_discriminator(), nn.Sigmoid())\n"),)),
    "no_zero_grad": Bug("D's zero_grad forgotten", (("            opt_d.zero_grad()\n", ""),)),
    "no_detach": Bug(".detach() missing in D's step", ((_DETACHED, "discriminator(fake)\n"),)),
    "fresh_fakes": Bug("G's step on fakes drawn again (correct)", (("discriminator(fake)\n", "discriminator(generator(z))\n"),)),
    "fresh_fakes_no_detach": Bug(".detach() missing, G zeroed before its step", ((_DETACHED, "discriminator(fake)\n"),),
                                 base="fresh_fakes"),
    "zero_grad_first": Bug("G's zero_grad at the top of the round (correct)", (
        ("        for _ in range(d_steps):\n", "        opt_g.zero_grad()\n        for _ in range(d_steps):\n"),
        ("        opt_g.zero_grad()\n        g_loss", "        g_loss")), base="fresh_fakes"),
    "zero_grad_first_no_detach": Bug(".detach() missing, G zeroed at the top", ((_DETACHED, "discriminator(fake)\n"),),
                                     base="zero_grad_first"),
    "images_in_0_1": Bug("real images left in [0, 1]", (("real = random_batch(images, 64, rng)",
                                                         "real = (random_batch(images, 64, rng) + 1) / 2"),)),
    "lr_too_high": Bug("learning rates 25 times too high", (("2e-4, 2e-4, 1\n", "5e-3, 5e-3, 1\n"),)),
    "lr_far_too_high": Bug("learning rates 50 times too high", (("2e-4, 2e-4, 1\n", "1e-2, 1e-2, 1\n"),)),
    "strong_discriminator": Bug("a D far stronger than G", (("2e-4, 2e-4, 1\n", "2e-4, 2e-3, 5\n"),)),
}


def loop_source(name: str = "zoo_loop") -> str:
    """The source of :func:`zoo_loop` (``"zoo_loop"``) or of the loop of ``BUGS[name]``."""
    if name == "zoo_loop":
        return inspect.getsource(zoo_loop)
    bug = BUGS[name]
    source = loop_source(bug.base)
    for old, new in bug.edits:
        if source.count(old) != 1:
            raise ValueError(f"BUGS[{name!r}]: {old!r} occurs {source.count(old)} times in its base loop, not once.")
        source = source.replace(old, new)
    return source


def buggy_loop(name: str):
    """The loop of ``BUGS[name]`` as a function, called like :func:`zoo_loop`."""
    namespace = dict(globals())
    exec(compile(loop_source(name), f"<bug zoo: {name}>", "exec"), namespace)
    return namespace["zoo_loop"]


def loop_diff(name: str) -> str:
    """The unified diff from the base loop of ``BUGS[name]`` to its own."""
    base = BUGS[name].base
    return "".join(difflib.unified_diff(loop_source(base).splitlines(True), loop_source(name).splitlines(True),
                                        base, name, n=1))


def correct_round(generator, discriminator, opt_g, opt_d, real, z):
    """One correct round, the body of zoo_loop as a function (chapter 9's exercises): D's step on detached fakes,
    Eq. (ch4-d-loss), then G's through a frozen D, Eq. (ch4-g-loss)."""
    fake = generator(z)
    real_logit, fake_logit = discriminator(real), discriminator(fake.detach())
    d_loss = discriminator_loss(real_logit, fake_logit)
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss, fake_logit_after = generator_half(generator, discriminator, opt_g, fake)
    return d_loss, g_loss, real_logit, fake_logit, fake_logit_after


def generator_half(generator, discriminator, opt_g, fake):
    """G's half of a round, Eq. (ch4-g-loss): one step of opt_g through a frozen D; (g_loss, D's logits on fake)."""
    discriminator.requires_grad_(False)
    fake_logit_after = discriminator(fake)
    g_loss = generator_loss(fake_logit_after)
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    discriminator.requires_grad_(True)
    return g_loss, fake_logit_after
