"""Batches for PixelGPT, MonoGPT and DualGPT: one kind per batch, drawn from a mixture.

A `pixels` batch is rendered text (next-patch prediction), a `text` batch is tokens (next-token
prediction), a `paired` batch is a rendered text followed by its own tokens (both). The
variants of Chai et al. 2024 are mixtures of these kinds: see `MIXTURES`.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import torch

from ..render import TextRenderer
from .processor import PixelProcessor

KINDS = ("pixels", "text", "paired")
MIXTURES = {
    "pixelgpt": {"pixels": 1.0},
    "monogpt": {"pixels": 0.5, "text": 0.5},
    "dualgpt": {"pixels": 0.5, "text": 0.25, "paired": 0.25},
}


def parse_mixture(spec: str | dict) -> dict[str, float]:
    """`"pixels=0.5,text=0.25,paired=0.25"`, a variant name (pixelgpt, monogpt, dualgpt) or a
    dict -> {kind: share}; shares must be non-negative and sum to 1."""
    if isinstance(spec, str):
        if spec.lower() in MIXTURES:
            return dict(MIXTURES[spec.lower()])
        mixture = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, sep, value = part.partition("=")
            try:
                mixture[name.strip()] = float(value) if sep else math.nan
            except ValueError:
                mixture[name.strip()] = math.nan
            if math.isnan(mixture[name.strip()]):
                raise ValueError(f"mixture part {part!r} is not KIND=SHARE (for instance pixels=0.5)")
    elif isinstance(spec, dict):
        mixture = {str(k): float(v) for k, v in spec.items()}
    else:
        raise TypeError(f"mixture must be a string or a dict, got {type(spec).__name__}")
    unknown = sorted(set(mixture) - set(KINDS))
    if unknown or not mixture:
        raise ValueError(f"mixture kinds must be among {', '.join(KINDS)} or a variant ({', '.join(MIXTURES)}); got {spec!r}")
    if any(v < 0 for v in mixture.values()):
        raise ValueError(f"mixture shares must be non-negative; got {mixture}")
    total = sum(mixture.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"mixture shares must sum to 1; {mixture} sums to {total:g}")
    return {k: v for k, v in mixture.items() if v > 0}


class PixelGPTCollator:
    """{text} examples -> one batch of the kind the mixture draws for it.

    The draw follows from the seed and the batch's texts, so a resumed run sees the same kinds.
    Pixels: `pixel_values` (B, C, p, L*p) and `patch_attention_mask` (B, L), cut to the
    longest rendering. Text: `input_ids` and `attention_mask`, `<s>` text `</s>` (the text
    after the end patch in paired batches: text `</s>`), cut to `max_tokens`.
    """

    def __init__(self, renderer: TextRenderer | None, tokenizer=None, num_channels: int = 3,
                 mixture: str | dict = "pixelgpt", max_tokens: int = 256, seed: int = 0):
        self.mixture = parse_mixture(mixture)
        if tokenizer is None and set(self.mixture) & {"text", "paired"}:
            raise ValueError(f"mixture {self.mixture} has text or paired batches but no tokenizer was given")
        if renderer is None and set(self.mixture) & {"pixels", "paired"}:
            raise ValueError(f"mixture {self.mixture} has pixel or paired batches but no renderer was given")
        self.renderer, self.tokenizer = renderer, tokenizer
        self.num_channels, self.max_tokens, self.seed = num_channels, max_tokens, seed
        self.kinds = list(self.mixture)
        self.shares = np.array([self.mixture[k] for k in self.kinds])

    def kind_for(self, texts: list[str]) -> str:
        if len(self.kinds) == 1:
            return self.kinds[0]
        rng = np.random.default_rng([self.seed, zlib.crc32(repr(texts).encode())])
        return self.kinds[rng.choice(len(self.kinds), p=self.shares)]

    def pixels(self, texts: list[str]) -> dict[str, torch.Tensor]:
        batch = PixelProcessor(self.renderer, self.num_channels).batch([self.renderer(t) for t in texts])
        return {"pixel_values": batch["pixel_values"], "patch_attention_mask": batch["attention_mask"]}

    def tokens(self, texts: list[str], with_bos: bool) -> dict[str, torch.Tensor]:
        tok = self.tokenizer
        ids = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
        empty = [i for i, x in enumerate(ids) if not x]
        if empty and not with_bos:
            raise ValueError(f"a paired batch needs tokens for every text; texts {empty} have none: {[texts[i] for i in empty]!r}")
        start = [tok.bos_token_id] if with_bos and tok.bos_token_id is not None else []
        seqs = [(start + x)[: self.max_tokens - 1] + [tok.eos_token_id] for x in ids]
        length = max(len(s) for s in seqs)
        input_ids = torch.full((len(seqs), length), tok.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros(len(seqs), length, dtype=torch.long)
        for i, s in enumerate(seqs):
            input_ids[i, : len(s)] = torch.tensor(s)
            attention_mask[i, : len(s)] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        if not examples:
            raise ValueError("cannot collate an empty batch")
        texts = [e["text"] for e in examples]
        kind = self.kind_for(texts)
        if kind == "pixels":
            return self.pixels(texts)
        if kind == "text":
            return self.tokens(texts, with_bos=True)
        return {**self.pixels(texts), **self.tokens(texts, with_bos=False)}
