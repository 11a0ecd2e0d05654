"""Is my GAN training broken? A diagnosis from the training curves, and a recorder for a loop of your own (chapter 9).

:func:`diagnose` reads a run's history, the dict of lists that ``gan_lib.train`` records (``d_loss``, ``g_loss``,
``d_real``, ``d_fake_before``, ``d_fake_after``, ``g_grad_norm``, ``d_grad_norm``: one entry per generator step,
and ``samples`` when it kept sample grids), and returns :class:`Finding` s: a cause from :data:`CAUSES`, and a
message in plain words that says what it saw, what that likely means and what to try. Each rule is a number a
reader can check, read over the *late window* (the last half of the run), and derived in chapter 9 from the
curves of the bug zoo below. A loop of your own records the same numbers with :class:`Recorder`.

The bug zoo whose curves the rules are derived from is in :mod:`gan_lib.bug_zoo`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .train import HISTORY_KEYS, grad_norm

CAUSES = {  # the fixed vocabulary of the diagnosis, in the order its rules are tried
    "diverged": "a value is NaN or infinite, or the run is dead: G gets no gradient and D's verdict is pinned",
    "double_sigmoid": "D's outputs pass through a sigmoid twice: they stay within [0.5, sigmoid(1) = 0.731]",
    "generator_wrong_target": "G's loss is not -log D(G(z)): it is below what that loss can be, by Jensen",
    "discriminator_not_learning": "D's step leaves its verdict on the same fakes exactly as it was",
    "labels_swapped": "D's step raises its verdict on the fakes, and it rates them above the real images",
    "gradients_accumulate": "a gradient norm grows a hundredfold, smoothly: a running sum of all past gradients",
    "data_range": "the real images are not in [-1, 1], the range of the generator's Tanh",
    "discriminator_too_strong": "D separates real from fake almost perfectly, and its loss is near 0",
    "unstable": "D is often confidently wrong: its loss jumps far above the coin flip's 2 log 2",
    "mode_collapse": "the generator draws nearly the same image, or the same few classes, for every z",
    "too_short": "too few steps to judge: the rules read the last half of at least MIN_STEPS steps",
    "healthy": "no rule fired",
}
LOOP_BUGS = ("diverged", "double_sigmoid", "generator_wrong_target", "discriminator_not_learning",
             "labels_swapped", "gradients_accumulate", "data_range")   # a wrong line; the rest are dynamics

MIN_STEPS = 20           # a run shorter than this is "too_short"
LATE = 0.5               # the late window: the last half of the run
SIGMOID_OF_1 = 1 / (1 + math.exp(-1))   # 0.7311: sigmoid maps a probability in [0, 1] onto [0.5, 0.7311]
SAME = 1e-7              # |D(G(z)) after - before| at most this: D's step changed nothing (float32 means)
SHARE = 0.9              # "most late steps": the share a per-step test must hold on
GROWTH = 100.0           # late / early gradient norm of a sum of gradients
SMOOTH = 0.03            # ... whose relative change from one step to the next stays below this
TOO_STRONG_D_LOSS = 0.3  # late mean of D's loss below this, with D(x) > 0.9 and D(G(z)) < 0.1: D wins
UNSTABLE_D_LOSS = 2 * math.log(4)   # D's loss above 2.77, twice the coin flip's, on many late steps ...
UNSTABLE_SHARE = 0.1     # ... on more than this share of them
DEAD_GRAD = 1e-5         # G's late median gradient norm below this: G gets no gradient
MIN_SPREAD = 0.1         # std over z of the last sample grid, mean over pixels (real images: 0.55)
SPREAD_MIN_STEPS = 500   # ... judged only after this many steps (an untrained generator has 0.02)
MIN_CLASSES = 5          # a classifier histogram with fewer classes holding >= 2% of the images: collapse


@dataclass(frozen=True)
class Finding:
    """One cause from :data:`CAUSES` and a message in plain words: what was seen, what it means, what to try."""
    cause: str
    message: str

    def as_dict(self) -> dict:
        return {"cause": self.cause, "message": self.message}


def diagnose(history: dict, histogram=None, g_loss: str = "non_saturating") -> list[Finding]:
    """The findings of a run's history (gan_lib.train's keys), worst first; ``[healthy]`` when no rule fires.

    ``histogram`` (optional) is the evaluation classifier's class histogram of generated images
    (``metrics.class_histogram``); ``g_loss`` is the generator's loss kind. A wrong line of the loop
    (:data:`LOOP_BUGS`) hides the dynamics it causes, so when one is found only loop bugs are reported.
    """
    h = {k: np.asarray(history[k], dtype=np.float64) for k in HISTORY_KEYS}
    n = len(h["d_loss"])
    if any(len(v) != n for v in h.values()):
        raise ValueError(f"the history's lists differ in length ({ {k: len(v) for k, v in h.items()} }): "
                         "record every key once per step.")
    bad = [k for k, v in h.items() if not np.isfinite(v).all()]
    if bad:
        first = min(int(np.argmin(np.isfinite(h[k]))) for k in bad) + 1
        return [Finding("diverged", f"{', '.join(bad)} became NaN or infinite at step {first}: the run diverged. "
                        "Lower the learning rates, check the images for NaN, or resume from an earlier checkpoint.")]
    if n < MIN_STEPS:
        return [Finding("too_short", f"only {n} steps recorded: the rules read the last half of at least "
                        f"{MIN_STEPS} steps. Train longer, then diagnose again.")]
    late = {k: v[int(n * (1 - LATE)):] for k, v in h.items()}
    extra = {k: np.asarray(history[k], dtype=np.float64) for k in ("real_min", "real_max") if history.get(k)}
    found = [f for rule in (_double_sigmoid, _wrong_target, _not_learning, _swapped, _accumulate, _range, _dead)
             if (f := rule(h, late, extra, g_loss)) is not None]
    if not found:
        found = [f for rule in (_too_strong, _unstable) if (f := rule(h, late, extra, g_loss)) is not None]
        found += _collapse(history, histogram, n)
    return found or [_healthy(late, n)]


def report(findings: list[Finding]) -> str:
    """The findings as text, one paragraph each: ``cause: message``."""
    return "\n".join(f"{f.cause}: {f.message}" for f in findings)


# --- the rules: each returns a Finding or None ---------------------------------------------------

def _double_sigmoid(h, late, extra, kind):
    values = np.concatenate([h["d_real"], h["d_fake_before"], h["d_fake_after"]])
    at_floor = np.mean(np.abs(late["d_fake_after"] - 0.5) < 1e-4) >= 0.5   # sigmoid(0): the inner one saturated
    if values.min() >= 0.5 - 1e-6 and values.max() <= SIGMOID_OF_1 + 1e-6 and (at_floor or not _static(late)):
        return Finding("double_sigmoid", f"D's mean outputs stayed within [{values.min():.3f}, {values.max():.3f}] "
                       f"for all {len(h['d_real'])} steps, inside [0.5, 0.731]: sigmoid(p) for a probability p in "
                       "[0, 1] lies there, so D's outputs are probabilities squashed a second time. Your "
                       "discriminator ends in a Sigmoid and the loss applies another (BCEWithLogitsLoss, "
                       "bce_with_logits): remove the nn.Sigmoid, or use BCELoss on probabilities.")


def _wrong_target(h, late, extra, kind):
    # Jensen: mean(-log p) >= -log(mean p), so exp(-g_loss) <= mean D(G(z)) (saturating: exp(g_loss) <= 1 - it).
    bound = late["d_fake_after"] if kind == "non_saturating" else 1 - late["d_fake_after"]
    seen = np.exp(-late["g_loss"]) if kind == "non_saturating" else np.exp(late["g_loss"])
    share = float(np.mean(seen > bound * (1 + 1e-3) + 1e-6))
    if share >= 0.5:
        return Finding("generator_wrong_target", f"on {share:.0%} of the late steps G's loss was below "
                       "-log(mean D(G(z))), which the non-saturating loss -mean log D(G(z)) can never be (Jensen's "
                       f"inequality; late mean G loss {late['g_loss'].mean():.3f}, mean D(G(z)) "
                       f"{late['d_fake_after'].mean():.3f}). G is not trained towards the real label: its target "
                       "should be 1 (generator_loss, or BCE against torch.ones_like), not the fake label 0.")


def _static(late) -> bool:
    before, after = late["d_fake_before"], late["d_fake_after"]
    informative = (before > 1e-4) & (before < 1 - 1e-4)
    return informative.sum() >= MIN_STEPS // 2 and np.mean(np.abs(after - before)[informative] <= SAME) >= SHARE


def _not_learning(h, late, extra, kind):
    if _static(late):
        return Finding("discriminator_not_learning", "D's verdict on the fakes it had just been shown was exactly "
                       f"the same after its step as before it, on at least {SHARE:.0%} of the late steps: its step "
                       "changed nothing. opt_d.step() is missing, or D's gradients are cleared between backward() "
                       "and step(), or opt_d holds other parameters than D's.")


def _swapped(h, late, extra, kind):
    up = float(np.mean(late["d_fake_after"] > late["d_fake_before"]))
    if up >= SHARE and late["d_real"].mean() < late["d_fake_before"].mean():
        return Finding("labels_swapped", f"D's step raised its verdict on the fakes on {up:.0%} of the late steps, "
                       f"and it rates them above the real images (mean D(x) {late['d_real'].mean():.3f}, D(G(z)) "
                       f"{late['d_fake_before'].mean():.3f}): D is trained with the targets swapped. Check the "
                       "order of arguments: discriminator_loss(real_logit, fake_logit), real towards 1, fake towards 0.")


def _accumulate(h, late, extra, kind):
    for who, key in (("D", "d_grad_norm"), ("G", "g_grad_norm")):
        norm, early = late[key], np.median(h[key][1:11])
        change = np.abs(np.diff(norm)) / np.maximum(norm[1:], 1e-12)
        if early > 0 and np.median(norm) > GROWTH * early and np.median(change) < SMOOTH:
            return Finding("gradients_accumulate", f"{who}'s gradient norm grew from {early:.3g} (steps 2-11) to "
                           f"{np.median(norm):.3g} (late median), changing by only {np.median(change):.1%} from one "
                           "step to the next: that is a running sum of every gradient so far. zero_grad() is "
                           f"missing (or called on the wrong optimizer) before {who}'s backward().")


def _range(h, late, extra, kind):
    if "real_min" not in extra:
        return None
    low, high = np.median(extra["real_min"]), np.median(extra["real_max"])
    if low >= -1e-3 or high > 1.5:
        return Finding("data_range", f"the real images range from {low:.3g} to {high:.3g}, but the generator's Tanh "
                       "draws in [-1, 1], so D can tell them apart by their range alone. Rescale them to [-1, 1]: "
                       "x * 2 - 1 for [0, 1] (ToTensor), x / 127.5 - 1 for 0..255.")


def _dead(h, late, extra, kind):
    pinned = late["d_fake_after"].mean() < 1e-3 or late["d_fake_after"].mean() > 1 - 1e-3
    if np.median(late["g_grad_norm"]) < DEAD_GRAD and pinned:
        return Finding("diverged", f"G's gradient norm is {np.median(late['g_grad_norm']):.1e} (late median) and "
                       f"D's verdict on the fakes is pinned at {late['d_fake_after'].mean():.3g}: the run is dead "
                       "(saturated D, dead units in G) and will not recover. Start again with smaller learning "
                       "rates (2e-4 for Adam is the usual start).")


def _too_strong(h, late, extra, kind):
    d_loss, real, fake = late["d_loss"].mean(), late["d_real"].mean(), late["d_fake_after"].mean()
    if d_loss < TOO_STRONG_D_LOSS and real > 0.9 and fake < 0.1:
        return Finding("discriminator_too_strong", f"late in the run D's loss averaged {d_loss:.3f} (a coin flip "
                       f"scores 1.386), with D(x) {real:.3f} and D(G(z)) {fake:.3f}: D tells real from fake almost "
                       "perfectly, so G learns from a verdict that hardly varies. Weaken D: fewer D steps per G "
                       "step, a smaller d_lr, spectral normalisation, or label smoothing.")


def _unstable(h, late, extra, kind):
    share = float(np.mean(late["d_loss"] > UNSTABLE_D_LOSS))
    if share > UNSTABLE_SHARE:
        return Finding("unstable", f"D's loss exceeded {UNSTABLE_D_LOSS:.2f} (twice a coin flip's) on {share:.0%} "
                       f"of the late steps, up to {late['d_loss'].max():.3g}: D is often confidently wrong, each "
                       "network overshooting the other (gradient norms up to "
                       f"{max(late['d_grad_norm'].max(), late['g_grad_norm'].max()):.3g}). Lower the learning rates "
                       "(2e-4 with Adam's beta1 = 0.5 is the usual start).")


def _collapse(history, histogram, n) -> list[Finding]:
    if histogram is not None:
        counts = np.asarray(histogram, dtype=np.float64)
        present = int((counts / counts.sum() >= 0.02).sum())
        if present < MIN_CLASSES:
            return [Finding("mode_collapse", f"the classifier puts the generated images in only {present} of "
                            f"{len(counts)} classes (>= 2% each; the largest holds {counts.max() / counts.sum():.0%}): "
                            "the generator draws a few kinds of image for every z. Try the book's recipe (spectral "
                            "normalisation in D), a smaller g_lr, or train longer and look again.")]
    grids = history.get("samples") or []
    if grids and n >= SPREAD_MIN_STEPS:
        spread = grids[-1].float().std(dim=0).mean().item()
        if spread < MIN_SPREAD:
            return [Finding("mode_collapse", f"the last sample grid varies by only {spread:.3f} across its "
                            f"{len(grids[-1])} noise vectors (real images: 0.55): the generator draws nearly the "
                            "same image for every z. Look at the grid; try spectral normalisation in D.")]
    return []


def _healthy(late, n) -> Finding:
    return Finding("healthy", f"no rule fired over the last {len(late['d_loss'])} of {n} steps: mean D(x) "
                   f"{late['d_real'].mean():.3f}, D(G(z)) {late['d_fake_after'].mean():.3f}, D's loss "
                   f"{late['d_loss'].mean():.3f}. The loop is not broken; whether the samples are good is another "
                   "question: look at them, and measure them (chapter 7).")


# --- a recorder for a loop of your own -----------------------------------------------------------

class Recorder:
    """What gan_lib.train records, from a loop of your own: call :meth:`record` once per generator step,
    after both optimizer steps, then pass ``recorder.history`` to :func:`diagnose`.

    With ``fixed_z`` (and ``sample_every``) it also keeps sample grids, as gan_lib.train does.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, fixed_z: torch.Tensor | None = None,
                 sample_every: int = 0):
        self.generator, self.discriminator, self.fixed_z, self.sample_every = generator, discriminator, fixed_z, sample_every
        self.history = {k: [] for k in ("step", *HISTORY_KEYS, "real_min", "real_max", "sample_steps", "samples")}

    @torch.no_grad()
    def record(self, d_loss, g_loss, real_logit, fake_logit, fake_logit_after, real=None) -> None:
        """The step's losses, D's logits on the real batch, on the fakes before and after D's step, and (optional)
        the real batch; the gradient norms are read from the networks' ``.grad``, as their optimizers used them."""
        h = self.history
        h["step"].append(len(h["step"]) + 1)
        values = (d_loss, g_loss, torch.sigmoid(real_logit).mean(), torch.sigmoid(fake_logit).mean(),
                  torch.sigmoid(fake_logit_after).mean(), _norm(self.generator), _norm(self.discriminator))
        for key, value in zip(HISTORY_KEYS, values):
            h[key].append(float(value))
        if real is not None:
            h["real_min"].append(real.min().item())
            h["real_max"].append(real.max().item())
        if self.fixed_z is not None and self.sample_every and h["step"][-1] % self.sample_every == 0:
            was_training = self.generator.training
            self.generator.eval()
            h["sample_steps"].append(h["step"][-1])
            h["samples"].append(self.generator(self.fixed_z).cpu().half())
            self.generator.train(was_training)


def _norm(model: nn.Module) -> torch.Tensor:
    has_grad = any(p.grad is not None for p in model.parameters())
    return grad_norm(model) if has_grad else torch.tensor(0.0)
