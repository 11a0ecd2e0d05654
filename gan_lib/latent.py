"""Walks in the generator's latent space (chapter 7): the straight line and the great circle between two codes."""
from __future__ import annotations

import torch


def interpolate_latents(z0: torch.Tensor, z1: torch.Tensor, num_points: int,
                        spherical: bool = False) -> torch.Tensor:
    """``num_points`` codes from z0 to z1: Eq. (ch7-lerp), linear, or Eq. (ch7-slerp), spherical (slerp)."""
    if num_points < 2:
        raise ValueError(f"num_points must be at least 2 (the two ends), got {num_points}.")
    t = torch.linspace(0, 1, num_points, dtype=z0.dtype, device=z0.device)[:, None]
    if not spherical:
        return (1 - t) * z0 + t * z1
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm())
    omega = torch.arccos(cos.clamp(-1, 1))
    if omega.abs() < 1e-6:  # (nearly) parallel codes: slerp and lerp coincide
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
