"""Small GANs on 2-D mixtures (chapter 6), many seeds trained at once.

Every weight carries a leading *seed* axis: a layer's weight has shape S x in x out and
``torch.baddbmm`` applies the S networks to their S batches in one call. The losses are
*summed* over seeds, so each seed's gradient is exactly its own, and Adam works element by
element, so one Adam over the stacked weights is S independent Adams. Training S seeds
together is S separate runs, only faster.

PacGAN packing (Lin et al. 2018): with ``pack`` = m the discriminator judges m samples at
once, concatenated into one vector of 2m numbers, all real or all fake. A generator that
drops modes produces packs that are visibly too alike, so the discriminator can punish it.

The games are those of the image GANs (``gan_lib.losses.GAMES``): BCE, hinge and the Wasserstein game with
its gradient penalty, Eq. (ch6-gp), one interpolation weight per pack. Feature matching (Salimans et al.
2016) replaces the generator's loss by the distance between the mean of D's last hidden layer on real and
on generated samples, Eq. (ch6-fm).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from .losses import GAMES, discriminator_game_loss, generator_game_loss, gradient_penalty

G_LOSSES = ("non_saturating", "feature_matching")


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
    game: str = "bce"           # "bce", "hinge" or "wgan-gp", as gan_lib.train.Recipe.game
    d_gp_weight: float = 10.0   # the gradient penalty's weight, Eq. (ch6-gp), for game="wgan-gp" only
    d_steps: int = 1            # discriminator steps per generator step
    g_loss: str = "non_saturating"  # or "feature_matching", Eq. (ch6-fm) (in the BCE game)

    def __post_init__(self) -> None:
        if min(self.hidden, self.g_layers, self.d_layers, self.latent_dim, self.pack, self.d_steps) < 1:
            raise ValueError(f"widths, layer counts, latent_dim, pack and d_steps must be >= 1, got {self}.")
        if self.game not in GAMES or self.g_loss not in G_LOSSES:
            raise ValueError(f"game must be one of {GAMES} and g_loss one of {G_LOSSES}, got {self.game!r}, "
                             f"{self.g_loss!r}.")
        if self.g_loss == "feature_matching" and self.game != "bce":
            raise ValueError("feature matching replaces the generator's loss of the BCE game: use game='bce'.")
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
    return mlp_features(params, x, slope)[1]


def mlp_features(params: list[torch.Tensor], x: torch.Tensor, slope: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(the last hidden layer's activations, S x N x hidden; the output, S x N x out) of S MLPs on S batches."""
    features = x
    for i in range(0, len(params), 2):
        x = torch.baddbmm(params[i + 1], features, params[i])
        if i + 2 < len(params):
            features = F.leaky_relu(x, slope) if slope else F.relu(x)
    return features, x


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
    """``num_steps`` rounds of ``d_steps`` discriminator steps and one generator step, for all seeds at once.

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


def _draws(run: ToyRun, rngs: list[torch.Generator], num: int) -> tuple[torch.Tensor, ...]:
    """``num`` batches of real samples (num x S x n x 2), of noise (num x S x n x latent) and, for WGAN-GP, of the
    penalty's interpolation weights (num x S x packs x 1), each from its seed's own stream."""
    r, modes = run.recipe, run.modes.float()
    real, z, epsilon = [], [], []
    for g in rngs:  # one call per seed and chunk, not per step: the streams stay per seed
        which = torch.randint(len(modes), (num, r.batch_size), generator=g)
        real.append(modes[which] + run.std * torch.randn(num, r.batch_size, modes.shape[1], generator=g))
        z.append(torch.randn(num, r.batch_size, r.latent_dim, generator=g))
        epsilon.append(torch.rand(num, r.batch_size // r.pack, 1, generator=g) if r.game == "wgan-gp" else z[-1][:, :0])
    return torch.stack(real, 1), torch.stack(z, 1), torch.stack(epsilon, 1)


def _d_loss(run: ToyRun, real: torch.Tensor, fake: torch.Tensor, epsilon: torch.Tensor) -> torch.Tensor:
    """D's loss in the recipe's game, per seed (a mean over its packs), summed over seeds; ``epsilon`` (S x packs
    x 1) holds the gradient penalty's interpolation weights, one per pack, the critic's example (WGAN-GP only)."""
    r, S = run.recipe, len(run.seeds)
    real, fake = pack_samples(real, r.pack), pack_samples(fake, r.pack)
    real_logit, fake_logit = mlp_forward(run.d_params, torch.cat([real, fake], 1), 0.2).chunk(2, dim=1)
    # a game loss is a mean over all S x M packs: times S, it is the sum over seeds of each seed's mean
    loss = S * discriminator_game_loss(r.game, real_logit.flatten(0, 1), fake_logit.flatten(0, 1))
    if r.game == "wgan-gp":  # Eq. (ch6-gp)
        critic = lambda x: mlp_forward(run.d_params, x.view(real.shape), 0.2).flatten(0, 1)  # noqa: E731
        loss = loss + S * gradient_penalty(critic, real.flatten(0, 1), fake.flatten(0, 1), epsilon.flatten(0, 1),
                                           r.d_gp_weight)
    return loss


def _g_loss(run: ToyRun, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """G's loss in the recipe's game (or feature matching, Eq. (ch6-fm)), per seed, summed over seeds."""
    r, S = run.recipe, len(run.seeds)
    fake_features, fake_logit = mlp_features(run.d_params, pack_samples(fake, r.pack), 0.2)
    if r.g_loss == "feature_matching":
        real_features = mlp_features(run.d_params, pack_samples(real, r.pack), 0.2)[0].detach()
        return (real_features.mean(1) - fake_features.mean(1)).pow(2).sum()
    return S * generator_game_loss(r.game, fake_logit.flatten(0, 1))


def _train_toy(run: ToyRun, num_steps: int, snapshot_at: tuple[int, ...], num_snapshot: int) -> ToyRun:
    r, S, chunk = run.recipe, len(run.seeds), 250
    opt_g = torch.optim.Adam(run.g_params, lr=r.lr, betas=(r.beta1, r.beta2))
    opt_d = torch.optim.Adam(run.d_params, lr=r.lr, betas=(r.beta1, r.beta2))
    rngs = [torch.Generator().manual_seed(1_000_003 * s + run.step) for s in run.seeds]
    d_losses = []
    for i in range(num_steps):
        if i % chunk == 0:
            real_all, z_all, epsilon_all = _draws(run, rngs, min(chunk, num_steps - i) * r.d_steps)
        if r.lr_decay:  # a schedule over this call's num_steps: call train_toy once per run
            for opt in (opt_g, opt_d):
                opt.param_groups[0]["lr"] = r.lr * (1 - i / num_steps)
        for k in range(r.d_steps):
            j = (i % chunk) * r.d_steps + k
            real, fake = real_all[j], mlp_forward(run.g_params, z_all[j], 0.0)
            d_loss = _d_loss(run, real, fake.detach(), epsilon_all[j])
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward(inputs=run.d_params)
            opt_d.step()
        g_loss = _g_loss(run, real, fake)  # the last D step's fakes, as gan_lib.train
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward(inputs=run.g_params)  # D's weights get no gradient from G's step
        opt_g.step()
        run.step += 1
        d_losses.append(d_loss.detach())
        if run.step in snapshot_at:
            run.snapshots[run.step] = run.sample(num_snapshot, seed=S)
        if len(d_losses) == chunk or i == num_steps - 1:
            if not bool(torch.isfinite(torch.stack(d_losses)).all()):
                raise RuntimeError(f"toy GAN diverged by step {run.step}: lower ToyRecipe.lr.")
            d_losses.clear()
    return run
