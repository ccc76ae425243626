"""Heads shared by the model families: pooling a sequence of patch states into one vector."""

from __future__ import annotations

import torch
from torch import nn

POOLING_MODES = ("mean", "max", "cls", "pma")


class Pooler(nn.Module):
    """One vector per example from the states of its text patches.

    `mean` (default) and `max` over the patches that hold text (attention_mask 1, CLS left out);
    `cls` takes the CLS state; `pma` is attention pooling (Lee et al. 2019, PMA with one learned
    seed) with `num_heads` heads.
    """

    def __init__(self, hidden_size: int, mode: str = "mean", num_heads: int = 1):
        super().__init__()
        if mode not in POOLING_MODES:
            raise ValueError(f"pooling must be one of {', '.join(POOLING_MODES)}; got {mode!r}")
        self.mode = mode
        if mode == "pma":
            if hidden_size % num_heads:
                raise ValueError(f"pma heads ({num_heads}) must divide the hidden size ({hidden_size})")
            self.seed = nn.Parameter(torch.randn(1, 1, hidden_size) * 0.02)
            self.attention = nn.MultiheadAttention(hidden_size, num_heads, batch_first=True)
            self.norm = nn.LayerNorm(hidden_size)

    def forward(self, states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """states (B, 1 + L, D) with CLS first; attention_mask (B, L) over the patches."""
        if self.mode == "cls":
            return states[:, 0]
        patches = states[:, 1:]
        mask = attention_mask.to(patches.dtype).unsqueeze(-1)
        if self.mode == "mean":
            return (patches * mask).sum(1) / mask.sum(1).clamp_min(1.0)
        if self.mode == "max":
            return patches.masked_fill(mask == 0, torch.finfo(patches.dtype).min).max(1).values
        seed = self.seed.expand(patches.shape[0], -1, -1)
        pooled, _ = self.attention(seed, patches, patches, key_padding_mask=attention_mask == 0)
        return self.norm(pooled[:, 0])
