"""The alternating GAN training loop (chapter 4), with its history and checkpoints.

One generator step follows ``d_steps`` discriminator steps (Goodfellow et al. 2014,
Algorithm 1). Real images are drawn from the preloaded tensor, losses come from
``gan_lib.losses``, both networks use Adam. Read :func:`train` top to bottom: it is
the whole algorithm; the rest of the file is bookkeeping beside it.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from . import conditional, models
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint  # noqa: F401 (re-exported)
from .data import random_batch
from .losses import discriminator_loss, generator_loss
from .runtime import seed_everything

HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake_before", "d_fake_after", "g_grad_norm", "d_grad_norm")


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; training stops at once instead of producing NaN samples."""


@dataclass(frozen=True)
class Recipe:
    """Everything that determines a run besides the seed and the number of steps."""
    dataset: str = "fashion-mnist"
    model: str = "mlp"
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1               # k discriminator steps per generator step
    real_target: float = 1.0       # < 1: one-sided label smoothing (Salimans et al. 2016)
    d_dropout: float = 0.0
    d_spectral_norm: bool = False  # spectral normalisation of D's layers (Miyato et al. 2018)
    r1_gamma: float = 0.0          # > 0: R1 penalty (gamma/2) E||grad_x D(x)||^2 on real images (Mescheder et al. 2018)
    g_loss: str = "non_saturating"
    latent_dim: int = models.LATENT_DIM
    num_classes: int = 0           # > 0: a conditional GAN, G(z, y) and D(x, y) (chapter 8); 0: unconditional
    subset_per_class: int = 0      # > 0: train on this many images per class, drawn with the run's seed; 0: all

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.d_steps < 1:
            raise ValueError(f"batch_size and d_steps must be >= 1, got {self.batch_size} and {self.d_steps}.")
        if not 0.0 < self.real_target <= 1.0:
            raise ValueError(f"real_target must be in (0, 1], got {self.real_target}.")
        if self.r1_gamma < 0:
            raise ValueError(f"r1_gamma must be >= 0, got {self.r1_gamma}.")
        if self.model not in MODEL_BUILDERS:
            raise ValueError(f"Unknown model {self.model!r}; choose one of {sorted(MODEL_BUILDERS)}.")
        if (self.model in CONDITIONAL_MODELS) != (self.num_classes > 0):
            raise ValueError(f"model {self.model!r} with num_classes={self.num_classes}: conditional models "
                             f"{sorted(CONDITIONAL_MODELS)} need num_classes >= 2, the others num_classes=0.")
        if self.subset_per_class < 0:
            raise ValueError(f"subset_per_class must be >= 0 (0 = all data), got {self.subset_per_class}.")


def _mlp(recipe: Recipe) -> tuple[nn.Module, nn.Module]:
    discriminator = models.mlp_discriminator(dropout=recipe.d_dropout)
    if recipe.d_spectral_norm:
        discriminator = models.with_spectral_norm(discriminator)
    return models.mlp_generator(recipe.latent_dim), discriminator


def _dcgan(recipe: Recipe) -> tuple[nn.Module, nn.Module]:
    discriminator = models.dcgan_discriminator()
    if recipe.d_dropout > 0:
        raise ValueError("d_dropout is an option of the MLP discriminator only; set it to 0 for model='dcgan'.")
    if recipe.d_spectral_norm:
        discriminator = models.with_spectral_norm(discriminator)
    return models.dcgan_generator(recipe.latent_dim), discriminator


MODEL_BUILDERS = {"mlp": _mlp, "dcgan": _dcgan}
MODEL_BUILDERS["cmlp"] = lambda r: conditional.cmlp(r.latent_dim, r.num_classes, r.d_dropout, r.d_spectral_norm)
CONDITIONAL_MODELS = {"cmlp"}  # models called as G(z, y) and D(x, y)


@dataclass
class GAN:
    """A run in progress: the two networks, their optimizers, the random streams and the history."""
    recipe: Recipe
    seed: int
    generator: nn.Module
    discriminator: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    batch_rng: torch.Generator      # which real images (CPU)
    noise_rng: torch.Generator      # which z (on the models' device)
    fixed_z: torch.Tensor           # the noise of the sample grids, the same all run long
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

    def _generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        labels = conditional.check_sample_labels(labels, len(z), self.recipe.num_classes)
        was_training = self.generator.training
        self.generator.eval()
        ys = labels.split(1000) if labels is not None else [None] * len(z.split(1000))
        out = torch.cat([conditional.call(self.generator, chunk.to(self.device), None if y is None else y.to(self.device))
                         .cpu() for chunk, y in zip(z.split(1000), ys)])
        self.generator.train(was_training)
        return out


def new_gan(recipe: Recipe, seed: int, device: torch.device | str = "cpu", num_fixed: int = 64) -> GAN:
    """Fresh networks and Adam optimizers (lr, betas from the recipe), all seeded by ``seed``."""
    device = torch.device(device)
    seed_everything(seed)
    generator, discriminator = (m.to(device) for m in MODEL_BUILDERS[recipe.model](recipe))
    betas = (recipe.beta1, recipe.beta2)
    fused = device.type in ("cpu", "cuda")  # one kernel per step instead of a loop over parameters
    opt_g = torch.optim.Adam(generator.parameters(), lr=recipe.lr_g, betas=betas, fused=fused)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=recipe.lr_d, betas=betas, fused=fused)
    batch_rng = torch.Generator().manual_seed(seed)
    noise_rng = torch.Generator(device=device).manual_seed(seed + 1)
    fixed_z = torch.randn(num_fixed, recipe.latent_dim, generator=torch.Generator().manual_seed(seed + 2)).to(device)
    return GAN(recipe, seed, generator, discriminator, opt_g, opt_d, batch_rng, noise_rng, fixed_z)


def train(gan: GAN, images: torch.Tensor, num_steps: int, sample_every: int = 0,
          progress: bool | None = None, labels: torch.Tensor | None = None) -> GAN:
    """Run ``num_steps`` generator steps (each after ``d_steps`` discriminator steps) on ``images``.

    ``images`` is the preloaded N x 1 x 28 x 28 tensor in [-1, 1], on ``gan.device``; a conditional
    recipe (``num_classes`` > 0) needs their N ``labels`` as well, and draws fake labels uniformly.
    Every ``sample_every`` steps the generator's output on ``gan.fixed_z`` is stored
    in the history. Raises :class:`TrainingDiverged` on a NaN or infinite loss.
    """
    r, G, D = gan.recipe, gan.generator, gan.discriminator
    if images.device != gan.device:
        raise ValueError(f"images are on {images.device} but the models on {gan.device}: move them with .to().")
    conditional.check_train_labels(labels, len(images), r.num_classes)
    one_pass = not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())
    start = time.perf_counter()
    for _ in _steps(num_steps, progress):
        # Discriminator: real images towards real_target, generated ones towards 0 (Eqs. (2.7), (4.1)).
        for _ in range(r.d_steps):
            real_y = fake_y = None  # class labels: a conditional GAN's only (chapter 8)
            if labels is None:
                real = random_batch(images, r.batch_size, gan.batch_rng)
            else:
                real, real_y = conditional.random_labeled_batch(images, labels, r.batch_size, gan.batch_rng)
            z = torch.randn(r.batch_size, r.latent_dim, generator=gan.noise_rng, device=gan.device)
            if labels is not None:
                fake_y = torch.randint(r.num_classes, (r.batch_size,), generator=gan.noise_rng, device=gan.device)
            fake = conditional.call(G, z, fake_y)
            if r.r1_gamma > 0:
                real.requires_grad_(True)
            if one_pass:  # both halves in one pass through D: the same maths, larger (faster) matrix products
                both_y = None if real_y is None else torch.cat([real_y, fake_y])
                real_logit, fake_logit = conditional.call(D, torch.cat([real, fake.detach()]), both_y).chunk(2)
            else:  # batch norm would mix real and fake statistics, which DCGAN keeps apart
                real_logit = conditional.call(D, real, real_y)
                fake_logit = conditional.call(D, fake.detach(), fake_y)  # detach: D's loss must not reach G
            d_loss = discriminator_loss(real_logit, fake_logit, real_target=r.real_target)
            if r.r1_gamma > 0:
                d_loss = d_loss + r1_penalty(real_logit, real, r.r1_gamma)
            gan.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            d_grad_norm = _grad_norm(D)
            gan.opt_d.step()
        # Generator (Eq. (4.2)): D is frozen, so its backward pass computes no gradients for D's weights.
        D.requires_grad_(False)
        fake_logit_after = conditional.call(D, fake, fake_y)
        g_loss = generator_loss(fake_logit_after, kind=r.g_loss)
        gan.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        g_grad_norm = _grad_norm(G)
        gan.opt_g.step()
        D.requires_grad_(True)

        gan.step += 1
        _record(gan, d_loss, g_loss, real_logit, fake_logit, fake_logit_after, g_grad_norm, d_grad_norm)
        if sample_every and (gan.step % sample_every == 0 or gan.step == 1):
            gan.history["sample_steps"].append(gan.step)
            gan.history["samples"].append(gan.sample_fixed().half())
    gan.seconds += time.perf_counter() - start
    return gan


def r1_penalty(real_logit: torch.Tensor, real: torch.Tensor, gamma: float) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): (gamma / 2) * mean over real images of ||d logit / d x||^2."""
    (grad,) = torch.autograd.grad(real_logit.sum(), real, create_graph=True)
    return 0.5 * gamma * grad.pow(2).flatten(1).sum(1).mean()


def _record(gan: GAN, d_loss, g_loss, real_logit, fake_logit, fake_logit_after, g_norm, d_norm) -> None:
    row = torch.stack([d_loss.detach(), g_loss.detach(), torch.sigmoid(real_logit.detach()).mean(),
                       torch.sigmoid(fake_logit.detach()).mean(), torch.sigmoid(fake_logit_after.detach()).mean(),
                       g_norm, d_norm]).tolist()
    for key, value in zip(HISTORY_KEYS, row):
        if value != value or value in (float("inf"), float("-inf")):
            raise TrainingDiverged(
                f"Training diverged at step {gan.step}: {key} = {value}. Likely causes: a learning rate too high "
                "for this batch size, a discriminator so confident that its logits overflow, or NaN/inf in the "
                "input images. Lower lr_d / lr_g, check the data's range, or resume from an earlier checkpoint.")
        gan.history[key].append(value)
    gan.history["step"].append(gan.step)


def _grad_norm(model: nn.Module) -> torch.Tensor:
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def _steps(num_steps: int, progress: bool | None):
    if progress is None:  # on for a terminal or a notebook a person runs; off under nbval and book builds
        flag = os.environ.get("GAN_BOOK_PROGRESS")
        progress = flag == "1" if flag is not None else (sys.stderr.isatty() or "JPY_SESSION_NAME" in os.environ)
    if not progress:
        return range(num_steps)
    from tqdm.auto import trange
    return trange(num_steps, desc="training", unit="step", leave=False)


# --- checkpoints ---------------------------------------------------------------------------

def save_gan(gan: GAN, path) -> None:
    """Everything needed to resume exactly: models, optimizers, every random stream, step and history."""
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    save_checkpoint({
        "recipe": asdict(gan.recipe), "seed": gan.seed, "step": gan.step, "seconds": gan.seconds,
        "generator": gan.generator.state_dict(), "discriminator": gan.discriminator.state_dict(),
        "opt_g": gan.opt_g.state_dict(), "opt_d": gan.opt_d.state_dict(),
        "batch_rng": gan.batch_rng.get_state(), "noise_rng": gan.noise_rng.get_state(),
        "torch_rng": torch.get_rng_state(), "cuda_rng": cuda_rng,
        "fixed_z": gan.fixed_z.cpu(), "history": gan.history,
    }, path)


def load_gan(path, device: torch.device | str = "cpu") -> GAN:
    """Rebuild a :class:`GAN` from :func:`save_gan`'s file, ready to :func:`train` further."""
    ckpt = load_checkpoint(path)
    recipe = Recipe(**ckpt["recipe"])
    gan = new_gan(recipe, ckpt["seed"], device, num_fixed=len(ckpt["fixed_z"]))
    gan.generator.load_state_dict(ckpt["generator"])
    gan.discriminator.load_state_dict(ckpt["discriminator"])
    gan.opt_g.load_state_dict(ckpt["opt_g"])
    gan.opt_d.load_state_dict(ckpt["opt_d"])
    gan.batch_rng.set_state(ckpt["batch_rng"])
    if ckpt["noise_rng"].numel() == gan.noise_rng.get_state().numel():  # same kind of device
        gan.noise_rng.set_state(ckpt["noise_rng"])
    torch.set_rng_state(ckpt["torch_rng"])
    if ckpt["cuda_rng"] and torch.cuda.is_available() and len(ckpt["cuda_rng"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(ckpt["cuda_rng"])
    gan.fixed_z = ckpt["fixed_z"].to(gan.device)
    gan.step, gan.seconds, gan.history = ckpt["step"], ckpt["seconds"], ckpt["history"]
    return gan
