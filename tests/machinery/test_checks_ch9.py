"""gan_lib.machinery.checks.ch9: the debugging exercises: the fixed round passes, the round as handed out is
'not fixed yet' (False, no error), and other mistakes fail with a message that names what differs."""
import pytest
import torch

from gan_lib.losses import discriminator_loss, generator_loss
from gan_lib.machinery.checks import CheckFailed, ch9
from gan_lib.machinery.checks import check_debugged_round_1, check_debugged_round_2, check_debugged_round_3

CHECKS = {1: check_debugged_round_1, 2: check_debugged_round_2, 3: check_debugged_round_3}


def fixed_round(generator, discriminator, opt_g, opt_d, real, z):
    """The fix in another form than the book's: one pass of D over real and fake, zero_grad at the top."""
    opt_d.zero_grad()
    opt_g.zero_grad()
    fake = generator(z)
    real_logit, fake_logit = discriminator(torch.cat([real, fake.detach()])).chunk(2)
    d_loss = discriminator_loss(real_logit, fake_logit)
    d_loss.backward()
    opt_d.step()
    discriminator.requires_grad_(False)
    fake_logit_after = discriminator(fake)
    g_loss = generator_loss(fake_logit_after)
    g_loss.backward()
    opt_g.step()
    discriminator.requires_grad_(True)
    return d_loss, g_loss, real_logit, fake_logit, fake_logit_after


@pytest.mark.parametrize("bug", [1, 2, 3])
def test_the_fix_passes_and_the_round_as_handed_out_is_not_fixed_yet(bug, capsys):
    assert CHECKS[bug](ch9.book_round) and "Correct" in capsys.readouterr().out
    assert CHECKS[bug](fixed_round)
    assert CHECKS[bug](ch9._planted(bug)) is False
    out = capsys.readouterr().out
    assert "Not fixed yet" in out and ch9.SYMPTOMS[bug] in out


@pytest.mark.parametrize("bug", [1, 2, 3])
def test_another_exercises_bug_is_a_failure_not_a_pass(bug):
    other = ch9._planted(bug % 3 + 1)
    with pytest.raises(CheckFailed):
        CHECKS[bug](other)


def test_a_stub_is_not_answered(capsys):
    def stub(generator, discriminator, opt_g, opt_d, real, z):
        raise NotImplementedError
    assert check_debugged_round_1(stub) is False and "Not answered yet" in capsys.readouterr().out


def test_mistakes_are_named():
    def no_g_step(generator, discriminator, opt_g, opt_d, real, z):
        out = ch9.book_round(generator, discriminator, torch.optim.SGD(generator.parameters(), lr=0.0), opt_d, real, z)
        return out
    with pytest.raises(CheckFailed, match="generator's weights unchanged"):
        check_debugged_round_1(no_g_step)

    def raises(generator, discriminator, opt_g, opt_d, real, z):
        fake = generator(z)
        d_loss = discriminator_loss(discriminator(real), discriminator(fake))   # no detach, fakes reused
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = generator_loss(discriminator(fake))
        opt_g.zero_grad()
        g_loss.backward()
        return d_loss, g_loss
    with pytest.raises(CheckFailed, match="Your round raised RuntimeError"):
        check_debugged_round_2(raises)

    def returns_two(generator, discriminator, opt_g, opt_d, real, z):
        return ch9.book_round(generator, discriminator, opt_g, opt_d, real, z)[:2]
    with pytest.raises(CheckFailed, match="five tensors"):
        check_debugged_round_3(returns_two)

    def wrong_value(generator, discriminator, opt_g, opt_d, real, z):
        d_loss, g_loss, *logits = ch9.book_round(generator, discriminator, opt_g, opt_d, real, z)
        return (2 * d_loss, g_loss, *logits)
    with pytest.raises(CheckFailed, match="your d_loss differs"):
        check_debugged_round_3(wrong_value)


def test_each_planted_bug_changes_the_weights():
    """The check can only tell 'not fixed' from 'fixed' if the planted round differs from the book's."""
    nets = ch9._tiny(4, 6, torch.float64, 0)
    g = torch.Generator().manual_seed(3)
    batches = [(torch.rand(5, 6, generator=g, dtype=torch.float64) * 2 - 1,
                torch.randn(5, 4, generator=g, dtype=torch.float64)) for _ in range(3)]
    book = ch9._rounds(ch9.book_round, nets, batches)
    for bug in (1, 2, 3):
        planted = ch9._rounds(ch9._planted(bug), nets, batches)
        assert ch9._gap(planted[1], book[1]) > 1e-3, f"bug {bug} leaves D as the book's round does"
