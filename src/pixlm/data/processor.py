"""`PixelProcessor`: text in, pixel-model inputs out, as a transformers processor is for a
tokenizer model.

    processor = PixelProcessor.from_pretrained("runs/pixel")         # the renderer saved with the model
    batch = processor(["A text.", "Another one."], return_tensors="pt")
    outputs = model(**batch)                                          # pixel_values, attention_mask

Texts, pairs (`text_pair`) and word lists (`is_split_into_words=True`) are rendered with the
processor's `TextRenderer` and batched: `pixel_values` (B, C, p, L*p) floats in [0, 1] (white
1), the strips cut to the longest text plus its end patch (`padding="max_length"` keeps the
whole canvas), grayscale repeated to the model's channels; `attention_mask` (B, L) over each
text's patches and its end patch. With `span_mask=True` it adds PIXEL's span mask for
pretraining (`patch_mask`). Every collator of pixlm builds its batches through `batch`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import torch
from transformers import BatchFeature

from ..render import RenderedText, RendererConfig, TextRenderer
from .masking import PIXEL_SPAN_WEIGHTS, SpanMaskingGenerator

PROCESSOR_CONFIG = "preprocessor_config.json"


class PixelProcessor:
    """Renders texts, pairs or word lists and batches them as a pixel model takes them."""

    def __init__(self, renderer: TextRenderer | RendererConfig | None = None, num_channels: int = 3,
                 mask_ratio: float = 0.25):
        if renderer is None:
            renderer = TextRenderer()
        elif isinstance(renderer, RendererConfig):
            renderer = TextRenderer(renderer)
        if not isinstance(renderer, TextRenderer):
            raise TypeError(f"renderer must be a TextRenderer or a RendererConfig, got {type(renderer).__name__}")
        if num_channels not in (1, 3):
            raise ValueError(f"num_channels must be 1 (grayscale) or 3 (RGB), got {num_channels!r}")
        if not 0 < mask_ratio < 1:
            raise ValueError(f"mask_ratio must be in (0, 1), got {mask_ratio!r}")
        if renderer.config.rgb and num_channels != 3:
            raise ValueError("the renderer draws in RGB (3 channels) but num_channels is 1")
        self.renderer = renderer
        self.num_channels = num_channels
        self.mask_ratio = mask_ratio

    # -- text to tensors --------------------------------------------------------------------
    def __call__(self, text, text_pair=None, *, is_split_into_words: bool = False, layout: str | None = None,
                 padding: str = "longest", span_mask: bool = False, seed: int | None = None,
                 return_tensors: str = "pt") -> dict[str, torch.Tensor]:
        """Render and batch: `text` is a str, a list of str (a batch), or with
        `is_split_into_words` a list of words (one text) or a list of such lists; `text_pair`
        the second texts of pairs, shaped as `text`."""
        if return_tensors != "pt":
            raise ValueError(f"return_tensors must be 'pt' (PyTorch tensors), got {return_tensors!r}")
        if padding not in ("longest", "max_length"):
            raise ValueError(f"padding must be 'longest' or 'max_length', got {padding!r}")
        texts = _as_batch(text, is_split_into_words, "text")
        pairs = None if text_pair is None else _as_batch(text_pair, is_split_into_words, "text_pair")
        if pairs is not None and len(pairs) != len(texts):
            raise ValueError(f"text_pair holds {len(pairs)} texts but text holds {len(texts)}")
        options = {} if layout is None else {"layout": layout}
        rendered = [self.renderer(t, None if pairs is None else pairs[k], **options) for k, t in enumerate(texts)]
        length = self.renderer.config.max_patches if padding == "max_length" else None
        batch = self.batch(rendered, length)
        if is_split_into_words and pairs is None:  # what a tagger that averages each word's patches reads
            batch["word_starts"] = word_starts_batch(rendered)
        if span_mask:
            batch["patch_mask"] = self.span_masks([r.num_patches for r in rendered], batch["attention_mask"].shape[1], seed)
        return _batch_feature(batch)

    def batch(self, rendered: list[RenderedText | tuple[np.ndarray, int]], length: int | None = None) -> dict[str, torch.Tensor]:
        """Rendered texts (or (uint8 strip, patches) pairs) as `pixel_values` and
        `attention_mask`, `length` patches long (default: the longest)."""
        strips = [(r.pixel_values, r.num_patches) if isinstance(r, RenderedText) else r for r in rendered]
        if not strips:
            raise ValueError("cannot batch an empty list of texts")
        if length is None:
            length = max(n for _, n in strips)
        pixel_values, attention_mask = strips_to_batch([s for s, _ in strips], [n for _, n in strips],
                                                       self.renderer.config.patch_size, self.num_channels, length)
        return {"pixel_values": pixel_values, "attention_mask": attention_mask}

    def span_masks(self, num_patches: list[int], length: int, seed: int | np.random.Generator | None = None,
                   max_span_length: int = 6, span_weights=None) -> torch.Tensor:
        """PIXEL's span masks over `length` patches, one per text of `num_patches` patches (its
        end patch included, never masked)."""
        masker = SpanMaskingGenerator(self.mask_ratio, max_span_length, span_weights or PIXEL_SPAN_WEIGHTS, seed=seed)
        return torch.from_numpy(np.stack([masker(length, max(n - 1, 1)) for n in num_patches])).float()

    # -- saving -----------------------------------------------------------------------------
    def save_pretrained(self, directory: str | os.PathLike) -> list[str]:
        """Write the renderer's `text_renderer_config.json` (with its fonts) and
        `preprocessor_config.json` into `directory`, beside a model."""
        directory = os.fspath(directory)
        os.makedirs(directory, exist_ok=True)
        written = [self.renderer.save_pretrained(directory)]
        path = os.path.join(directory, PROCESSOR_CONFIG)
        data = {"processor_class": type(self).__name__, "num_channels": self.num_channels, "mask_ratio": self.mask_ratio}
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        os.replace(path + ".tmp", path)
        return written + [path]

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, **overrides: Any) -> "PixelProcessor":
        """The processor saved with a model: its renderer, and the channels the model takes
        (`preprocessor_config.json`, else the model's `config.json`). A model folder
        without a renderer config (a released PixelGPT) renders as PIXEL's published
        renderer, with a warning."""
        path = os.fspath(path)
        renderer_overrides = {k: overrides.pop(k) for k in list(overrides) if k in RendererConfig.__dataclass_fields__}
        options: dict[str, Any] = {}
        if os.path.isdir(path):
            for name, keys in ((PROCESSOR_CONFIG, ("num_channels", "mask_ratio")), ("config.json", ("num_channels",))):
                file = os.path.join(path, name)
                if os.path.isfile(file) and not options:
                    with open(file, encoding="utf-8") as f:
                        saved = json.load(f)
                    options = {k: saved[k] for k in keys if k in saved}
        options.update(overrides)
        return cls(TextRenderer(RendererConfig.for_model(path, **renderer_overrides)), **options)

    def __repr__(self) -> str:
        cfg = self.renderer.config
        return (f"PixelProcessor(layout={cfg.layout!r}, backend={cfg.backend!r}, patch_size={cfg.patch_size}, "
                f"max_patches={cfg.max_patches}, num_channels={self.num_channels})")


def strips_to_batch(strips: list[np.ndarray], num_patches: list[int], patch_size: int, num_channels: int, length: int):
    """uint8 strips (p, W[, 3]) -> float pixel_values (B, C, p, length*p) in [0, 1], and the
    attention mask (B, length): 1 on each strip's first num_patches patches."""
    b = len(strips)
    width = length * patch_size
    out = torch.ones(b, num_channels, patch_size, width)
    mask = torch.zeros(b, length)
    for i, (strip, n) in enumerate(zip(strips, num_patches)):
        w = min(strip.shape[1], width)
        x = torch.from_numpy(np.array(strip[:, :w], dtype=np.uint8)).float().div_(255)  # a copy: strips may be read-only
        x = x.permute(2, 0, 1) if x.ndim == 3 else x.unsqueeze(0)
        out[i, :, :, :w] = x.expand(num_channels, -1, -1) if x.shape[0] == 1 else x
        mask[i, : min(n, length)] = 1
    return out, mask


def _as_batch(value, words: bool, argument: str) -> list:
    """A list of texts (str, or word lists with `words`) from what a caller gave."""
    if isinstance(value, str):
        if words:
            raise TypeError(f"{argument} is a str but is_split_into_words=True expects a list of words")
        return [value]
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{argument} is empty: give at least one text")
        if words and all(isinstance(w, str) for w in value):
            return [list(value)]  # one word list
        if words:
            return [list(v) for v in value]
        for k, v in enumerate(value):
            if not isinstance(v, str):
                raise TypeError(f"{argument}[{k}] must be a str, got {type(v).__name__} (for word lists pass "
                                "is_split_into_words=True)")
        return list(value)
    raise TypeError(f"{argument} must be a str or a list of str, got {type(value).__name__}")


def _batch_feature(batch: dict[str, torch.Tensor]):
    """transformers' BatchFeature (a dict with `.to(device)`)."""
    return BatchFeature(batch)


def word_starts_batch(rendered: list[RenderedText]) -> torch.Tensor:
    """PIXEL's `word_starts` (B, K) of rendered word lists: each drawn word's first patch, then
    the patch after the last word, padded with -100."""
    starts = [r.word_starts.tolist() + [r.num_text_patches] for r in rendered]
    out = torch.full((len(starts), max(map(len, starts))), -100, dtype=torch.long)
    for i, s in enumerate(starts):
        out[i, : len(s)] = torch.tensor(s)
    return out
