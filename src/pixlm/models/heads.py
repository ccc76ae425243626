"""Heads shared by the model families: PIXEL's sequence pooling, the biaffine scorer, losses.

Module and parameter names are those of PIXEL's `pooling.py` and `biaffine.py` (`pooler.linear`,
`pooler.ln`, `pooler.pooling.pooler.S`, ...), so finetuned PIXEL checkpoints load into them.
"""

from __future__ import annotations

import math

import torch
from torch import nn

POOLING_MODES = ("mean", "max", "cls", "pma")


class PMA(nn.Module):
    """Pooling by multi-head attention with one learned seed (Lee et al. 2019), as PIXEL has it:
    the keys are masked by zeroing padded positions, not by excluding them from the softmax."""

    def __init__(self, hidden_size: int, num_heads: int):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"pma heads ({num_heads}) must divide the hidden size ({hidden_size})")
        self.S = nn.Parameter(torch.empty(1, 1, hidden_size))
        nn.init.xavier_uniform_(self.S)
        self.mab = _MAB(hidden_size, num_heads)

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.mab(self.S.repeat(states.shape[0], 1, 1), states, mask)


class _MAB(nn.Module):
    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.dim, self.num_heads = dim, num_heads
        self.fc_q, self.fc_k, self.fc_v, self.fc_o = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        q = self.fc_q(q)
        k, v = self.fc_k(k), self.fc_v(k)
        k = k * mask
        split = self.dim // self.num_heads
        q_, k_, v_ = (torch.cat(t.split(split, 2), 0) for t in (q, k, v))
        attention = torch.softmax(q_.bmm(k_.transpose(1, 2)) / math.sqrt(self.dim), 2)
        out = torch.cat((q_ + attention.bmm(v_)).split(q.shape[0], 0), 2)
        return out + torch.relu(self.fc_o(out))


class _Pooling(nn.Module):
    """Mean, max or PMA over the positions the attention mask keeps (PIXEL's `Pooling`)."""

    def __init__(self, hidden_size: int, mode: str, pma_heads: int):
        super().__init__()
        self.mode = mode
        if mode == "pma":
            self.pooler = PMA(hidden_size, pma_heads)

    def forward(self, states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).expand(states.shape).to(states.dtype)
        if self.mode == "max":
            return states.masked_fill(mask == 0, -1e9).max(1).values
        if self.mode == "pma":
            return self.pooler(states, mask).squeeze(1)
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class SequencePoolingHead(nn.Module):
    """PIXEL's `PoolingForSequenceClassificationHead`: patch states through a linear layer and
    GELU (not for PMA), a LayerNorm (`add_layer_norm`), dropout, then pooled over the text
    patches and the end patch. With `cls`, the input is already one vector (the encoder's
    tanh pooler on CLS) and passes through unchanged."""

    def __init__(self, hidden_size: int, mode: str = "mean", add_layer_norm: bool = True, dropout: float = 0.0,
                 pma_heads: int = 1):
        super().__init__()
        if mode not in POOLING_MODES:
            raise ValueError(f"pooling must be one of {', '.join(POOLING_MODES)}; got {mode!r}")
        self.mode, self.add_layer_norm = mode, add_layer_norm
        self.linear = nn.Linear(hidden_size, hidden_size)
        self.activation = nn.GELU()
        self.ln = nn.LayerNorm(hidden_size, eps=1e-12)
        self.dropout = nn.Dropout(dropout)
        if mode != "cls":
            self.pooling = _Pooling(hidden_size, mode, pma_heads)

    def forward(self, states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.mode == "cls":
            return states
        if self.mode != "pma":
            states = self.activation(self.linear(states))
        if self.add_layer_norm:
            states = self.ln(states)
        return self.pooling(self.dropout(states), attention_mask)


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


def word_means(states: torch.Tensor, word_starts: torch.Tensor, pad: int = -100) -> tuple[torch.Tensor, torch.Tensor]:
    """Each word's mean patch state, as PIXEL's parser merges patches into words.

    `word_starts` (B, K) holds each word's first patch and, last, the patch after the last word,
    padded with `pad`; word j covers patches [start_j, start_{j+1}) (a word of no patches takes
    the one at its start), and the words end at the first start <= 0 after the first. Returns
    (B, L, D) word vectors, zero past the last word (L = the states' length), and the number of
    words of each example.
    """
    b, length, _ = states.shape
    weights = states.new_zeros(b, length, length)
    counts = []
    for i in range(b):
        spans = _word_spans(word_starts[i], length, pad)
        for j, (s, e) in enumerate(spans):
            weights[i, j, s:e] = 1.0 / (e - s)
        counts.append(len(spans))
    return weights.bmm(states), torch.tensor(counts, device=states.device)


def _word_spans(word_starts: torch.Tensor, length: int, pad: int) -> list[tuple[int, int]]:
    """The [start, end) patches of each word of one example's `word_starts` (as `word_means`
    reads them: a word of no patches takes the one at its start; the words end at the first
    start <= 0 after the first, PIXEL's zero padding), at most `length` words."""
    starts = word_starts[word_starts != pad].tolist()
    spans = []
    for j in range(min(len(starts) - 1, length)):
        if starts[j + 1] <= 0:
            break
        s, e = starts[j], starts[j + 1]
        spans.append((s, max(e, s + 1)))
    return spans


def spread_word_means(states: torch.Tensor, word_starts: torch.Tensor, pad: int = -100) -> torch.Tensor:
    """`states` (B, L, D) with every patch of a word holding the mean of that word's patches
    (patches outside the words unchanged): a tagger that reads a word's first patch then sees
    the whole word. `word_starts` as in `word_means`: each word's first patch, then the patch
    after the last word, padded with `pad`."""
    b, length, dim = states.shape
    word_of_patch = torch.full((b, length), -1, dtype=torch.long, device=states.device)
    for i in range(b):
        for j, (start, end) in enumerate(_word_spans(word_starts[i], length, pad)):
            word_of_patch[i, start:end] = j
    slot = (word_of_patch + 1).unsqueeze(-1)  # slot 0 gathers the patches outside words
    sums = states.new_zeros(b, length + 1, dim).scatter_add(1, slot.expand(-1, -1, dim), states)
    counts = states.new_zeros(b, length + 1, 1).scatter_add(1, slot, states.new_ones(b, length, 1))
    means = (sums / counts.clamp(min=1)).gather(1, slot.expand(-1, -1, dim))
    return torch.where(word_of_patch.unsqueeze(-1) >= 0, means, states)


def check_labels(labels: torch.Tensor, num_labels: int, name: str = "labels") -> None:
    """Refuse class ids outside [0, num_labels) (-100, ignored, aside) before the loss would
    fail with an index error from deep inside torch."""
    if labels.dtype.is_floating_point:
        raise ValueError(f"{name} must be integer class ids for a model with {num_labels} labels, got {labels.dtype}")
    outside = (labels != -100) & ((labels < 0) | (labels >= num_labels))
    if outside.any():  # one check per step (a GPU synchronises once); the culprit is found only on error
        bad = int(labels[outside][0])
        raise ValueError(f"{name} must be class ids in [0, {num_labels}) or -100 (ignored), got {bad}: the model was "
                         f"made with {num_labels} labels (num_labels / id2label in its config)")


def sequence_classification_loss(logits: torch.Tensor, labels: torch.Tensor, num_labels: int) -> torch.Tensor:
    """Cross-entropy over classes, or mean squared error when `num_labels == 1` (regression)."""
    if num_labels == 1:
        return nn.functional.mse_loss(logits.squeeze(-1), labels.to(logits.dtype))
    check_labels(labels, num_labels)
    return nn.functional.cross_entropy(logits, labels)
