"""gan_lib.latent: the straight and the spherical path between two codes."""
import pytest
import torch

from gan_lib.latent import interpolate_latents


def test_interpolate_latents():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(100, generator=g), torch.randn(100, generator=g)
    line = interpolate_latents(z0, z1, 5)
    assert torch.allclose(line[0], z0) and torch.allclose(line[-1], z1) and torch.allclose(line[2], (z0 + z1) / 2)
    z1 = z1 * z0.norm() / z1.norm()
    arc = interpolate_latents(z0, z1, 7, spherical=True)
    assert torch.allclose(arc[0], z0, atol=1e-5) and torch.allclose(arc[-1], z1, atol=1e-5)
    assert torch.allclose(arc.norm(dim=1), z0.norm().expand(7), rtol=1e-5)  # slerp keeps the norm
    assert torch.allclose(interpolate_latents(z0, z0, 3, spherical=True), z0.expand(3, -1))
    with pytest.raises(ValueError, match="num_points"):
        interpolate_latents(z0, z1, 1)
