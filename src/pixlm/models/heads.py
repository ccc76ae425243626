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


class Biaffine(nn.Module):
    """Biaffine scores (Dozat & Manning 2017): s[b, i, j, r] = [x_i; 1]^T W_r [y_j; 1].

    With n_out == 1 the last dimension is dropped. Weights start at zero, as in supar.
    """

    def __init__(self, n_in: int, n_out: int = 1, bias_x: bool = True, bias_y: bool = True):
        super().__init__()
        self.n_out, self.bias_x, self.bias_y = n_out, bias_x, bias_y
        self.weight = nn.Parameter(torch.zeros(n_out, n_in + bias_x, n_in + bias_y))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.bias_x:
            x = torch.cat([x, torch.ones_like(x[..., :1])], -1)
        if self.bias_y:
            y = torch.cat([y, torch.ones_like(y[..., :1])], -1)
        s = torch.einsum("bxi,oij,byj->bxyo", x, self.weight, y)
        return s.squeeze(-1) if self.n_out == 1 else s


def span_means(states: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
    """Mean of states[:, start:end] for each (start, end) span (B, W, 2); padded spans (-1) give 0."""
    cumsum = torch.cat([torch.zeros_like(states[:, :1]), states.cumsum(1)], 1)
    start, end = spans[..., 0].clamp(min=0), spans[..., 1].clamp(min=0)
    index = lambda i: i.unsqueeze(-1).expand(-1, -1, states.shape[-1])  # noqa: E731
    sums = torch.gather(cumsum, 1, index(end)) - torch.gather(cumsum, 1, index(start))
    counts = (end - start).clamp(min=1).unsqueeze(-1).to(states.dtype)
    return sums / counts


def sequence_classification_loss(logits: torch.Tensor, labels: torch.Tensor, num_labels: int) -> torch.Tensor:
    """Cross-entropy over classes, or mean squared error when `num_labels == 1` (regression)."""
    if num_labels == 1:
        return nn.functional.mse_loss(logits.squeeze(-1), labels.to(logits.dtype))
    return nn.functional.cross_entropy(logits, labels)
