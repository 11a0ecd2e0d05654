"""Machinery: the checks of chapter 4's exercises: the two halves of the training loop, written by the student.

Each check runs the student's step and the book's on copies of the same small networks and batch, then looks for
the mistakes learners make: fakes not detached in D's step, D not frozen (or left frozen) in G's step, the
saturating loss or the fake label in G's step, a missing optimizer step. Two batch sizes are tried.
"""
from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from ...losses import discriminator_loss, generator_loss
from .core import DT, CheckFailed, _call, _not_answered, _NotAnswered

__all__ = ["check_discriminator_step", "check_generator_step"]


def _tiny_gan(seed: int) -> tuple[nn.Module, nn.Module]:
    """A 4-8-6 generator (Tanh) and a 6-8-1 discriminator (a logit), in float64."""
    g = torch.Generator().manual_seed(seed)
    generator = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.Tanh()).to(DT)
    discriminator = nn.Sequential(nn.Linear(6, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)).to(DT)
    with torch.no_grad():
        for p in [*generator.parameters(), *discriminator.parameters()]:
            p.copy_(torch.randn(p.shape, generator=g, dtype=DT) * 0.7)
    return generator, discriminator


def _same(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.allclose(p, q, rtol=1e-9, atol=1e-12) for p, q in zip(a.parameters(), b.parameters()))


def _had_gradient(model: nn.Module) -> bool:
    return any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in model.parameters())


def _stale_gradients(model: nn.Module) -> list[torch.Tensor]:
    """Fill ``.grad`` with a gradient left over from an earlier step (what a missing zero_grad would add)."""
    stale = []
    for i, p in enumerate(model.parameters()):
        p.grad = torch.full_like(p, 0.3 * (-1) ** i)
        stale.append(p.grad.clone())
    return stale


def _check_returned(loss: object, ref_loss: torch.Tensor) -> None:
    """The step's weights are right; its return value must be the loss it descended (read without autograd)."""
    ref = float(ref_loss.detach())
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1 or abs(float(loss.detach()) - ref) > 1e-9 * max(1, abs(ref)):
        raise CheckFailed(f"Your step is right, but it returned {loss!r} instead of the loss it descended "
                          f"({ref:.6g}): return the loss tensor.")


def _generator_step(generator, discriminator, opt_g, z, loss_of, zero_grad=True):
    """The book's generator step (D frozen), with the loss ``loss_of(fake_logit)``."""
    discriminator.requires_grad_(False)
    loss = loss_of(discriminator(generator(z)))
    if zero_grad:
        opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    discriminator.requires_grad_(True)
    return loss


def check_generator_step(fn: Callable) -> bool:
    """Chapter 4, Eq. (ch4-g-loss): ``fn(generator, discriminator, opt_g, z)`` takes one step of G on the
    non-saturating loss through a frozen D, leaves D trainable again, and returns the loss."""
    candidates = {"the non-saturating loss": lambda a: generator_loss(a, "non_saturating"),
                  "the saturating loss": lambda a: generator_loss(a, "saturating"),
                  "BCE towards the fake label 0": lambda a: -generator_loss(a, "saturating")}
    try:
        for seed, batch_size in ((0, 5), (1, 8)):
            generator, discriminator = _tiny_gan(seed)
            z = torch.randn(batch_size, 4, generator=torch.Generator().manual_seed(seed + 10), dtype=DT)
            mine_g, mine_d = copy.deepcopy(generator), copy.deepcopy(discriminator)
            _stale_gradients(mine_g)
            stale_d = _stale_gradients(mine_d)
            loss = _call(fn, mine_g, mine_d, torch.optim.SGD(mine_g.parameters(), lr=0.1), z.clone())
            if _same(mine_g, generator):
                raise CheckFailed("Your step left the generator's weights unchanged: after loss.backward(), "
                                  "call opt_g.step() (and opt_g.zero_grad() before the backward pass).")
            if not _same(mine_d, discriminator):
                raise CheckFailed("Your step changed the discriminator's weights: in G's step only opt_g steps, "
                                  "and D is held fixed.")
            if not all(p.grad is None or torch.equal(p.grad, g) for p, g in zip(mine_d.parameters(), stale_d)):
                raise CheckFailed("The discriminator's weights received gradients during G's step: freeze D first "
                                  "(discriminator.requires_grad_(False)), so the backward pass computes none "
                                  "for them; they would pile up in .grad for nothing.")
            if not all(p.requires_grad for p in mine_d.parameters()):
                raise CheckFailed("Your step left the discriminator frozen: call discriminator.requires_grad_(True) "
                                  "after G's step, or D's own next step learns nothing.")
            found = None
            for name, loss_of in candidates.items():
                ref_g, ref_d = copy.deepcopy(generator), copy.deepcopy(discriminator)
                ref_loss = _generator_step(ref_g, ref_d, torch.optim.SGD(ref_g.parameters(), lr=0.1), z, loss_of)
                if _same(mine_g, ref_g):
                    found = name, ref_loss
                    break
            stale_g = copy.deepcopy(generator)
            _stale_gradients(stale_g)
            _generator_step(stale_g, copy.deepcopy(discriminator), torch.optim.SGD(stale_g.parameters(), lr=0.1), z,
                            candidates["the non-saturating loss"], zero_grad=False)
            if found is None and _same(mine_g, stale_g):
                raise CheckFailed("Your step added this step's gradient to one left over in .grad from before: "
                                  "call opt_g.zero_grad() before loss.backward().")
            if found is None:
                raise CheckFailed("Your generator's new weights match no step of Eq. (ch4-g-loss): compute the "
                                  "loss as generator_loss(discriminator(generator(z))), i.e. BCE of D's logits on "
                                  "the fakes against the target 1.")
            if found[0] != "the non-saturating loss":
                raise CheckFailed(f"Your step descends {found[0]}. The book's generator descends the non-saturating "
                                  "loss -log D(G(z)) (BCE towards the *real* label 1), Eq. (ch4-g-loss), whose "
                                  "gradient does not vanish when D rejects the fakes.")
            _check_returned(loss, found[1])
    except _NotAnswered:
        return _not_answered("your generator step")
    print("Correct: one step on the non-saturating loss through a frozen discriminator, which is trainable again "
          "afterwards (checked at batch sizes 5 and 8).")
    return True


def check_discriminator_step(fn: Callable) -> bool:
    """Chapter 4, Eq. (ch4-d-loss): ``fn(generator, discriminator, opt_d, real, z)`` takes one step of D on real
    images (target 1) and detached fakes G(z) (target 0), and returns the loss."""
    try:
        for seed, batch_size in ((2, 5), (3, 8)):
            generator, discriminator = _tiny_gan(seed)
            g = torch.Generator().manual_seed(seed + 20)
            real = torch.rand(batch_size, 6, generator=g, dtype=DT) * 2 - 1
            z = torch.randn(batch_size, 4, generator=g, dtype=DT)
            mine_g, mine_d = copy.deepcopy(generator), copy.deepcopy(discriminator)
            _stale_gradients(mine_d)
            loss = _call(fn, mine_g, mine_d, torch.optim.SGD(mine_d.parameters(), lr=0.1), real.clone(), z.clone())
            if _had_gradient(mine_g):
                raise CheckFailed("The generator's weights received gradients from D's loss: pass the fakes to D "
                                  "as generator(z).detach(), so that D's step computes nothing for G.")
            if not _same(mine_g, generator):
                raise CheckFailed("Your step changed the generator's weights: in D's step only opt_d steps.")
            if _same(mine_d, discriminator):
                raise CheckFailed("Your step left the discriminator's weights unchanged: call opt_d.step().")
            ref_d = copy.deepcopy(discriminator)
            opt = torch.optim.SGD(ref_d.parameters(), lr=0.1)
            ref_loss = discriminator_loss(ref_d(real), ref_d(generator(z).detach()))
            opt.zero_grad()
            ref_loss.backward()
            opt.step()
            if not _same(mine_d, ref_d):
                swapped = copy.deepcopy(discriminator)
                opt = torch.optim.SGD(swapped.parameters(), lr=0.1)
                wrong = discriminator_loss(swapped(generator(z).detach()), swapped(real))
                opt.zero_grad()
                wrong.backward()
                opt.step()
                if _same(mine_d, swapped):
                    raise CheckFailed("Your step swaps the targets: real images go towards 1 and fakes towards 0, "
                                      "discriminator_loss(D(real), D(fake)).")
                stale = copy.deepcopy(discriminator)
                _stale_gradients(stale)
                opt = torch.optim.SGD(stale.parameters(), lr=0.1)
                discriminator_loss(stale(real), stale(generator(z).detach())).backward()
                opt.step()
                if _same(mine_d, stale):
                    raise CheckFailed("Your step added this step's gradient to one left over in .grad from before: "
                                      "call opt_d.zero_grad() before loss.backward().")
                raise CheckFailed("Your discriminator's new weights match no step of Eq. (ch4-d-loss): the loss is "
                                  "BCE of D(real) against 1 plus BCE of D(fake) against 0, each a batch mean.")
            _check_returned(loss, ref_loss)
    except _NotAnswered:
        return _not_answered("your discriminator step")
    print("Correct: one step of D on real (target 1) and detached fakes (target 0), and no gradient reached the "
          "generator (checked at batch sizes 5 and 8).")
    return True
