"""Patch layout shared by the model families: strips to patch sequences and back."""

from __future__ import annotations

import torch


def patchify(pixel_values: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, C, p, L*p) strip -> (B, L, p*p*C), each patch laid out (row, column, channel)."""
    b, c, h, w = pixel_values.shape
    if h != patch_size or w % patch_size:
        raise ValueError(f"pixel_values must be (batch, channels, {patch_size}, L*{patch_size}); got {tuple(pixel_values.shape)}")
    x = pixel_values.reshape(b, c, patch_size, w // patch_size, patch_size)
    return x.permute(0, 3, 2, 4, 1).reshape(b, w // patch_size, patch_size * patch_size * c)


def unpatchify(patches: torch.Tensor, patch_size: int, num_channels: int) -> torch.Tensor:
    """Inverse of `patchify`: (B, L, p*p*C) -> (B, C, p, L*p)."""
    b, n, _ = patches.shape
    x = patches.reshape(b, n, patch_size, patch_size, num_channels)
    return x.permute(0, 4, 2, 1, 3).reshape(b, num_channels, patch_size, n * patch_size)


def patch_stats(patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each patch's mean and standard deviation (MAE's per-patch pixel normalisation)."""
    return patches.mean(dim=-1, keepdim=True), (patches.var(dim=-1, keepdim=True) + 1.0e-6) ** 0.5
