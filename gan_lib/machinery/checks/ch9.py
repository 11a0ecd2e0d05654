"""Machinery: the checks of chapter 9's exercises: rounds of training with a hidden bug, fixed by the student.

Each exercise hands out a round, ``round_fn(generator, discriminator, opt_g, opt_d, real, z)``: one step of D on
Eq. (ch4-d-loss) and one of G on Eq. (ch4-g-loss), returning ``(d_loss, g_loss, real_logit, fake_logit,
fake_logit_after)`` for a :class:`gan_lib.diagnose.Recorder`. The check runs the student's round and the book's
for three rounds on copies of the same small networks (two sizes, in float64 and in float32) and compares the
weights. The round as handed out is "not fixed yet": the check says what its bug still does and returns False.
Any other difference fails, naming which network differs and how.
"""
from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from ...losses import discriminator_loss
from .core import CheckFailed, _call, _not_answered, _NotAnswered

from ...bug_zoo import correct_round as book_round  # the one correct round, shared with the zoo
from ...bug_zoo import generator_half

__all__ = ["check_debugged_round_1", "check_debugged_round_2", "check_debugged_round_3"]


def _planted(bug: int) -> Callable:
    """The round as each exercise hands it out (the same bugs as the chapter's cells, written here for the check)."""
    def round_fn(generator, discriminator, opt_g, opt_d, real, z):
        fake = generator(z)
        real_logit, fake_logit = discriminator(real), discriminator(fake.detach())
        if bug == 2:
            d_loss = discriminator_loss(fake_logit, real_logit)   # bug 2: the targets swapped
        else:
            d_loss = discriminator_loss(real_logit, fake_logit)
        if bug == 1:
            d_loss.backward()
            opt_d.zero_grad()                                     # bug 1: the gradients cleared before the step
        else:
            (opt_g if bug == 3 else opt_d).zero_grad()            # bug 3: the wrong optimizer zeroed
            d_loss.backward()
        opt_d.step()
        g_loss, fake_logit_after = generator_half(generator, discriminator, opt_g, fake)   # G's half is right
        return d_loss, g_loss, real_logit, fake_logit, fake_logit_after
    return round_fn


SYMPTOMS = {
    1: "after three rounds the discriminator's weights are exactly what they were: its step changes nothing.",
    2: "your discriminator learns to call the fakes real and the real images fake.",
    3: "the discriminator's steps are driven by the sum of every round's gradients so far, not by this round's.",
}


def _tiny(latent: int, features: int, dtype: torch.dtype, seed: int) -> tuple[nn.Module, nn.Module]:
    g = torch.Generator().manual_seed(seed)
    generator = nn.Sequential(nn.Linear(latent, 8), nn.ReLU(), nn.Linear(8, features), nn.Tanh()).to(dtype)
    discriminator = nn.Sequential(nn.Linear(features, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)).to(dtype)
    with torch.no_grad():
        for p in [*generator.parameters(), *discriminator.parameters()]:
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.7)
    return generator, discriminator


def _rounds(fn: Callable, nets: tuple[nn.Module, nn.Module], batches: list) -> tuple[nn.Module, nn.Module, list]:
    """Three rounds of ``fn`` on copies of ``nets``, with SGD (lr 0.1): the weights and what each round returned."""
    generator, discriminator = (copy.deepcopy(m) for m in nets)
    opt_g, opt_d = (torch.optim.SGD(m.parameters(), lr=0.1) for m in (generator, discriminator))
    returned = [_call(fn, generator, discriminator, opt_g, opt_d, real.clone(), z.clone()) for real, z in batches]
    return generator, discriminator, returned


def _gap(a: nn.Module, b: nn.Module) -> float:
    return max((p.detach().double() - q.detach().double()).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))


def _check(fn: Callable, bug: int) -> bool:
    configs = [(4, 6, 5, torch.float64, 0), (3, 10, 8, torch.float32, 1)]
    try:
        for latent, features, batch_size, dtype, seed in configs:
            nets = _tiny(latent, features, dtype, seed)
            g = torch.Generator().manual_seed(seed + 10)
            batches = [(torch.rand(batch_size, features, generator=g, dtype=torch.float64).to(dtype) * 2 - 1,
                        torch.randn(batch_size, latent, generator=g, dtype=torch.float64).to(dtype)) for _ in range(3)]
            tol = 1e-9 if dtype == torch.float64 else 1e-5
            try:
                mine = _rounds(fn, nets, batches)
            except (_NotAnswered, CheckFailed):
                raise
            except Exception as err:
                raise CheckFailed(f"Your round raised {type(err).__name__}: {str(err).splitlines()[0]}") from err
            book = _rounds(book_round, nets, batches)
            planted = _rounds(_planted(bug), nets, batches)
            if _gap(mine[0], planted[0]) <= tol and _gap(mine[1], planted[1]) <= tol:
                print(f"Not fixed yet: {SYMPTOMS[bug]} Run your round with a Recorder, read the diagnosis, and "
                      "find the line.")
                return False
            _compare(mine, book, nets, tol, dtype)
    except _NotAnswered:
        return _not_answered("your round")
    print("Correct: three rounds of your loop give the book's weights, for two network sizes, in float64 and "
          "float32, and return the values a Recorder needs.")
    return True


def _compare(mine, book, nets, tol, dtype) -> None:
    names = ("generator", "discriminator")
    for who, start, m, b in zip(names, nets, mine[:2], book[:2]):
        if _gap(m, b) <= tol:
            continue
        if _gap(m, start) == 0:
            raise CheckFailed(f"Your round leaves the {who}'s weights unchanged in three rounds ({dtype}): "
                              f"its optimizer step does nothing.")
        raise CheckFailed(f"After three rounds ({dtype}) the {who}'s weights differ from the book's by up to "
                          f"{_gap(m, b):.2e}: its update is not the book's. Compare your round with the zoo loop.")
    for t, (yours, true) in enumerate(zip(mine[2], book[2]), start=1):
        if not (isinstance(yours, (tuple, list)) and len(yours) == 5):
            raise CheckFailed("Your round should return five tensors: (d_loss, g_loss, real_logit, fake_logit, "
                              "fake_logit_after), what Recorder.record takes.")
        for name, y, v in zip(("d_loss", "g_loss", "real_logit", "fake_logit", "fake_logit_after"), yours, true):
            if not torch.allclose(torch.as_tensor(y).detach().double(), v.detach().double(), rtol=1e-6, atol=tol):
                raise CheckFailed(f"In round {t} your {name} differs from the book's: the weights are right, but the "
                                  "value returned for the Recorder is not the one the step used.")


def check_debugged_round_1(fn: Callable) -> bool:
    """Chapter 9, exercise 1: the round whose discriminator never learns, fixed."""
    return _check(fn, 1)


def check_debugged_round_2(fn: Callable) -> bool:
    """Chapter 9, exercise 2: the round whose discriminator prefers the fakes, fixed."""
    return _check(fn, 2)


def check_debugged_round_3(fn: Callable) -> bool:
    """Chapter 9, exercise 3: the round whose discriminator's gradient norm keeps growing, fixed."""
    return _check(fn, 3)
