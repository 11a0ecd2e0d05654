"""Small GANs on 2-D mixtures (chapter 6), many seeds trained at once.

Every weight carries a leading *seed* axis: a layer's weight has shape S x in x out and
``torch.baddbmm`` applies the S networks to their S batches in one call. The losses are
*summed* over seeds, so each seed's gradient is exactly its own, and Adam works element by
element, so one Adam over the stacked weights is S independent Adams. Training S seeds
together is S separate runs, only faster.

PacGAN packing (Lin et al. 2018): with ``pack`` = m the discriminator judges m samples at
once, concatenated into one vector of 2m numbers, all real or all fake. A generator that
drops modes produces packs that are visibly too alike, so the discriminator can punish it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from .mixtures import sample_mixture


@dataclass(frozen=True)
class ToyRecipe:
    """A 2-D GAN: MLP widths, latent size, batch, Adam settings and the packing degree."""
    hidden: int = 128
    g_layers: int = 2           # hidden layers of the generator (ReLU)
    d_layers: int = 2           # hidden layers of the discriminator (LeakyReLU 0.2)
    latent_dim: int = 2
    batch_size: int = 128       # samples per side per step, whatever the packing
    lr: float = 5e-4            # Adam's learning rate, for both networks
    beta1: float = 0.5          # Adam's betas, for both networks (as in gan_lib.train.Recipe)
    beta2: float = 0.999
    pack: int = 1               # PacGAN degree m: the discriminator sees m samples at once
    lr_decay: bool = True       # decay both learning rates linearly to 0 over the run: sharper modes at the end

    def __post_init__(self) -> None:
        if min(self.hidden, self.g_layers, self.d_layers, self.latent_dim, self.pack) < 1:
            raise ValueError(f"widths, layer counts, latent_dim and pack must be >= 1, got {self}.")
        if self.batch_size % self.pack:
            raise ValueError(f"batch_size {self.batch_size} must be a multiple of pack {self.pack}: "
                             "the discriminator judges batch_size / pack packs per side.")


def init_mlp(widths: list[int], seeds: tuple[int, ...], salt: int) -> list[torch.Tensor]:
    """Weights (S x in x out) and biases (S x 1 x out) of S MLPs, each seeded by its own seed.

    Initialised as ``nn.Linear`` does: uniform in +-1/sqrt(in). ``salt`` tells G and D apart.
    """
    params = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        bound = 1 / math.sqrt(fan_in)
        w, b = [], []
        for s in seeds:
            g = torch.Generator().manual_seed(10_007 * s + 101 * salt + len(params))
            w.append((torch.rand(fan_in, fan_out, generator=g) * 2 - 1) * bound)
            b.append((torch.rand(1, fan_out, generator=g) * 2 - 1) * bound)
        params += [torch.stack(w).requires_grad_(), torch.stack(b).requires_grad_()]
    return params


def mlp_forward(params: list[torch.Tensor], x: torch.Tensor, slope: float) -> torch.Tensor:
    """S MLPs on S batches: x is S x N x in; hidden layers use LeakyReLU(slope) (slope 0 is ReLU)."""
    for i in range(0, len(params), 2):
        x = torch.baddbmm(params[i + 1], x, params[i])
        if i + 2 < len(params):
            x = F.leaky_relu(x, slope) if slope else F.relu(x)
    return x


def pack_samples(x: torch.Tensor, pack: int) -> torch.Tensor:
    """S x N x 2 samples into S x (N / pack) x (2 pack) packs: consecutive samples side by side."""
    s, n, d = x.shape
    if n % pack:
        raise ValueError(f"{n} samples cannot be cut into packs of {pack}.")
    return x.reshape(s, n // pack, d * pack)


@dataclass
class ToyRun:
    """S seeds of one recipe on one mixture: weights, optimizers, and snapshots of samples."""
    recipe: ToyRecipe
    seeds: tuple[int, ...]
    modes: torch.Tensor
    std: float
    g_params: list[torch.Tensor]
    d_params: list[torch.Tensor]
    step: int = 0
    snapshots: dict = field(default_factory=dict)   # step -> S x n x 2 samples

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """n samples of every seed's generator: S x n x 2 (float64), z drawn with ``seed``."""
        z = torch.randn(len(self.seeds), n, self.recipe.latent_dim, generator=torch.Generator().manual_seed(seed))
        return mlp_forward(self.g_params, z, 0.0).double()


def new_toy_run(recipe: ToyRecipe, modes: torch.Tensor, std: float, seeds: tuple[int, ...]) -> ToyRun:
    """Fresh generators (latent -> 2) and discriminators (2 pack -> 1 logit), one per seed."""
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError(f"seeds must be distinct and non-empty, got {seeds}.")
    g = init_mlp([recipe.latent_dim] + [recipe.hidden] * recipe.g_layers + [modes.shape[1]], seeds, salt=1)
    d = init_mlp([modes.shape[1] * recipe.pack] + [recipe.hidden] * recipe.d_layers + [1], seeds, salt=2)
    return ToyRun(recipe, tuple(seeds), modes, std, g, d)


def train_toy(run: ToyRun, num_steps: int, snapshot_at: tuple[int, ...] = (), num_snapshot: int = 500) -> ToyRun:
    """``num_steps`` alternating steps (D then G, non-saturating loss) for all seeds at once.

    Real samples and noise come from per-seed random streams, so a seed's run does not depend
    on which other seeds are trained beside it. It runs on one CPU thread: matrices this small
    gain little from more, and the order of floating-point sums, hence the result, then does not
    depend on how many cores the machine has.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_toy(run, num_steps, snapshot_at, num_snapshot)
    finally:
        torch.set_num_threads(threads)


def _train_toy(run: ToyRun, num_steps: int, snapshot_at: tuple[int, ...], num_snapshot: int) -> ToyRun:
    r, S = run.recipe, len(run.seeds)
    opt_g = torch.optim.Adam(run.g_params, lr=r.lr, betas=(r.beta1, r.beta2))
    opt_d = torch.optim.Adam(run.d_params, lr=r.lr, betas=(r.beta1, r.beta2))
    if r.lr_decay:  # a schedule over this call's num_steps: call train_toy once per run
        schedules = [torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1 - i / num_steps) for opt in (opt_g, opt_d)]
    rngs = [torch.Generator().manual_seed(1_000_003 * s + run.step) for s in run.seeds]
    modes = run.modes.float()
    for _ in range(num_steps):
        real = torch.stack([sample_mixture(modes, run.std, r.batch_size, g) for g in rngs])
        z = torch.stack([torch.randn(r.batch_size, r.latent_dim, generator=g) for g in rngs])
        fake = mlp_forward(run.g_params, z, 0.0)
        real_logit = mlp_forward(run.d_params, pack_samples(real, r.pack), 0.2)
        fake_logit = mlp_forward(run.d_params, pack_samples(fake.detach(), r.pack), 0.2)
        # Eq. (ch2-d-loss) per seed (mean over the batch), summed over seeds.
        d_loss = (F.softplus(-real_logit).mean((1, 2)) + F.softplus(fake_logit).mean((1, 2))).sum()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward(inputs=run.d_params)
        opt_d.step()
        g_loss = F.softplus(-mlp_forward(run.d_params, pack_samples(fake, r.pack), 0.2)).mean((1, 2)).sum()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward(inputs=run.g_params)  # D's weights get no gradient from G's step
        opt_g.step()
        if r.lr_decay:
            for schedule in schedules:
                schedule.step()
        run.step += 1
        if run.step in snapshot_at:
            run.snapshots[run.step] = run.sample(num_snapshot, seed=S)
        if not math.isfinite(d_loss.item()):
            raise RuntimeError(f"toy GAN diverged at step {run.step}: lower ToyRecipe.lr.")
    return run
