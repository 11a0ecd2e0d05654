"""gan_lib.spectral_norm: Eq. (ch4-sn) to the bit of torch's, Eq. (ch4-sn-grad) against autograd and finite
differences, the same buffers and state dict, and the layers the book normalises."""
import pytest
import torch
from torch import nn

from gan_lib import models
from gan_lib.spectral_norm import SpectralNorm, _DivideBySigma, spectral_norm

LAYERS = {"linear": lambda: nn.Linear(30, 20), "conv": lambda: nn.Conv2d(3, 5, 4),
          "conv-transpose": lambda: nn.ConvTranspose2d(5, 3, 4, 2, 1)}  # torch normalises the last along dim 1


def _pair(kind: str, dtype=torch.float32) -> tuple[nn.Module, nn.Module, torch.Tensor]:
    """The same layer (same weights, same random start of the power iteration) under torch's and the book's."""
    torch.manual_seed(0)
    theirs = nn.utils.parametrizations.spectral_norm(LAYERS[kind]().to(dtype))
    torch.manual_seed(0)
    ours = spectral_norm(LAYERS[kind]().to(dtype))
    x = torch.randn(7, 30) if kind == "linear" else torch.randn(2, theirs.in_channels, 9, 9)
    return theirs, ours, x.to(dtype)


def _weight_grads(theirs: nn.Module, ours: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """d(sum(layer(x) * w))/dW for a random w, each layer called once (a call refines its u and v)."""
    outs = theirs(x), ours(x)
    w = torch.randn_like(outs[0])
    return tuple(torch.autograd.grad((out * w).sum(), layer.parametrizations.weight.original)[0]
                 for out, layer in zip(outs, (theirs, ours)))


@pytest.mark.parametrize("kind", LAYERS)
def test_forward_and_power_iteration_are_torchs_to_the_bit(kind):
    theirs, ours, x = _pair(kind)
    for _ in range(4):   # each training-mode call refines u and v once
        assert torch.equal(theirs(x), ours(x))
    assert torch.equal(theirs.parametrizations.weight[0]._u, ours.parametrizations.weight[0]._u)
    assert torch.equal(theirs.parametrizations.weight[0]._v, ours.parametrizations.weight[0]._v)


@pytest.mark.parametrize("kind", LAYERS)
def test_hand_written_gradient_is_autograds(kind):
    """Eq. (ch4-sn-grad) against autograd through torch's mv, vdot and division, in float64, over three steps."""
    theirs, ours, x = _pair(kind, torch.float64)
    for step in range(3):
        expected, got = _weight_grads(theirs, ours, x)
        assert torch.allclose(got, expected, rtol=1e-10, atol=1e-12), (kind, step, (got - expected).abs().max())


def test_the_projection_term_matters():
    """A test of the test above, on torch's layer only: Eq. (ch4-sn-grad) written out agrees with autograd, and without
    its second term (G / sigma alone) it is measurably off (by more than 0.1% of the gradient's largest entry), so the
    comparison above would fail on a backward pass that forgot that sigma depends on W."""
    theirs, _, x = _pair("linear", torch.float64)
    theirs.eval()  # no power iteration: u and v stay as they are
    w = torch.randn_like(theirs(x))
    expected = torch.autograd.grad((theirs(x) * w).sum(), theirs.parametrizations.weight.original)[0]
    sn, weight = theirs.parametrizations.weight[0], theirs.parametrizations.weight.original.detach()
    sigma = torch.vdot(sn._u, weight @ sn._v)
    weight_sn = (weight / sigma).requires_grad_()
    g = torch.autograd.grad((nn.functional.linear(x, weight_sn, theirs.bias) * w).sum(), weight_sn)[0]
    full = (g - torch.vdot(g.flatten(), weight_sn.flatten()) * torch.outer(sn._u, sn._v)) / sigma
    assert torch.allclose(full, expected, rtol=1e-10, atol=1e-12)
    assert (g / sigma - expected).abs().max() > 1e-3 * expected.abs().max()


@pytest.mark.parametrize("dim", [0, 1])
def test_gradient_against_finite_differences(dim):
    torch.manual_seed(1)
    weight = torch.randn(4, 3, 2, dtype=torch.float64, requires_grad=True)
    mat = weight.detach().movedim(dim, 0).flatten(1)
    u = nn.functional.normalize(torch.randn(mat.shape[0], dtype=torch.float64), dim=0)
    v = nn.functional.normalize(torch.randn(mat.shape[1], dtype=torch.float64), dim=0)
    # the matrix view is taken from the perturbed weight, so the finite differences see sigma move with W
    f = lambda w: _DivideBySigma.apply(w, w.detach().movedim(dim, 0).flatten(1), u, v, dim)  # noqa: E731
    assert torch.autograd.gradcheck(f, (weight,), eps=1e-6, atol=1e-8)


def test_the_state_dict_is_torchs():
    """Checkpoints written with torch's parametrization load into the book's and back (the same keys, buffers)."""
    theirs, ours, x = _pair("linear")
    theirs(x)
    ours.load_state_dict(theirs.state_dict())
    assert torch.equal(ours.weight, theirs.weight)
    assert ours.state_dict().keys() == theirs.state_dict().keys()


def test_eval_mode_does_not_iterate():
    _, ours, x = _pair("linear")
    ours.eval()
    u = ours.parametrizations.weight[0]._u.clone()
    ours(x)
    assert torch.equal(ours.parametrizations.weight[0]._u, u)


def test_models_use_it_and_bad_layers_are_refused():
    d = models.with_spectral_norm(models.mlp_discriminator())
    normalised = [m for m in d.modules() if hasattr(m, "parametrizations")]
    assert len(normalised) == 4 and all(isinstance(m.parametrizations.weight[0], SpectralNorm) for m in normalised)
    with pytest.raises(ValueError, match="has no tensor 'weight'"):
        spectral_norm(nn.ReLU())
