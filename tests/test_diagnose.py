"""gan_lib.diagnose: each rule at and around its threshold on synthetic histories; the recorder; the bug zoo's
loops, each diagnosed as its cause; and short healthy runs of every recipe of the book, diagnosed healthy."""
import math

import numpy as np
import pytest
import torch

from gan_lib import data
from gan_lib import diagnose as dg
from gan_lib.machinery import recipes
from gan_lib.train import HISTORY_KEYS, new_gan, train

needs_fashion = pytest.mark.skipif(data.locate("fashion-mnist")[0] is None,
                                   reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


def history(n=200, d_real=0.75, d_fake_before=0.35, d_fake_after=0.3, d_loss=1.0, g_norm=2.0, d_norm=1.0, seed=0):
    """A healthy-looking run: noisy curves around the given values, D's step lowering its verdict on the fakes,
    and G's loss the non-saturating loss of a batch whose mean D(G(z)) is d_fake_after (so Jensen holds)."""
    rng = np.random.default_rng(seed)
    jitter = lambda scale: rng.normal(0, scale, n)  # noqa: E731
    h = {"d_real": np.clip(d_real + jitter(0.02), 1e-3, 1 - 1e-3),
         "d_fake_before": np.clip(d_fake_before + jitter(0.02), 1e-3, 1 - 1e-3),
         "d_loss": np.abs(d_loss + jitter(0.05)), "g_grad_norm": g_norm * np.exp(jitter(0.3)),
         "d_grad_norm": d_norm * np.exp(jitter(0.3))}
    h["d_fake_after"] = np.clip(h["d_fake_before"] - (d_fake_before - d_fake_after), 1e-4, 1 - 1e-3)
    h["g_loss"] = -np.log(h["d_fake_after"]) + 0.05
    return {"step": list(range(1, n + 1)), **{k: list(h[k]) for k in HISTORY_KEYS}}


def causes(h, **kwargs):
    return [f.cause for f in dg.diagnose(h, **kwargs)]


def test_a_healthy_looking_history_is_healthy_and_the_vocabulary_is_fixed():
    findings = dg.diagnose(history())
    assert [f.cause for f in findings] == ["healthy"] and "no rule fired" in findings[0].message
    assert findings[0].as_dict() == {"cause": "healthy", "message": findings[0].message}
    required = {"healthy", "discriminator_not_learning", "discriminator_too_strong", "generator_wrong_target",
                "double_sigmoid", "gradients_accumulate", "unstable", "mode_collapse", "diverged"}
    assert required <= set(dg.CAUSES) and set(dg.LOOP_BUGS) <= set(dg.CAUSES)


def test_nan_short_and_ragged_histories():
    h = history()
    h["g_loss"][150] = float("nan")
    assert causes(h) == ["diverged"] and "step 151" in dg.diagnose(h)[0].message
    assert causes(history(n=dg.MIN_STEPS - 1)) == ["too_short"]
    assert causes(history(n=dg.MIN_STEPS)) == ["healthy"]
    h = history()
    h["d_loss"].pop()
    with pytest.raises(ValueError, match="differ in length"):
        dg.diagnose(h)


def test_double_sigmoid_is_the_band_from_one_half_to_sigmoid_of_one():
    assert abs(dg.SIGMOID_OF_1 - torch.sigmoid(torch.tensor(1.0, dtype=torch.float64)).item()) < 1e-15
    p = torch.linspace(0, 1, 1001, dtype=torch.float64)
    assert torch.sigmoid(p).min() == 0.5 and abs(torch.sigmoid(p).max() - dg.SIGMOID_OF_1) < 1e-15
    h = history(d_real=0.7, d_fake_before=0.6, d_fake_after=0.59, d_loss=1.3)
    for key in ("d_real", "d_fake_before", "d_fake_after"):
        h[key] = list(np.clip(h[key], 0.5, dg.SIGMOID_OF_1))
    assert causes(h) == ["double_sigmoid"]
    inside = dict(h, d_real=list(h["d_real"]))
    inside["d_real"][3] = 0.5 - 1e-5                      # one value below 1/2: a sigmoid of a probability cannot
    assert causes(inside) == ["healthy"]
    inside["d_real"][3] = dg.SIGMOID_OF_1 + 1e-5          # nor above sigmoid(1)
    assert causes(inside) == ["healthy"]


def test_wrong_target_is_a_generator_loss_below_the_jensen_bound():
    h = history()
    n = len(h["g_loss"])
    late = range(n // 2, n)
    at_bound = dict(h, g_loss=[-math.log(p) for p in h["d_fake_after"]])  # equality in Jensen: allowed
    assert causes(at_bound) == ["healthy"]
    below = dict(h, g_loss=list(h["g_loss"]))
    for i in list(late)[: len(late) // 2]:               # half the late steps below the bound: fires
        below["g_loss"][i] = -math.log(h["d_fake_after"][i]) - 0.1
    assert causes(below) == ["generator_wrong_target"]
    below["g_loss"][n // 2] = -math.log(h["d_fake_after"][n // 2]) + 0.1   # one fewer: does not
    assert causes(below) == ["healthy"]
    sat = dict(h, g_loss=[math.log(1 - p) for p in h["d_fake_after"]])    # the saturating loss, at its bound
    assert causes(sat, g_loss="saturating") == ["healthy"]
    assert causes(dict(sat, g_loss=[0.0] * n), g_loss="saturating") == ["generator_wrong_target"]


def test_a_discriminator_whose_step_changes_nothing():
    h = history()
    n = len(h["d_loss"])
    frozen = dict(h, d_fake_after=list(h["d_fake_before"]))
    frozen["g_loss"] = [-math.log(p) + 0.05 for p in frozen["d_fake_after"]]
    assert causes(frozen) == ["discriminator_not_learning"]
    moved = dict(frozen, d_fake_after=list(frozen["d_fake_after"]))
    for i in range(n // 2, n // 2 + math.ceil(0.1 * n / 2) + 1):   # over 10% of the late steps moved: does not fire
        moved["d_fake_after"][i] -= 1e-4
    assert causes(moved) == ["healthy"]
    pinned = dict(frozen, d_fake_before=[1e-6] * n, d_fake_after=[1e-6] * n, g_loss=[14.0] * n)
    assert "discriminator_not_learning" not in causes(pinned), "a saturated verdict is not evidence either way"


def test_swapped_labels_raise_the_verdict_on_fakes():
    h = history(d_real=0.2, d_fake_before=0.7, d_fake_after=0.75, d_loss=0.5)
    assert causes(h) == ["labels_swapped"]
    assert causes(history(d_real=0.8, d_fake_before=0.7, d_fake_after=0.75)) == ["healthy"], "D(x) above D(G(z))"
    h = history(d_real=0.2, d_fake_before=0.7, d_fake_after=0.75, d_loss=0.5)
    n = len(h["d_loss"])
    for i in range(n // 2, n // 2 + 11):                 # 11 of 100 late steps lowered: under 90% raised
        h["d_fake_after"][i] = h["d_fake_before"][i] - 0.01
    assert causes(h) == ["healthy"]


def test_accumulating_gradients_grow_smoothly():
    n = 2000
    steps = np.arange(1, n + 1, dtype=np.float64)
    h = history(n=n)
    h["d_grad_norm"] = list(steps)                        # a running sum of aligned gradients: n_t = t
    ratio = np.median(steps[n // 2:]) / np.median(steps[1:11])
    assert ratio > dg.GROWTH
    assert causes(h) == ["gradients_accumulate"] and "D's gradient" in dg.diagnose(h)[0].message
    slow = dict(h, d_grad_norm=list(steps ** 0.3))        # grows, but less than GROWTH times
    assert np.median(steps[n // 2:] ** 0.3) / np.median(steps[1:11] ** 0.3) < dg.GROWTH
    assert causes(slow) == ["healthy"]
    jumpy = dict(h, d_grad_norm=list(steps * np.exp(np.random.default_rng(0).normal(0, 0.3, n))))
    assert causes(jumpy) == ["healthy"], "large, but jumping from step to step: not a sum"
    g_side = history(n=n)
    g_side["g_grad_norm"] = list(steps * 3)
    assert causes(g_side) == ["gradients_accumulate"] and "G's gradient" in dg.diagnose(g_side)[0].message


def test_data_range_reads_the_recorded_real_batches():
    h = history()
    n = len(h["d_loss"])
    assert causes(dict(h, real_min=[-1.0] * n, real_max=[1.0] * n)) == ["healthy"]
    assert causes(dict(h, real_min=[0.0] * n, real_max=[1.0] * n)) == ["data_range"]
    assert causes(dict(h, real_min=[-1.0] * n, real_max=[255.0] * n)) == ["data_range"]
    assert causes(dict(h, real_min=[-0.01] * n, real_max=[1.0] * n)) == ["healthy"]


def test_a_dead_run_is_diverged():
    h = history(d_real=0.999, d_loss=1e-3, g_norm=1e-7)
    n = len(h["g_loss"])
    h.update(d_fake_before=[1e-6] * n, d_fake_after=[1e-6] * n, g_loss=[13.9] * n)   # D's verdict pinned at 0
    assert causes(h) == ["diverged"]
    h["g_grad_norm"] = [10 * dg.DEAD_GRAD] * n
    assert "diverged" not in causes(h)


def test_too_strong_around_its_loss_threshold():
    base = dict(d_real=0.95, d_fake_before=0.06, d_fake_after=0.05)
    h = history(d_loss=dg.TOO_STRONG_D_LOSS - 0.02, **base)
    assert causes(h) == ["discriminator_too_strong"]
    assert causes(history(d_loss=dg.TOO_STRONG_D_LOSS + 0.02, **base)) == ["healthy"]
    assert causes(history(d_loss=0.1, d_real=0.85, d_fake_before=0.06, d_fake_after=0.05)) == ["healthy"]


def test_unstable_is_a_discriminator_often_confidently_wrong():
    h = history()
    n = len(h["d_loss"])
    late = n - n // 2
    spikes = int(dg.UNSTABLE_SHARE * late) + 1
    for i in range(n // 2, n // 2 + spikes):
        h["d_loss"][i] = dg.UNSTABLE_D_LOSS + 1
    assert causes(h) == ["unstable"]
    h["d_loss"][n // 2] = dg.UNSTABLE_D_LOSS - 0.01          # one spike fewer: at the share, not above it
    assert causes(h) == ["healthy"]


def test_a_loop_bug_hides_the_dynamics_it_causes():
    h = history()
    n = len(h["d_loss"])
    for i in range(n // 2, n):
        h["d_loss"][i] = 10.0
    assert causes(h) == ["unstable"]
    assert causes(dict(h, real_min=[0.0] * n, real_max=[1.0] * n)) == ["data_range"]


def test_mode_collapse_from_a_histogram_and_from_sample_grids():
    h = history()
    four = [500, 300, 150, 40, 10, 0, 0, 0, 0, 0]          # 4 classes with >= 2% of 1000 images
    assert causes(h, histogram=four) == ["mode_collapse"]
    five = [500, 250, 150, 60, 20, 10, 10, 0, 0, 0]           # 5: the last at exactly 2%
    assert causes(h, histogram=five) == ["healthy"]
    g = torch.Generator().manual_seed(0)
    same = (torch.rand(1, 1, 28, 28, generator=g) + 0.05 * torch.randn(64, 1, 28, 28, generator=g)).half()
    varied = (torch.rand(64, 1, 28, 28, generator=g) * 2 - 1).half()
    long = history(n=dg.SPREAD_MIN_STEPS)
    assert causes(dict(long, samples=[varied, same])) == ["mode_collapse"]
    assert causes(dict(long, samples=[same, varied])) == ["healthy"]
    assert causes(dict(history(n=dg.SPREAD_MIN_STEPS - 1), samples=[same])) == ["healthy"], "too early to judge"


def test_report_is_one_paragraph_per_finding():
    text = dg.report([dg.Finding("healthy", "fine."), dg.Finding("unstable", "wild.")])
    assert text == "healthy: fine.\nunstable: wild."


# --- the recorder --------------------------------------------------------------------------------

def test_recorder_records_what_gan_lib_train_records():
    torch.manual_seed(0)
    generator = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh())
    discriminator = torch.nn.Sequential(torch.nn.Linear(5, 1))
    fixed_z = torch.randn(7, 3)
    recorder = dg.Recorder(generator, discriminator, fixed_z=fixed_z, sample_every=2)
    for _ in range(4):
        for p in [*generator.parameters(), *discriminator.parameters()]:
            p.grad = torch.randn_like(p)
        real_logit, fake_logit, after = torch.randn(6, 1), torch.randn(6, 1), torch.randn(6, 1)
        recorder.record(torch.tensor(1.2), torch.tensor(0.7), real_logit, fake_logit, after, real=torch.rand(6, 5))
    h = recorder.history
    assert h["step"] == [1, 2, 3, 4] and all(len(h[k]) == 4 for k in HISTORY_KEYS)
    assert abs(h["d_real"][-1] - torch.sigmoid(real_logit).mean().item()) < 1e-7
    assert abs(h["d_fake_after"][-1] - torch.sigmoid(after).mean().item()) < 1e-7
    every = torch.cat([p.grad.flatten() for p in generator.parameters()])
    assert abs(h["g_grad_norm"][-1] - every.norm().item()) < 1e-5
    assert h["sample_steps"] == [2, 4] and h["samples"][-1].shape == (7, 5)
    assert 0 <= min(h["real_min"]) and max(h["real_max"]) <= 1
    empty = dg.Recorder(generator, torch.nn.Linear(5, 1))     # a network without gradients: norm 0
    empty.record(torch.tensor(1.0), torch.tensor(1.0), real_logit, fake_logit, after)
    assert empty.history["d_grad_norm"] == [0.0]


@needs_fashion
@pytest.mark.parametrize("name", ["PLAIN", "BOOK", "DCGAN", "CONDITIONAL"])
def test_short_healthy_runs_of_every_recipe_raise_nothing(name):
    recipe = getattr(recipes, name)
    train_set = data.load_images("fashion-mnist", "train")
    labels = train_set.labels[:5000] if recipe.num_classes else None
    gan = train(new_gan(recipe, seed=0), train_set.images[:5000], 40 if recipe.model == "dcgan" else 100,
                labels=labels, sample_every=20)
    assert causes(gan.history) == ["healthy"], dg.report(dg.diagnose(gan.history))
