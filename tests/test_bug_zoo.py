"""gan_lib.bug_zoo: each bug is its base loop with one line changed; each bug's run is diagnosed as its cause by
gan_lib.diagnose; the correct variants train bit for bit like the zoo loop; the missing detach raises PyTorch's error."""
import pytest
import torch

from gan_lib import bug_zoo as dg
from gan_lib import data
from gan_lib import diagnose

needs_fashion = pytest.mark.skipif(data.locate("fashion-mnist")[0] is None,
                                   reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


def causes(history):
    return [f.cause for f in diagnose.diagnose(history)]


def test_each_bug_is_its_base_loop_with_one_line_changed():
    for name, bug in dg.BUGS.items():
        diff = dg.loop_diff(name).splitlines()
        removed = [line for line in diff if line.startswith("-") and not line.startswith("---")]
        added = [line for line in diff if line.startswith("+") and not line.startswith("+++")]
        if name == "zero_grad_first":                     # the one move: a line leaves one place for another
            assert [r[1:].strip() for r in removed] == [a[1:].strip() for a in added] == ["opt_g.zero_grad()"]
        else:
            assert len(removed) == 1 and len(added) <= 1, f"{name}: {diff}"
    source = dg.loop_source("zoo_loop")
    assert source.count("\n") < 30 and "def zoo_loop" in source


def test_an_edit_that_does_not_match_is_refused(monkeypatch):
    monkeypatch.setitem(dg.BUGS, "typo", dg.Bug("a typo", (("no such line\n", ""),)))
    with pytest.raises(ValueError, match="occurs 0 times"):
        dg.loop_source("typo")


@pytest.fixture(scope="module")
def fashion():
    return data.load_images("fashion-mnist", "train").images[:5000]


ZOO = {"no_d_step": "discriminator_not_learning", "fake_target": "generator_wrong_target",
       "double_sigmoid": "double_sigmoid", "no_zero_grad": "gradients_accumulate",
       "images_in_0_1": "data_range", "lr_too_high": "unstable", "strong_discriminator": "discriminator_too_strong"}


@needs_fashion
@pytest.mark.parametrize("name", sorted(ZOO))
def test_each_zoo_bug_is_diagnosed_as_its_cause(name, fashion):
    _, h = dg.buggy_loop(name)(fashion, 150, seed=0)
    assert causes(h) == [ZOO[name]], diagnose.report(diagnose.diagnose(h))


@needs_fashion
def test_the_zoo_loop_and_its_correct_variants_are_healthy_and_identical(fashion):
    generator, h = dg.zoo_loop(fashion, 60, seed=0)
    assert causes(h) == ["healthy"]
    for name in ("fresh_fakes", "fresh_fakes_no_detach", "zero_grad_first"):
        other, _ = dg.buggy_loop(name)(fashion, 5, seed=1)
        reference, _ = dg.zoo_loop(fashion, 5, seed=1)
        assert all(torch.equal(p, q) for p, q in zip(other.parameters(), reference.parameters())), name
    changed, _ = dg.buggy_loop("zero_grad_first_no_detach")(fashion, 5, seed=1)
    assert not all(torch.equal(p, q) for p, q in zip(changed.parameters(), reference.parameters()))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        dg.buggy_loop("no_detach")(fashion, 2, seed=0)


