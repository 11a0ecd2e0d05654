"""gan_lib.machinery.checks.ch4: the two halves of the loop, right and with the mistakes learners make."""
import pytest
import torch

from gan_lib.losses import bce_with_logits, discriminator_loss, generator_loss
from gan_lib.machinery.checks import CheckFailed, check_discriminator_step, check_generator_step


def good_g_step(generator, discriminator, opt_g, z):
    discriminator.requires_grad_(False)
    loss = generator_loss(discriminator(generator(z)))
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    discriminator.requires_grad_(True)
    return loss


def good_d_step(generator, discriminator, opt_d, real, z):
    loss = discriminator_loss(discriminator(real), discriminator(generator(z).detach()))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss


def test_right_answers_pass_including_an_equivalent_form():
    assert check_generator_step(good_g_step)

    def with_torch_loss(generator, discriminator, opt_g, z):
        discriminator.requires_grad_(False)
        logit = discriminator(generator(z))
        loss = torch.nn.BCEWithLogitsLoss()(logit, torch.ones_like(logit))
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        discriminator.requires_grad_(True)
        return loss
    assert check_generator_step(with_torch_loss)
    assert check_discriminator_step(good_d_step)


def test_a_stub_is_not_answered_yet(capsys):
    assert check_generator_step(lambda *a: None) is False
    assert check_discriminator_step(lambda *a: (_ for _ in ()).throw(NotImplementedError)) is False
    assert "Not answered yet" in capsys.readouterr().out


def _variant(saturating=False, target0=False, freeze=True, unfreeze=True, step=True, zero=True):
    def g_step(generator, discriminator, opt_g, z):
        if freeze:
            discriminator.requires_grad_(False)
        logit = discriminator(generator(z))
        loss = (generator_loss(logit, "saturating") if saturating else
                bce_with_logits(logit, 0.0) if target0 else generator_loss(logit))
        if zero:
            opt_g.zero_grad()
        loss.backward()
        if step:
            opt_g.step()
        if unfreeze:
            discriminator.requires_grad_(True)
        return loss
    return g_step


@pytest.mark.parametrize("variant, message", [
    (dict(saturating=True), "saturating loss"),
    (dict(target0=True), "fake label 0"),
    (dict(freeze=False), "freeze D first"),
    (dict(unfreeze=False), "left the discriminator frozen"),
    (dict(step=False), "unchanged"),
    (dict(zero=False), "zero_grad"),
])
def test_generator_step_mistakes_are_named(variant, message):
    with pytest.raises(CheckFailed, match=message):
        check_generator_step(_variant(**variant))


def test_discriminator_step_mistakes_are_named():
    def no_detach(generator, discriminator, opt_d, real, z):
        loss = discriminator_loss(discriminator(real), discriminator(generator(z)))
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        return loss

    def swapped(generator, discriminator, opt_d, real, z):
        loss = discriminator_loss(discriminator(generator(z).detach()), discriminator(real))
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        return loss

    with pytest.raises(CheckFailed, match="detach"):
        check_discriminator_step(no_detach)
    with pytest.raises(CheckFailed, match="swaps the targets"):
        check_discriminator_step(swapped)

    def no_zero_grad(generator, discriminator, opt_d, real, z):
        loss = discriminator_loss(discriminator(real), discriminator(generator(z).detach()))
        loss.backward()
        opt_d.step()
        return loss
    with pytest.raises(CheckFailed, match="zero_grad"):
        check_discriminator_step(no_zero_grad)
    with pytest.raises(CheckFailed, match="return the loss"):
        check_discriminator_step(lambda *a: (good_d_step(*a), 0.0)[1])
