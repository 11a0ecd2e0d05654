"""The losses of a GAN, derived in chapter 2.

* :func:`bce` - binary cross-entropy of probabilities, Eq. (ch2-bce).
* :func:`bce_with_logits` - the same loss on logits, in the stable form of Eq. (ch2-bce-logits).
* :func:`discriminator_loss` - BCE on real (target 1) plus BCE on fake (target 0), Eq. (ch2-d-loss).
* :func:`generator_loss` - the non-saturating loss, Eq. (ch2-g-ns), or the minimax ("saturating") one, Eq. (ch2-g-sat).
* :func:`r1_penalty` - the R1 gradient penalty on real images, Eq. (ch6-r1) (chapter 6).
* :func:`hinge_discriminator_loss`, :func:`hinge_generator_loss` - the hinge game, Eq. (ch6-hinge) (chapter 6).
* :func:`wasserstein_critic_loss`, :func:`wasserstein_generator_loss` - the Wasserstein game, Eq. (ch6-wgan),
  and :func:`gradient_penalty`, its 1-Lipschitz constraint made soft, Eq. (ch6-gp) (chapter 6).

Every loss is a *mean over the batch*, takes a batch of any shape, and keeps torch
tensors (and their dtype and device) in and out. Bad input is refused with a
``ValueError`` that says what to do, never silently broadcast: an ``(N, 1)``
prediction against an ``(N,)`` target would otherwise become an ``(N, N)`` matrix.
"""
from __future__ import annotations

import torch

GENERATOR_LOSS_KINDS = ("non_saturating", "saturating")
GAMES = ("bce", "hinge", "wgan-gp")  # the pairs of losses the book trains with (chapters 2 and 6)


def _check_prediction(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}.")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}; call .float() or .double().")
    if x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}): a mean over an empty batch is undefined.")


def _in_unit_interval(x: torch.Tensor) -> bool:
    # Written so that NaN counts as outside [0, 1].
    return bool(((x >= 0) & (x <= 1)).all())


def _as_target(target: torch.Tensor | float, like: torch.Tensor, like_name: str) -> torch.Tensor:
    """The target as a tensor of ``like``'s shape, dtype and device; checked, never broadcast.

    A Python number means "this target for every example" and is expanded on purpose.
    A tensor must already have exactly the prediction's shape.
    """
    if isinstance(target, (int, float)) and not isinstance(target, bool):
        if not 0.0 <= float(target) <= 1.0:
            raise ValueError(f"target must lie in [0, 1], got {target}.")
        return torch.full_like(like, float(target))
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor or a number in [0, 1], got {type(target).__name__}.")
    if target.shape != like.shape:
        raise ValueError(
            f"{like_name} has shape {tuple(like.shape)} but target has shape {tuple(target.shape)}; "
            "they must match exactly (no broadcasting). For a discriminator output of shape (N, 1), "
            "make the target with torch.ones_like(output), or reshape one of the two.")
    if not _in_unit_interval(target):
        raise ValueError(f"target values must lie in [0, 1]; got min {target.min().item()}, "
                         f"max {target.max().item()}.")
    return target.to(dtype=like.dtype, device=like.device)


def bce(prob: torch.Tensor, target: torch.Tensor | float) -> torch.Tensor:
    """Eq. (ch2-bce): mean binary cross-entropy, -(1/N) sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)].

    ``prob`` holds probabilities in [0, 1]. Unlike ``torch.nn.BCELoss`` the log is not
    clamped at -100: a confident mistake (p = 0 with y = 1) costs ``inf``, the true value.
    ``0 log 0`` is taken as 0, its limit, so a correct confident prediction costs 0.
    """
    _check_prediction(prob, "prob")
    if not _in_unit_interval(prob):
        raise ValueError(f"prob must lie in [0, 1]; got min {prob.min().item()}, max {prob.max().item()}. "
                         "If these are logits (raw network outputs), use bce_with_logits instead.")
    y = _as_target(target, prob, "prob")
    log_likelihood = torch.special.xlogy(y, prob) + torch.special.xlogy(1 - y, 1 - prob)
    return -log_likelihood.mean()


class _StableBCEWithLogits(torch.autograd.Function):
    """Per-example BCE on logits: the value of Eq. (ch2-bce-logits) and, right beside it, its derivative, Eq. (ch2-logit-grad).

    Autograd would differentiate max(a, 0) and |a| separately and get the kink at a = 0
    wrong (a one-sided first derivative, -y or 1 - y by PyTorch version, instead of 1/2 - y;
    second derivative 0 instead of 1/4);
    the derivative of the sum is smooth, so we give it directly. It is written with
    torch operations, so second derivatives (Hessians) work too.
    """

    @staticmethod
    def forward(ctx, logit: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(logit, target)
        return logit.clamp(min=0) - logit * target + torch.log1p(torch.exp(-logit.abs()))

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logit, target = ctx.saved_tensors
        return grad_out * (torch.sigmoid(logit) - target), grad_out * (-logit)


def bce_with_logits(logit: torch.Tensor, target: torch.Tensor | float) -> torch.Tensor:
    """Eq. (ch2-bce-logits): mean BCE on logits, (1/N) sum_i [max(a_i, 0) - a_i y_i + log(1 + exp(-|a_i|))].

    Equal to ``bce(sigmoid(logit), target)`` but finite for every finite logit; its gradient
    is (sigma(a_i) - y_i) / N, Eq. (ch2-logit-grad), exactly, at every logit.
    """
    _check_prediction(logit, "logit")
    y = _as_target(target, logit, "logit")
    return _StableBCEWithLogits.apply(logit, y).mean()


def discriminator_loss(real_logit: torch.Tensor, fake_logit: torch.Tensor,
                       real_target: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Eq. (ch2-d-loss): BCE of the real batch against ``real_target`` plus BCE of the fake batch against 0.

    The result is the *sum of the two batch means*. With ``real_target=1`` and equally many
    real and fake examples it equals -V(D, G) of Eq. (ch2-value) estimated on that batch.
    ``real_target < 1`` is one-sided label smoothing (Eq. (ch2-smooth)); the fake target stays 0.
    """
    return bce_with_logits(real_logit, real_target) + bce_with_logits(fake_logit, 0.0)


def generator_loss(fake_logit: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """The quantity the generator minimises, given the discriminator's logits on fake examples.

    * ``"non_saturating"`` - Eq. (ch2-g-ns): mean -log sigma(a) = BCE against target 1 (the seed's choice).
    * ``"saturating"`` - Eq. (ch2-g-sat): mean log(1 - sigma(a)), the minimax loss, computed stably
      as -softplus(a); it is negative and its gradient vanishes as sigma(a) -> 0.
    """
    if kind == "non_saturating":
        return bce_with_logits(fake_logit, 1.0)
    if kind == "saturating":
        return -bce_with_logits(fake_logit, 0.0)
    raise ValueError(f"kind must be one of {GENERATOR_LOSS_KINDS}, got {kind!r}.")


def r1_penalty(real_logit: torch.Tensor, real: torch.Tensor, gamma: float) -> torch.Tensor:
    """Eq. (ch6-r1), R1 (Mescheder et al. 2018): (gamma / 2) * mean over real images of ||d logit / d x||^2.

    ``real`` must require grad and ``real_logit`` be D's output on it; the penalty keeps its graph
    (``create_graph``), so that its own gradient reaches D's weights.
    """
    if not real.requires_grad:
        raise ValueError("real images must require grad for R1: call real.requires_grad_(True) before D(real).")
    (grad,) = torch.autograd.grad(real_logit.sum(), real, create_graph=True)
    return 0.5 * gamma * grad.pow(2).flatten(1).sum(1).mean()


# --- Chapter 6: the hinge and Wasserstein games ------------------------------------------------
# Their discriminator returns a *score* (a "logit" for hinge, a critic's value for WGAN) with no
# probability behind it, so there is no target: each loss is a mean of the scores, or of a hinge on them.

def hinge_discriminator_loss(real_logit: torch.Tensor, fake_logit: torch.Tensor) -> torch.Tensor:
    """Eq. (ch6-hinge), D's side (Lim & Ye 2017; Miyato et al. 2018): mean relu(1 - real) + mean relu(1 + fake).

    A real example scored at or above +1, or a fake one at or below -1, costs nothing and sends no gradient:
    D stops pushing examples it already separates by the margin. The two means are taken separately,
    so the two batches may differ in size and nothing is broadcast.
    """
    _check_prediction(real_logit, "real_logit")
    _check_prediction(fake_logit, "fake_logit")
    return torch.relu(1 - real_logit).mean() + torch.relu(1 + fake_logit).mean()


def hinge_generator_loss(fake_logit: torch.Tensor) -> torch.Tensor:
    """Eq. (ch6-hinge), G's side: -mean(fake_logit), with no margin (G always gains by raising D's score)."""
    _check_prediction(fake_logit, "fake_logit")
    return -fake_logit.mean()


def wasserstein_critic_loss(real_score: torch.Tensor, fake_score: torch.Tensor) -> torch.Tensor:
    """Eq. (ch6-wgan), the critic's side (Arjovsky et al. 2017): mean(fake_score) - mean(real_score).

    Minimising it maximises mean(real) - mean(fake), which over 1-Lipschitz critics is the
    Wasserstein-1 distance (Kantorovich-Rubinstein duality); add :func:`gradient_penalty` to keep
    the critic (softly) 1-Lipschitz. Scores are unbounded, so there is no sigmoid and no target.
    """
    _check_prediction(real_score, "real_score")
    _check_prediction(fake_score, "fake_score")
    return fake_score.mean() - real_score.mean()


def wasserstein_generator_loss(fake_score: torch.Tensor) -> torch.Tensor:
    """Eq. (ch6-wgan), the generator's side: -mean(fake_score) (the real term does not depend on G)."""
    _check_prediction(fake_score, "fake_score")
    return -fake_score.mean()


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, epsilon: torch.Tensor,
                     weight: float = 10.0) -> torch.Tensor:
    """Eq. (ch6-gp), WGAN-GP (Gulrajani et al. 2017): weight * mean_i (||grad_x critic(x_hat_i)||_2 - 1)^2.

    ``x_hat_i = epsilon_i real_i + (1 - epsilon_i) fake_i`` lies on the segment between a real and a
    fake example, with ONE weight per example: ``epsilon`` has shape (N, 1, ..., 1), e.g.
    ``torch.rand(N, 1, 1, 1, generator=rng, device=real.device)`` for images, (N, 1) for 2-D points
    (the paper's epsilon ~ U[0, 1] and weight lambda = 10). ``critic`` maps a batch to one score per
    example, shape (N,) or (N, 1); a conditional critic is passed as ``lambda x: D(x, labels)``.

    x_hat is built from ``real.detach()`` and ``fake.detach()``, so the penalty trains the critic only,
    whether or not the caller detached ``fake``; its graph is kept (``create_graph``), so its gradient
    reaches the critic's weights. The penalty is per example, so the critic must not mix examples:
    a critic with batch norm in training mode is refused (Gulrajani et al. drop batch norm from the critic).
    """
    _check_penalty_inputs(critic, real, fake, epsilon)
    epsilon = epsilon.to(dtype=real.dtype, device=real.device)
    x_hat = (epsilon * real.detach() + (1 - epsilon) * fake.detach()).requires_grad_(True)
    score = _check_scores(critic(x_hat), len(real))
    (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=True)
    return weight * (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def _check_scores(score: torch.Tensor, n: int) -> torch.Tensor:
    if not isinstance(score, torch.Tensor) or score.dim() == 0 or score.shape[0] != n or score.numel() != n:
        got = tuple(score.shape) if isinstance(score, torch.Tensor) else type(score).__name__
        raise ValueError(f"critic must return one score per example, shape ({n},) or ({n}, 1); got {got}.")
    if not score.requires_grad:
        raise ValueError("the critic's score does not depend on its input with gradients on: "
                         "call gradient_penalty outside torch.no_grad(), on a critic that uses its input.")
    return score


def _check_penalty_inputs(critic, real: torch.Tensor, fake: torch.Tensor, epsilon: torch.Tensor) -> None:
    _check_prediction(real, "real")
    _check_prediction(fake, "fake")
    if fake.shape != real.shape:
        raise ValueError(f"real has shape {tuple(real.shape)} but fake has shape {tuple(fake.shape)}; "
                         "the penalty pairs them example by example, so they must match exactly.")
    per_example = (len(real),) + (1,) * (real.dim() - 1)
    if not isinstance(epsilon, torch.Tensor) or tuple(epsilon.shape) != per_example:
        got = tuple(epsilon.shape) if isinstance(epsilon, torch.Tensor) else type(epsilon).__name__
        raise ValueError(f"epsilon must hold one interpolation weight per example, shape {per_example}, got {got}: "
                         f"draw it with torch.rand{per_example} (not one weight per pixel).")
    if not _in_unit_interval(epsilon):
        raise ValueError("epsilon must lie in [0, 1]: x_hat must lie on the segment from fake to real.")
    if isinstance(critic, torch.nn.Module) and any(
            isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.training for m in critic.modules()):
        raise ValueError("the critic has batch norm in training mode, which mixes examples and breaks the "
                         "per-example penalty: use a critic without batch norm (e.g. layer norm), as WGAN-GP does.")


def discriminator_game_loss(game: str, real_logit: torch.Tensor, fake_logit: torch.Tensor,
                            real_target: float = 1.0) -> torch.Tensor:
    """D's loss in one of the book's games: "bce", Eq. (ch2-d-loss) (with ``real_target`` < 1: smoothing);
    "hinge", Eq. (ch6-hinge); "wgan-gp", Eq. (ch6-wgan) (its penalty, Eq. (ch6-gp), is added by the caller)."""
    if game == "bce":
        return discriminator_loss(real_logit, fake_logit, real_target=real_target)
    if real_target != 1.0:
        raise ValueError(f"label smoothing (real_target={real_target}) belongs to the BCE game, not to {game!r}.")
    if game == "hinge":
        return hinge_discriminator_loss(real_logit, fake_logit)
    if game == "wgan-gp":
        return wasserstein_critic_loss(real_logit, fake_logit)
    raise ValueError(f"game must be one of {GAMES}, got {game!r}.")


def generator_game_loss(game: str, fake_logit: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """G's loss in one of the book's games: "bce", Eq. (ch2-g-ns) or Eq. (ch2-g-sat) by ``kind``; "hinge",
    Eq. (ch6-hinge); "wgan-gp", Eq. (ch6-wgan)."""
    if game == "bce":
        return generator_loss(fake_logit, kind=kind)
    if game == "hinge":
        return hinge_generator_loss(fake_logit)
    if game == "wgan-gp":
        return wasserstein_generator_loss(fake_logit)
    raise ValueError(f"game must be one of {GAMES}, got {game!r}.")
