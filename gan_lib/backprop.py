"""Backpropagation by hand for the book's MLPs (chapter 3).

Like micrograd, every layer has its forward rule and, right beside it, the rule
that sends the gradient back. :func:`forward` runs an ``nn.Sequential`` and keeps a
*tape* of each layer's input and output; :func:`backward` walks the tape in reverse
and applies the chain rule, Eq. (ch3-backward). Nothing here uses autograd: the rules are
the derivation, and chapter 3 checks them against ``torch.autograd``.

Conventions. ``nn.Linear`` computes ``y = x W^T + b`` (x is N x in, W is out x in), so
``dL/dW = (dL/dy)^T x``, ``dL/db = sum over the batch of dL/dy`` and ``dL/dx = (dL/dy) W``.
Loss gradients are those of a batch *mean*, so each carries a factor 1/N.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

Grads = dict[str, Tensor]
Tape = list[tuple[nn.Module, Tensor, Tensor]]


# --- one layer: forward rule, backward rule --------------------------------------
# A backward rule takes (layer, x, y, grad_y) and returns (grad_x, {param: grad}).

def linear_forward(layer: nn.Linear, x: Tensor) -> Tensor:
    y = x @ layer.weight.detach().T
    return y if layer.bias is None else y + layer.bias.detach()


def linear_backward(layer: nn.Linear, x: Tensor, y: Tensor, grad_y: Tensor) -> tuple[Tensor, Grads]:
    """Eq. (ch3-linear): dL/dW = (dL/dy)^T x, dL/db = sum_n dL/dy_n, dL/dx = (dL/dy) W."""
    gy, x2 = grad_y.reshape(-1, grad_y.shape[-1]), x.reshape(-1, x.shape[-1])  # (*, k) -> (rows, k)
    grads = {"weight": gy.T @ x2}
    if layer.bias is not None:
        grads["bias"] = gy.sum(dim=0)
    return grad_y @ layer.weight.detach(), grads


def relu_forward(layer: nn.ReLU, x: Tensor) -> Tensor:
    return x.clamp(min=0)


def relu_backward(layer: nn.ReLU, x: Tensor, y: Tensor, grad_y: Tensor) -> tuple[Tensor, Grads]:
    """Eq. (ch3-relu): the gradient passes where x > 0 and stops elsewhere (torch's choice at x = 0)."""
    return torch.where(x > 0, grad_y, torch.zeros_like(grad_y)), {}


def leaky_relu_forward(layer: nn.LeakyReLU, x: Tensor) -> Tensor:
    return torch.where(x > 0, x, layer.negative_slope * x)


def leaky_relu_backward(layer: nn.LeakyReLU, x: Tensor, y: Tensor, grad_y: Tensor) -> tuple[Tensor, Grads]:
    """Eq. (ch3-relu): slope 1 where x > 0, the layer's negative slope elsewhere."""
    return torch.where(x > 0, grad_y, layer.negative_slope * grad_y), {}


def tanh_forward(layer: nn.Tanh, x: Tensor) -> Tensor:
    return torch.tanh(x)


def tanh_backward(layer: nn.Tanh, x: Tensor, y: Tensor, grad_y: Tensor) -> tuple[Tensor, Grads]:
    """Eq. (ch3-tanh): tanh' = 1 - tanh^2, written with the saved output y."""
    return grad_y * (1 - y * y), {}


def sigmoid_forward(layer: nn.Sigmoid, x: Tensor) -> Tensor:
    return torch.sigmoid(x)


def sigmoid_backward(layer: nn.Sigmoid, x: Tensor, y: Tensor, grad_y: Tensor) -> tuple[Tensor, Grads]:
    """Eq. (ch3-tanh): sigma' = sigma (1 - sigma), written with the saved output y."""
    return grad_y * y * (1 - y), {}


def flatten_forward(layer: nn.Flatten, x: Tensor) -> Tensor:
    return x.flatten(layer.start_dim, layer.end_dim)


def unflatten_forward(layer: nn.Unflatten, x: Tensor) -> Tensor:
    return x.unflatten(layer.dim, layer.unflattened_size)


def reshape_backward(layer: nn.Module, x: Tensor, y: Tensor, grad_y: Tensor) -> tuple[Tensor, Grads]:
    """A reshape moves numbers without changing them: give the gradient x's shape back."""
    return grad_y.reshape(x.shape), {}


def identity_forward(layer: nn.Module, x: Tensor) -> Tensor:
    return x


def identity_backward(layer: nn.Module, x: Tensor, y: Tensor, grad_y: Tensor) -> tuple[Tensor, Grads]:
    return grad_y, {}


Rule = tuple[Callable[..., Tensor], Callable[..., tuple[Tensor, Grads]]]
RULES: dict[type, Rule] = {
    nn.Linear: (linear_forward, linear_backward),
    nn.ReLU: (relu_forward, relu_backward),
    nn.LeakyReLU: (leaky_relu_forward, leaky_relu_backward),
    nn.Tanh: (tanh_forward, tanh_backward),
    nn.Sigmoid: (sigmoid_forward, sigmoid_backward),
    nn.Flatten: (flatten_forward, reshape_backward),
    nn.Unflatten: (unflatten_forward, reshape_backward),
    nn.Dropout: (identity_forward, identity_backward),  # only when it is the identity, see _rule
}
SUPPORTED = ", ".join(cls.__name__ for cls in RULES)


def _rule(layer: nn.Module) -> Rule:
    if isinstance(layer, nn.Dropout) and layer.training and layer.p > 0:
        raise ValueError(f"{layer} is random in training mode, so it has no fixed hand-written backward pass. "
                         "Call model.eval() (Dropout becomes the identity) or build the model with dropout=0.")
    rule = RULES.get(type(layer))
    if rule is None:
        raise NotImplementedError(f"gan_lib.backprop has no rule for the layer {layer!r}. "
                                  f"Supported layers: {SUPPORTED}.")
    return rule


def _check_sequential(model: nn.Module) -> None:
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"gan_lib.backprop walks an nn.Sequential layer by layer; got {type(model).__name__}. "
                        "Build the model as nn.Sequential (as gan_lib.models does).")


# --- the whole network: a tape forward, the chain rule backward ------------------

def forward(model: nn.Sequential, x: Tensor) -> tuple[Tensor, Tape]:
    """Run ``model`` on ``x`` without autograd; return the output and the tape (layer, input, output)."""
    _check_sequential(model)
    rules = [_rule(layer) for layer in model]  # every error before any work
    tape: Tape = []
    x = x.detach()
    with torch.no_grad():
        for layer, (layer_forward, _) in zip(model, rules):
            y = layer_forward(layer, x)
            tape.append((layer, x, y))
            x = y
    return x, tape


def backward(model: nn.Sequential, tape: Tape, grad_out: Tensor) -> tuple[Tensor, Grads]:
    """Eq. (ch3-backward), the chain rule: walk the tape backwards from dL/d(output).

    Returns dL/d(input) and ``{parameter name: dL/d(parameter)}``, named as in
    ``model.named_parameters()`` (e.g. ``"0.weight"``).
    """
    _check_sequential(model)
    if len(tape) != len(model) or tape[-1][2].shape != grad_out.shape:
        raise ValueError("backward needs the tape of forward(model, x) for this model, and grad_out shaped like "
                         f"its output; got grad_out of shape {tuple(grad_out.shape)}.")
    grads: Grads = {}
    grad = grad_out
    with torch.no_grad():
        for index in reversed(range(len(model))):
            layer, x, y = tape[index]
            grad, param_grads = _rule(layer)[1](layer, x, y, grad)
            grads.update({f"{index}.{name}": g for name, g in param_grads.items()})
    names = [name for name, _ in model.named_parameters()]
    return grad, {name: grads[name] for name in names}


# --- the losses' derivative rules (the losses themselves live in gan_lib.losses) ---

def bce_with_logits_grad(logit: Tensor, target: Tensor | float) -> Tensor:
    """Eq. (ch3-bce-grad): d/da of mean BCE-with-logits is (sigma(a) - y) / N, N = number of elements."""
    return (torch.sigmoid(logit) - target) / logit.numel()


def generator_loss_grad(fake_logit: Tensor, kind: str = "non_saturating") -> Tensor:
    """Eq. (ch3-gen-grad): dL_G/da for the mean generator loss.

    non_saturating, L = mean -log sigma(a):      dL/da = (sigma(a) - 1) / N
    saturating,     L = mean  log(1 - sigma(a)): dL/da = -sigma(a) / N
    """
    if kind == "non_saturating":
        return bce_with_logits_grad(fake_logit, 1.0)
    if kind == "saturating":
        return -torch.sigmoid(fake_logit) / fake_logit.numel()
    raise ValueError(f"kind must be 'non_saturating' or 'saturating', got {kind!r}.")


# --- the two players' gradients ---------------------------------------------------

def generator_grads(generator: nn.Sequential, discriminator: nn.Sequential, z: Tensor,
                    kind: str = "non_saturating") -> Grads:
    """Eq. (ch3-chain): dL_G/dtheta = dL/da * da/dx * dx/dtheta, by hand, for every parameter theta of G.

    The gradient reaches G through D's *input*; the gradients D's parameters would
    get on the way are dropped, since the generator step must not change D.
    """
    generator_loss_grad(z.new_zeros(1), kind)  # reject a bad kind before any work
    fake, g_tape = forward(generator, z)
    fake_logit, d_tape = forward(discriminator, fake)
    grad_fake, _ = backward(discriminator, d_tape, generator_loss_grad(fake_logit, kind))
    _, grads = backward(generator, g_tape, grad_fake)
    return grads


def discriminator_grads(discriminator: nn.Sequential, real: Tensor, fake: Tensor,
                        real_target: float = 1.0) -> Grads:
    """dL_D/dW_D for L_D = BCE(D(real), real_target) + BCE(D(fake), 0), both batch means.

    ``fake`` is used as data: no gradient goes back into the generator (the hand-written
    counterpart of ``fake.detach()``).
    """
    real_logit, real_tape = forward(discriminator, real)
    fake_logit, fake_tape = forward(discriminator, fake)
    _, real_grads = backward(discriminator, real_tape, bce_with_logits_grad(real_logit, real_target))
    _, fake_grads = backward(discriminator, fake_tape, bce_with_logits_grad(fake_logit, 0.0))
    return {name: real_grads[name] + fake_grads[name] for name in real_grads}
