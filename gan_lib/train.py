"""The alternating GAN training loop (chapter 4).

Read :func:`train` first: it is the whole algorithm, in one screen. Each round is ``d_steps``
calls of :func:`discriminator_step` (Eq. (ch4-d-loss)) and one call of :func:`generator_step`
(Eq. (ch4-g-loss)), two short functions a chapter can show. A *batch* is a tuple of the networks'
arguments: ``(images,)`` for an unconditional GAN, ``(images, labels)`` for chapter 8's
conditional one, so neither step asks which kind it trains. The rest of the file is the
bookkeeping beside the loop: the settings (:class:`Recipe`), the run (:class:`GAN`) and its history.
Checkpoints are in ``gan_lib.checkpoint``.

Two places differ from Algorithm 1 of Goodfellow et al. (2014), on purpose: the generator
descends the non-saturating loss (their recommendation, not their algorithm's saturating
gradient), and its step reuses the noise of the discriminator's last step instead of drawing
fresh noise (one generator pass less per round; the expectation is the same).
"""
from __future__ import annotations

import copy
import os
import sys
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from . import models
from .conditional import check_sample_labels, training_data
from .data import load_images
from .augment import POLICIES, diff_augment
from .ema import ema_decay, update_average
from .history import HISTORY_KEYS, History, TrainingDiverged  # noqa: F401 (TrainingDiverged: re-exported)
from .losses import (GAMES, GENERATOR_LOSS_KINDS, discriminator_game_loss, generator_game_loss, gradient_penalty,
                     r1_penalty)
from .runtime import keep_freed_memory, seed_everything

Batch = tuple[torch.Tensor, ...]   # (images,) or (images, labels): what a network is called with

@dataclass(frozen=True)
class Recipe:
    """Everything that determines a run besides the seed and the number of steps (``g_`` and ``d_``: whose it is)."""
    dataset: str = "fashion-mnist"
    model: str = "mlp"             # one of models.MODELS
    batch_size: int = 64
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    beta1: float = 0.5             # Adam's betas, for both networks
    beta2: float = 0.999
    d_steps: int = 1               # k discriminator steps per generator step
    real_target: float = 1.0       # < 1: one-sided label smoothing, Eq. (ch2-smooth)
    d_dropout: float = 0.0
    d_spectral_norm: bool = False  # spectral normalisation of D's layers (Miyato et al. 2018)
    d_r1_gamma: float = 0.0        # > 0: the R1 penalty on real images, Eq. (ch6-r1) (Mescheder et al. 2018)
    game: str = "bce"              # the losses: "bce" (chapter 2), "hinge" or "wgan-gp" (chapter 6); see losses.GAMES
    d_gp_weight: float = 10.0      # the gradient penalty's weight, Eq. (ch6-gp), for game="wgan-gp" only
    d_augment: str = ""            # DiffAugment policy for everything D sees, e.g. "translation,cutout" (chapter 8)
    g_loss: str = "non_saturating"
    g_ema: float = 0.0             # > 0: sample from an exponential moving average of G's weights, Eq. (ch4-ema)
    latent_dim: int = models.LATENT_DIM
    num_classes: int = 0           # > 0: a conditional GAN, G(z, y) and D(x, y) (chapter 8); 0: unconditional
    subset_per_class: int = 0      # > 0: train on this many images per class, drawn with the run's seed; 0: all

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.d_steps < 1:
            raise ValueError(f"batch_size and d_steps must be >= 1, got {self.batch_size} and {self.d_steps}.")
        if not 0.0 < self.real_target <= 1.0:
            raise ValueError(f"real_target must be in (0, 1], got {self.real_target}.")
        if self.d_r1_gamma < 0 or self.subset_per_class < 0:
            raise ValueError(f"d_r1_gamma and subset_per_class must be >= 0, got {self.d_r1_gamma} "
                             f"and {self.subset_per_class}.")
        if not 0.0 <= self.g_ema < 1.0:
            raise ValueError(f"g_ema is the decay of the average of G's weights, in [0, 1) (0: none); got {self.g_ema}.")
        if self.game not in GAMES:
            raise ValueError(f"game must be one of {GAMES}, got {self.game!r}.")
        if self.game == "wgan-gp" and self.model == "dcgan":
            raise ValueError("game='wgan-gp' needs a critic without batch norm (the penalty is per example): "
                             "use model='mlp', or game='hinge' for the DCGAN.")
        if any(p not in POLICIES for p in filter(None, self.d_augment.split(","))):
            raise ValueError(f"d_augment is a comma-separated list of {POLICIES}, got {self.d_augment!r}.")
        if self.g_loss not in GENERATOR_LOSS_KINDS:
            raise ValueError(f"g_loss must be one of {GENERATOR_LOSS_KINDS}, got {self.g_loss!r}.")
        models.check_model(self.model, self.num_classes)


@dataclass
class GAN:
    """A run in progress: the two networks, their optimizers, the random streams and the history."""
    recipe: Recipe
    seed: int
    generator: nn.Module
    discriminator: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    batch_rng: torch.Generator      # which real images (on the models' device)
    noise_rng: torch.Generator      # which z (on the models' device)
    fixed_z: torch.Tensor           # the noise of the sample grids, the same all run long
    g_ema: nn.Module | None = None  # the moving average of G's weights (Recipe.g_ema > 0): what samples come from
    step: int = 0
    seconds: float = 0.0
    history: dict = field(default_factory=lambda: {k: [] for k in ("step", *HISTORY_KEYS, "sample_steps", "samples")})

    @property
    def device(self) -> torch.device:
        return self.fixed_z.device

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, labels: torch.Tensor | None = None) -> torch.Tensor:
        """n generated images (n x 1 x 28 x 28 in [-1, 1], on the CPU), z drawn on the CPU with ``seed``.

        A conditional model makes image i of class ``labels[i]`` (default: the classes in turn).
        """
        z = torch.randn(n, self.recipe.latent_dim, generator=torch.Generator().manual_seed(seed))
        return self._generate(z, labels)

    @torch.no_grad()
    def sample_fixed(self) -> torch.Tensor:
        """The generator's images for ``fixed_z``, on the CPU: the same noise all run long."""
        return self._generate(self.fixed_z)

    @property
    def sampler(self) -> nn.Module:
        """The network samples come from: the average of G's weights if the recipe keeps one, else G."""
        return self.g_ema if self.g_ema is not None else self.generator

    def _generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        labels = check_sample_labels(labels, len(z), self.recipe.num_classes)
        noise = [(chunk,) for chunk in z.split(1000)]
        if labels is not None:
            noise = [(chunk, y) for (chunk,), y in zip(noise, labels.split(1000))]
        net = self.sampler
        was_training = net.training
        net.eval()
        out = torch.cat([net(*(t.to(self.device) for t in args)).cpu() for args in noise])
        net.train(was_training)
        return out


def new_gan(recipe: Recipe, seed: int, device: torch.device | str = "cpu", num_fixed: int = 64) -> GAN:
    """Fresh networks and Adam optimizers (lr, betas from the recipe), all seeded by ``seed``."""
    device = torch.device(device)
    seed_everything(seed)
    generator, discriminator = (m.to(device) for m in models.build(recipe))
    betas = (recipe.beta1, recipe.beta2)
    fused = device.type in ("cpu", "cuda")  # one kernel per step instead of a loop over parameters
    opt_g = torch.optim.Adam(generator.parameters(), lr=recipe.g_lr, betas=betas, fused=fused)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=recipe.d_lr, betas=betas, fused=fused)
    batch_rng = torch.Generator(device=device).manual_seed(seed)  # on the models' device: no copy, no wait
    noise_rng = torch.Generator(device=device).manual_seed(seed + 1)
    fixed_z = torch.randn(num_fixed, recipe.latent_dim, generator=torch.Generator().manual_seed(seed + 2)).to(device)
    g_ema = copy.deepcopy(generator).requires_grad_(False) if recipe.g_ema > 0 else None
    return GAN(recipe, seed, generator, discriminator, opt_g, opt_d, batch_rng, noise_rng, fixed_z, g_ema)


def train_recipe(recipe: Recipe, seed: int, num_steps: int, device: torch.device | str = "cpu",
                 sample_every: int = 0, progress: bool | None = None) -> GAN:
    """A run of ``recipe`` from scratch: ``num_steps`` steps on its data set's training split (or on the
    ``subset_per_class`` images per class that ``seed`` draws from it)."""
    images, labels = training_data(load_images(recipe.dataset, "train"), recipe.subset_per_class, seed)
    labels = labels.to(device) if recipe.num_classes else None  # only a conditional GAN sees the labels
    return train(new_gan(recipe, seed, device), images.to(device), num_steps, labels=labels,
                 sample_every=sample_every, progress=progress)


# --- the loop ----------------------------------------------------------------------------------

def train(gan: GAN, images: torch.Tensor, num_steps: int, labels: torch.Tensor | None = None,
          sample_every: int = 0, progress: bool | None = None) -> GAN:
    """Run ``num_steps`` rounds of ``d_steps`` discriminator steps and one generator step on ``images``.

    ``images`` is the preloaded N x 1 x 28 x 28 tensor in [-1, 1], on ``gan.device``; a conditional
    recipe (``num_classes`` > 0) needs their N ``labels`` too. Every ``sample_every`` steps the
    generator's images for ``gan.fixed_z`` go into the history. Raises :class:`TrainingDiverged`
    on a NaN or infinite loss, naming the step.
    """
    data = _training_batch(gan, images, labels)
    keep_freed_memory()  # no page faults for the blocks each step frees and takes again (gan_lib.runtime)
    history = History(gan)
    start = time.perf_counter()
    try:
        for _ in _steps(num_steps, progress):
            for _ in range(gan.recipe.d_steps):
                real, fake = real_batch(gan, data), fake_batch(gan)
                d_loss, real_logit, fake_logit, d_grad_norm = discriminator_step(gan, real, fake)
            g_loss, fake_logit_after, g_grad_norm = generator_step(gan, fake)  # the last D step's fakes
            gan.step += 1
            history.record(d_loss, g_loss, real_logit, fake_logit, fake_logit_after, g_grad_norm, d_grad_norm)
            if sample_every and (gan.step % sample_every == 0 or gan.step == 1):
                gan.history["sample_steps"].append(gan.step)
                gan.history["samples"].append(gan.sample_fixed().half())
    finally:
        history.flush()
        gan.seconds += time.perf_counter() - start
    return gan


def discriminator_step(gan: GAN, real: Batch, fake: Batch) -> tuple[torch.Tensor, ...]:
    """One Adam step of D on Eq. (ch4-d-loss): real towards ``real_target``, fake towards 0.

    Returns D's loss, its logits on the real and the fake batch, and the norm of its gradient.
    """
    r, D = gan.recipe, gan.discriminator
    fake = (fake[0].detach(), *fake[1:])  # detach: D's loss must not reach G's weights
    if r.d_r1_gamma > 0:
        real[0].requires_grad_(True)      # R1 differentiates D's verdict with respect to the real images
    real_logit, fake_logit = judge(D, augmented(gan, real), augmented(gan, fake))
    d_loss = discriminator_game_loss(r.game, real_logit, fake_logit, real_target=r.real_target)
    if r.d_r1_gamma > 0:
        d_loss = d_loss + r1_penalty(real_logit, real[0], r.d_r1_gamma)
    if r.game == "wgan-gp":  # one interpolation weight per example, drawn from the run's noise stream
        epsilon = torch.rand(len(real[0]), *[1] * (real[0].dim() - 1), generator=gan.noise_rng, device=gan.device)
        d_loss = d_loss + gradient_penalty(lambda x: D(x, *real[1:]), real[0], fake[0], epsilon, r.d_gp_weight)
    gan.opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    d_grad_norm = grad_norm(D)
    gan.opt_d.step()
    return d_loss.detach(), real_logit.detach(), fake_logit.detach(), d_grad_norm


def generator_step(gan: GAN, fake: Batch) -> tuple[torch.Tensor, ...]:
    """One Adam step of G on Eq. (ch4-g-loss), through a frozen D: D's weights get no gradient.

    Returns G's loss, D's logits on the fakes (after D's step) and the norm of G's gradient.
    """
    D = gan.discriminator
    D.requires_grad_(False)
    fake_logit = D(*augmented(gan, fake))
    g_loss = generator_game_loss(gan.recipe.game, fake_logit, kind=gan.recipe.g_loss)
    gan.opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    g_grad_norm = grad_norm(gan.generator)
    gan.opt_g.step()
    D.requires_grad_(True)
    if gan.g_ema is not None:
        update_average(gan.g_ema, gan.generator, ema_decay(gan.recipe.g_ema, gan.step))
    return g_loss.detach(), fake_logit.detach(), g_grad_norm


def augmented(gan: GAN, batch: Batch) -> Batch:
    """What D sees of a batch: the images through DiffAugment (chapter 8) if the recipe asks for it, else as they are."""
    if not gan.recipe.d_augment:
        return batch
    return (diff_augment(batch[0], gan.recipe.d_augment, gan.noise_rng), *batch[1:])


def real_batch(gan: GAN, data: Batch) -> Batch:
    """``batch_size`` rows of each tensor in ``data`` (the images, and their labels if any), uniformly with replacement."""
    rng = gan.batch_rng
    index = torch.randint(len(data[0]), (gan.recipe.batch_size,), generator=rng, device=rng.device)
    return tuple(t[index.to(t.device)] for t in data)


def fake_batch(gan: GAN) -> Batch:
    """G's images for fresh noise; a conditional GAN also draws their classes, uniformly, and returns them."""
    r = gan.recipe
    z = torch.randn(r.batch_size, r.latent_dim, generator=gan.noise_rng, device=gan.device)
    if not r.num_classes:
        return (gan.generator(z),)
    labels = torch.randint(r.num_classes, (r.batch_size,), generator=gan.noise_rng, device=gan.device)
    return gan.generator(z, labels), labels


def judge(D: nn.Module, real: Batch, fake: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """D's logits on a real and a fake batch, in one pass over both: the same maths as two passes, with
    taller (faster) matrix products. A D with batch norm gets two passes, which keep real and fake statistics apart."""
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules()):
        return D(*real), D(*fake)
    return D(*(torch.cat(pair) for pair in zip(real, fake))).chunk(2)


def grad_norm(model: nn.Module) -> torch.Tensor:
    """The L2 norm of all of ``model``'s gradients together, as one tensor: sqrt of the sum of g . g.

    A dot product per tensor, not ``vector_norm``: the same number to float32 rounding, in half the time on
    a CPU (it is a BLAS call), and this runs twice in every step.
    """
    grads = [p.grad.view(-1) for p in model.parameters() if p.grad is not None]
    return torch.stack([torch.dot(g, g) for g in grads]).sum().sqrt()


# --- bookkeeping beside the loop ---------------------------------------------------------------

def _training_batch(gan: GAN, images: torch.Tensor, labels: torch.Tensor | None) -> Batch:
    """``(images,)`` or ``(images, labels)``, checked against the recipe."""
    num_classes = gan.recipe.num_classes
    if images.device != gan.device:
        raise ValueError(f"images are on {images.device} but the models on {gan.device}: move them with .to().")
    if num_classes == 0 and labels is not None:
        raise ValueError("labels were given, but the recipe is unconditional (num_classes=0): leave labels=None.")
    if num_classes > 0 and (labels is None or len(labels) != len(images)):
        got = "no labels" if labels is None else f"{len(labels)} labels"
        raise ValueError(f"a conditional recipe (num_classes={num_classes}) needs one label per image: "
                         f"{len(images)} images, {got}. Pass train(..., labels=...).")
    return (images,) if labels is None else (images, labels)


def _steps(num_steps: int, progress: bool | None):
    """range(num_steps), with a progress bar only where a person watches (a terminal, or a notebook they run)."""
    if progress is None:  # off under nbval, in book builds, and when output goes to a file or a pipe
        flag = os.environ.get("GAN_BOOK_PROGRESS")
        progress = flag == "1" if flag is not None else (sys.stderr.isatty() or "JPY_SESSION_NAME" in os.environ)
    if not progress:
        return range(num_steps)
    from tqdm.auto import trange
    return trange(num_steps, desc="training", unit="step", leave=False)
