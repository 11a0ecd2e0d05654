"""Spectral normalisation of a layer's weight, with its gradient written by hand (chapter 4).

Miyato et al. (2018) divide a weight matrix W by an estimate of its largest singular value,

    W_SN = W / sigma,   sigma = u^T W v,                                              Eq. (ch4-sn)

where u and v estimate the left and right singular vectors, refined by one power iteration per training-mode
forward call (kept in buffers, outside the graph: the gradient treats them as constants). Then, for a loss L with
G = dL/dW_SN,

    dL/dW = (G - <G, W_SN> u v^T) / sigma,                                           Eq. (ch4-sn-grad)

since d sigma / dW = u v^T. PyTorch's ``nn.utils.parametrizations.spectral_norm`` computes the same quantity by
autograd through ``mv``, ``vdot`` and the division; :class:`SpectralNorm` keeps its power iteration, buffers and
state-dict layout (it subclasses it) and replaces only the backward pass by Eq. (ch4-sn-grad): the forward values
are the same to the bit, the gradients agree to float rounding (tests/test_spectral_norm.py), and a step of the
book's recipe costs about what it costs with torch's (median 0.975, quartiles 0.93-1.02, on the 2-core CPU it was
timed on: ``benchmarks/spectral_norm_cost.py``; 0.90 before the trainer kept freed memory, ``gan_lib.runtime``).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import _SpectralNorm


def _outer_like(weight: torch.Tensor, u: torch.Tensor, v: torch.Tensor, dim: int) -> torch.Tensor:
    """u v^T, laid out as ``weight`` (whose matrix view puts axis ``dim`` first): d sigma / d weight."""
    if dim == 0:
        return torch.outer(u, v).view_as(weight)
    order = [dim, *(d for d in range(weight.ndim) if d != dim)]
    shape = [weight.shape[d] for d in order]
    return torch.outer(u, v).view(shape).permute(*(order.index(d) for d in range(weight.ndim)))


class _DivideBySigma(torch.autograd.Function):
    """W -> W / (u^T W v), Eq. (ch4-sn), with the backward pass of Eq. (ch4-sn-grad)."""

    @staticmethod
    def forward(ctx, weight: torch.Tensor, weight_mat: torch.Tensor, u: torch.Tensor, v: torch.Tensor,
                dim: int) -> torch.Tensor:
        sigma = torch.vdot(u, torch.mv(weight_mat, v))   # the same operations as torch's, so the same bits
        out = weight / sigma
        ctx.save_for_backward(out, sigma, u, v)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        out, sigma, u, v = ctx.saved_tensors
        inner = torch.vdot(grad.reshape(-1), out.reshape(-1))          # <G, W_SN>
        grad_weight = (grad - inner * _outer_like(grad, u, v, ctx.dim)) / sigma
        return grad_weight, None, None, None, None


class SpectralNorm(_SpectralNorm):
    """torch's spectral-norm parametrization (power iteration, buffers ``_u`` and ``_v``), with Eq. (ch4-sn-grad)
    as its backward pass."""

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if weight.ndim == 1:   # a vector: torch normalises it to unit length, nothing to hand-write
            return super().forward(weight)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone(memory_format=torch.contiguous_format)   # as torch does: the buffers change in place
        v = self._v.clone(memory_format=torch.contiguous_format)
        return _DivideBySigma.apply(weight, weight_mat.detach(), u, v, self.dim)


def spectral_norm(layer: nn.Module, name: str = "weight") -> nn.Module:
    """Spectrally normalise ``layer.<name>`` in place, as ``nn.utils.parametrizations.spectral_norm`` does (the same
    default axis: 1 for transposed convolutions, else 0), with the hand-written backward pass."""
    weight = getattr(layer, name, None)
    if not isinstance(weight, torch.Tensor):
        raise ValueError(f"{type(layer).__name__} has no tensor {name!r} to normalise; pass a Linear or Conv layer.")
    transposed = isinstance(layer, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))
    parametrize.register_parametrization(layer, name, SpectralNorm(weight, dim=1 if transposed else 0))
    return layer
