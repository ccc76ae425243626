"""Patch layout shared by the model families: strips to patch sequences and back."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# What a pixel head can learn for a patch: per-patch normalised pixels (MAE, PIXEL, PixelGPT),
# raw pixels in [0, 1], or ink-or-not per pixel (PIXAR).
PIXEL_TARGETS = ("normalized", "raw", "binary")
INK_BELOW = 0.5  # a pixel darker than this is ink (white is 1)


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


def per_patch_pixel_loss(predictions: torch.Tensor, patches: torch.Tensor, target: str) -> torch.Tensor:
    """(B, L): each patch's loss of the head's `predictions` (B, L, p*p*C) against the true
    `patches` (B, L, p*p*C, in [0, 1]) as `target` (one of PIXEL_TARGETS) defines it: mean
    squared error against normalised or raw pixels, or binary cross-entropy against ink."""
    if target == "binary":
        ink = (patches < INK_BELOW).to(predictions.dtype)
        return F.binary_cross_entropy_with_logits(predictions, ink, reduction="none").mean(dim=-1)
    if target == "normalized":
        mean, std = patch_stats(patches)
        patches = (patches - mean) / std
    elif target != "raw":
        raise ValueError(f"pixel target must be one of {PIXEL_TARGETS}, got {target!r}")
    return ((predictions - patches) ** 2).mean(dim=-1)


def check_pixel_values(pixel_values: torch.Tensor, num_channels: int, patch_size: int) -> None:
    """Refuse what a pixel model cannot read as a strip: (B, C, p, L*p) floats in [0, 1]
    (white 1), as `pixlm.data.PixelProcessor` makes them from text."""
    how = "render text into model inputs with pixlm.data.PixelProcessor (processor(texts, return_tensors='pt'))"
    if not isinstance(pixel_values, torch.Tensor):
        raise TypeError(f"pixel_values must be a torch.Tensor, got {type(pixel_values).__name__}; {how}")
    if pixel_values.ndim != 4 or pixel_values.shape[1] != num_channels or pixel_values.shape[2] != patch_size \
            or pixel_values.shape[3] % patch_size:
        raise ValueError(f"pixel_values must be (batch, {num_channels} channels, {patch_size}, patches x {patch_size}); "
                         f"got shape {tuple(pixel_values.shape)}; {how}")
    if not pixel_values.is_floating_point():
        raise ValueError(f"pixel_values must be floats in [0, 1], got dtype {pixel_values.dtype} (a uint8 strip "
                         f"is divided by 255); {how}")
    if pixel_values.numel() and not torch.jit.is_tracing():
        if not torch.isfinite(pixel_values).all():
            raise ValueError(f"pixel_values hold NaN or infinite values; {how}")
        low, high = torch.aminmax(pixel_values.detach())
        if high > 1.0 + 1e-3 or low < -1e-3:
            raise ValueError(f"pixel_values must be in [0, 1] (white 1, black 0); got values from {low.item():g} to "
                             f"{high.item():g}: 0-255 pixels are divided by 255; {how}")
