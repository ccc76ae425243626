"""Collators: rendered texts to padded tensor batches."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import torch

from ..render import RenderedText, RendererConfig, TextRenderer
from ..render.layouts import word_aligned_layouts
from .masking import PIXEL_SPAN_WEIGHTS, SpanMaskingGenerator
from .processor import PixelProcessor, word_starts_batch


def check_renderer_fits(renderer: RendererConfig, patch_size: int, num_channels: int, max_patches: int) -> None:
    """Raise ValueError naming both values when a renderer cannot feed a model."""
    if renderer.patch_size != patch_size:
        raise ValueError(f"renderer patch_size is {renderer.patch_size} but the model's patch_size is {patch_size}")
    if renderer.rgb and num_channels != 3:
        raise ValueError(f"renderer draws 3 channels (rgb=True) but the model takes num_channels={num_channels}")
    if renderer.max_patches > max_patches:
        raise ValueError(
            f"renderer max_patches is {renderer.max_patches} but the model takes at most {max_patches} patches"
        )


def character_classes(text: str, char_spans: np.ndarray, slots: int, vocab_size: int) -> np.ndarray:
    """Labels for a character head: (patches, slots) int64, the classes of the first `slots`
    characters drawn in each patch (`char_spans`, the renderer's [start, end) per patch), 0
    after its last one, and -100 on patches that hold no character (blank, end, padding).
    Whitespace, which draws nothing, is skipped. A character's class is 1 + its code point
    modulo vocab_size - 1, so that any script fits a fixed head: code points below vocab_size - 1
    (with the default 1,280: Latin, Greek, Cyrillic) have classes of their own, others share."""
    labels = np.full((len(char_spans), slots), -100, dtype=np.int64)
    for patch, (start, end) in enumerate(char_spans):
        if start < 0:
            continue
        drawn = [c for c in text[start:end] if not c.isspace()][:slots]
        labels[patch] = 0
        labels[patch, : len(drawn)] = [1 + ord(c) % (vocab_size - 1) for c in drawn]
    return labels


class PixelPretrainingCollator:
    """Examples -> a PIXEL pretraining batch.

    An example is a dict with `text` (rendered here, so rendering runs in DataLoader workers) or
    a pre-rendered `pixel_values` (an image or uint8 array, as `pixlm render --output x.arrow`
    writes) with `num_patches`. The batch is cut to its longest text plus end patch (dynamic
    length), grayscale strips are repeated to the model's channels, and with span masking each
    example gets PIXEL's span mask over the batch length.

    An example's mask, and the noise with which the model tops it up to the mask ratio, follow
    from the seed, the epoch (`set_epoch`, which `PixlmTrainer` calls at each epoch's start) and
    the example itself, never from the rest of its batch: a resumed run masks every example as
    the uninterrupted run did, and under torchrun with batch b per process every example is
    masked as in one process with batch 2b (given batches of the same length).

    With `character_slots` > 0 (for a model with a character head), texts are rendered with
    their character spans and the batch also holds `character_labels` (B, L, character_slots):
    the classes (`character_classes`) of the first characters drawn in each patch, -100 where a
    patch holds no text.

    Returns `pixel_values` (B, C, p, L*p), `attention_mask` (B, L), and with span masking
    `patch_mask` and `noise` (B, L).
    """

    def __init__(
        self,
        renderer: TextRenderer | None,
        num_channels: int = 3,
        mask_ratio: float = 0.25,
        span_masking: bool = True,
        max_span_length: int = 6,
        span_weights=PIXEL_SPAN_WEIGHTS,
        dynamic_length: bool = True,
        seed: int | None = None,
        character_slots: int = 0,
        character_vocab_size: int = 1280,
    ):
        self.renderer = renderer
        self.processor = PixelProcessor(renderer or TextRenderer(), num_channels, mask_ratio)
        self.patch_size = renderer.config.patch_size if renderer else 16
        self.max_patches = renderer.config.max_patches if renderer else None
        self.num_channels = num_channels
        self.dynamic_length = dynamic_length
        self.mask_ratio = mask_ratio
        self.span_masking = span_masking
        self.span_args = (max_span_length, span_weights)
        self.seed = seed
        self.epoch = 0
        self.character_slots, self.character_vocab_size = character_slots, character_vocab_size

    def set_epoch(self, epoch: int) -> None:
        """Draw the masks of epoch `epoch` (the same example is masked anew in each epoch)."""
        self.epoch = int(epoch)

    def _generator(self, example: dict[str, Any], strip: np.ndarray, count: int) -> np.random.Generator:
        """The example's own random stream: from the seed, the epoch and its text (or pixels)."""
        text = example.get("text")
        content = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else np.ascontiguousarray(strip)
        return np.random.default_rng([self.seed or 0, self.epoch, zlib.crc32(content), count])  # crc32 reads arrays in place

    def _strip(self, example: dict[str, Any]) -> tuple[np.ndarray, int, np.ndarray | None]:
        """The example's strip, its patch count, and (with character slots) its character labels."""
        if "pixel_values" in example and example["pixel_values"] is not None:
            if self.character_slots:
                raise ValueError("a character head needs the text of each example, to label its patches; "
                                 "pre-rendered strips have none (pretrain from the text corpus instead)")
            px = np.asarray(example["pixel_values"], dtype=np.uint8)
            return px, int(example.get("num_patches") or px.shape[1] // self.patch_size), None
        if "text" not in example:
            raise KeyError("each example needs a 'text' or a pre-rendered 'pixel_values' field")
        if self.renderer is None:
            raise ValueError("examples hold text but the collator has no renderer")
        r: RenderedText = self.renderer(example["text"], char_spans=bool(self.character_slots))
        labels = None
        if self.character_slots:
            labels = character_classes(example["text"], r.char_spans, self.character_slots, self.character_vocab_size)
        return r.pixel_values, r.num_patches, labels

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        if not examples:
            raise ValueError("cannot collate an empty batch")
        strips, counts, labels = zip(*(self._strip(e) for e in examples))
        length = max(counts) if self.dynamic_length else (self.max_patches or max(s.shape[1] for s in strips) // self.patch_size)
        batch = self.processor.batch(list(zip(strips, counts)), length)
        if self.character_slots:
            batch["character_labels"] = torch.from_numpy(np.stack([lab[:length] for lab in labels]))
        if self.span_masking:
            masks, noise = zip(*(self._mask(e, s, n, length) for e, s, n in zip(examples, strips, counts)))
            batch["patch_mask"] = torch.from_numpy(np.stack(masks)).float()
            # The model hides the patches of largest patch_mask + noise: the spans, then random ones.
            batch["noise"] = torch.from_numpy(np.stack(noise)).float()
        return batch

    def _mask(self, example, strip, count: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """An example's span mask over `length` patches and its top-up noise in [0, 1)."""
        rng = self._generator(example, strip, count)
        masker = SpanMaskingGenerator(self.mask_ratio, *self.span_args, seed=rng)
        # The end patch is the last of `count`: text patches are the ones before it.
        return masker(length, max(count - 1, 1)), rng.random(length)


class PixelClassificationCollator:
    """{text_a, text_b?, label} examples -> pixel_values, attention_mask, labels.

    Pairs are rendered as text a, separator patch, text b, end patch. Labels are mapped with
    `label2id` (classification) or kept as floats when `label2id` is None (regression). A label
    that training never saw raises an error naming it and the labels that exist.
    """

    def __init__(self, renderer: TextRenderer | None, num_channels: int, label2id: dict | None):
        self.renderer = renderer
        self.processor = PixelProcessor(renderer, num_channels) if renderer is not None else None
        self.num_channels = num_channels
        self.label2id = label2id

    def label(self, value):
        if self.label2id is None:
            return float(value)
        if value not in self.label2id:
            raise ValueError(f"label {value!r} was not seen in training; known labels: {sorted(self.label2id)}")
        return self.label2id[value]

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = self.processor.batch([self.renderer(e["text_a"], e.get("text_b")) for e in examples])
        batch.update(self.label_batch(examples))
        return batch

    def label_batch(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """{"labels": ...} when every example has a label, else {}."""
        if not all(e.get("label") is not None for e in examples):
            return {}
        labels = [self.label(e["label"]) for e in examples]
        return {"labels": torch.tensor(labels, dtype=torch.float32 if self.label2id is None else torch.long)}


class TextClassificationCollator:
    """{text_a, text_b?, label} examples -> input_ids, attention_mask, labels: the texts as
    tokens (a pair as the tokenizer joins two texts), padded on the right, for a model that
    reads text (PixelGPT's text modality, the subword baseline)."""

    def __init__(self, tokenizer, label2id: dict | None, max_length: int = 256):
        self.tokenizer = tokenizer
        self.labels = PixelClassificationCollator(None, 1, label2id)
        self.max_length = max_length

    def tokens(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        pairs = [e.get("text_b") for e in examples]
        enc = self.tokenizer([e["text_a"] for e in examples], pairs if any(pairs) else None, truncation=True,
                             max_length=self.max_length, padding=True, return_tensors="pt")
        return dict(enc)  # input_ids, attention_mask, and token_type_ids from tokenizers that make them

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = self.tokens(examples)
        batch.update(self.labels.label_batch(examples))
        return batch


class PairedClassificationCollator:
    """{text_a, text_b?, label} examples -> the rendered texts (pixel_values, attention_mask
    over the patches) and the same texts as tokens (input_ids, token_attention_mask), for
    PixelGPT's paired modality: the decoder reads the patches, then the tokens."""

    def __init__(self, renderer: TextRenderer, num_channels: int, tokenizer, label2id: dict | None,
                 max_length: int = 256):
        self.pixels = PixelClassificationCollator(renderer, num_channels, label2id)
        self.text = TextClassificationCollator(tokenizer, label2id, max_length)
        self.tokenizer = tokenizer

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = self.pixels(examples)
        tokens = self.text.tokens(examples)
        batch["input_ids"], batch["token_attention_mask"] = tokens["input_ids"], tokens["attention_mask"]  # no token types
        return batch


def render_words_batch(renderer: TextRenderer, examples: list[dict[str, Any]], num_channels: int, layout: str):
    """Render each example's `words` (each word starting a patch) and batch them, cut to the
    longest; returns the RenderedTexts and the batch."""
    rendered = [renderer(list(e["words"]), layout=layout) for e in examples]
    return rendered, PixelProcessor(renderer, num_channels).batch(rendered)


class _WordCollator:
    """Shared by the word-level collators: words drawn so that each starts a patch, labels
    looked up in `label2id` (tags, or dependency relations)."""

    def __init__(self, renderer: TextRenderer, num_channels: int, label2id: dict, layout: str = "words"):
        if layout not in word_aligned_layouts():
            raise ValueError(f"word-level tasks need a layout in which each word starts a patch "
                             f"({', '.join(word_aligned_layouts())}), got {layout!r}")
        self.renderer = renderer
        self.num_channels = num_channels
        self.label2id = label2id
        self.layout = layout


class PixelTokenClassificationCollator(_WordCollator):
    """{words, tags} examples -> pixel_values, attention_mask, labels (B, L): each word's tag id
    on its first patch, -100 on every other patch, and `word_starts` (B, K) as the parser's (for
    a tagger that averages each word's patches). Words are rendered with the renderer's `words`
    (or `bigrams`) layout so that each starts a patch; words cut off by the canvas get no label."""

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        rendered, batch = render_words_batch(self.renderer, examples, self.num_channels, self.layout)
        labels = torch.full(batch["attention_mask"].shape, -100, dtype=torch.long)
        for i, (e, r) in enumerate(zip(examples, rendered)):
            tags = e.get("tags")
            if tags is None:
                continue
            for word, start in enumerate(r.word_starts.tolist()):
                tag = tags[word]
                if tag not in self.label2id:
                    raise ValueError(f"tag {tag!r} was not seen in training; known tags: {sorted(self.label2id)}")
                labels[i, start] = self.label2id[tag]
        batch["labels"] = labels
        batch["word_starts"] = word_starts_batch(rendered)
        return batch


class PixelParsingCollator(_WordCollator):
    """{words, heads, rels} examples -> pixel_values, attention_mask and PIXEL's parser inputs:
    `word_starts` (B, K) each drawn word's first patch then the patch after the last one, padded
    with -100; `arc_labels` and `rel_labels` (B, L) each word's head (0 = root) and relation id,
    -100 past the words and for words (or heads) the canvas cut off."""

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        rendered, batch = render_words_batch(self.renderer, examples, self.num_channels, self.layout)
        length = batch["attention_mask"].shape[1]
        word_starts = word_starts_batch(rendered)
        arcs = torch.full((len(examples), length), -100, dtype=torch.long)
        rels = torch.full((len(examples), length), -100, dtype=torch.long)
        for i, (e, r) in enumerate(zip(examples, rendered)):
            drawn = len(r.word_starts)
            for k in range(min(drawn, length)):
                head = e["heads"][k] if e.get("heads") else None
                if head is None or head > drawn:
                    continue
                rel = e["rels"][k]
                if rel not in self.label2id:
                    raise ValueError(f"relation {rel!r} was not seen in training; known relations: {sorted(self.label2id)}")
                arcs[i, k] = head
                rels[i, k] = self.label2id[rel]
        return {**batch, "word_starts": word_starts, "arc_labels": arcs, "rel_labels": rels}


class SubwordTaggingCollator:
    """Word lists for the subword baseline's tagging, labelled on each word's first subword
    (-100 elsewhere); its classification batches through `TextClassificationCollator`."""

    def __init__(self, tokenizer, label2id: dict, max_length: int = 256):
        self.tokenizer, self.label2id, self.max_length = tokenizer, label2id, max_length

    def __call__(self, examples):
        enc = self.tokenizer([list(e["words"]) for e in examples], is_split_into_words=True, truncation=True,
                             max_length=self.max_length, padding=True, return_tensors="pt")
        labels = torch.full(enc["input_ids"].shape, -100, dtype=torch.long)
        for i, e in enumerate(examples):
            seen = set()
            for pos, word in enumerate(enc.word_ids(i)):
                if word is not None and word not in seen:
                    seen.add(word)
                    labels[i, pos] = self.label2id[e["tags"][word]]
        batch = dict(enc)
        batch["labels"] = labels
        return batch
