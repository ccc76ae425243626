"""Collators for Pixel-BERT: tokenised text with its image(s), for pretraining (masked language
modelling and image-text matching), VQA, NLVR2 and image-text retrieval.

An example's image is a path, a PIL image, an (H, W, 3) uint8 array, or anything with an
`image()` method (the synthetic scenes). Images are resized as the model's config says
(shorter edge, longer edge capped) and padded to the batch's largest, with a pixel mask.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any

import numpy as np
import torch

from .images import SkippedImages, image_key, images_to_batch, open_image, resize_shorter_edge

logger = logging.getLogger(__name__)


class ImageTextInputs:
    """Pixel-BERT's inputs from images and texts: images opened, resized and normalised as the
    model's config says, texts tokenised as `[CLS] text [SEP]`; the base of its collators."""

    def __init__(self, tokenizer, image_min_size: int, image_max_size: int, image_mean, image_std,
                 max_length: int = 40, seed: int = 0):
        self.tokenizer = tokenizer
        self.sizes = (image_min_size, image_max_size)
        self.mean, self.std = tuple(image_mean), tuple(image_std)
        self.max_length, self.seed = max_length, seed
        self.skipped = SkippedImages()

    @classmethod
    def for_model(cls, tokenizer, config, **kwargs):
        return cls(tokenizer, config.image_min_size, config.image_max_size, config.image_mean, config.image_std, **kwargs)

    def image(self, source):
        if hasattr(source, "image") and callable(source.image):
            source = source.image()
        img = open_image(source, self.skipped)
        return None if img is None else resize_shorter_edge(img, *self.sizes)

    def readable(self, examples: list[dict], key: str = "image") -> tuple[list[dict], list]:
        """The examples whose images open, and their images; others are skipped and counted."""
        kept, images = [], []
        for e in examples:
            sources = e[key] if isinstance(e[key], (list, tuple)) else [e[key]]
            opened = [self.image(s) for s in sources]
            if all(im is not None for im in opened):
                kept.append(e)
                images.extend(opened)
        if not kept:
            raise ValueError(f"no image in this batch could be read: {'; '.join(self.skipped.examples[-len(examples):])}")
        return kept, images

    def readable_once(self, examples: list[dict], key: str = "image") -> tuple[list[dict], list, torch.Tensor]:
        """As `readable`, but an image that several examples share (the same path or object) is
        opened once: (kept examples, distinct images, each kept example's image number)."""
        first = {}
        for e in examples:
            first.setdefault(image_key(e[key]), e)
        opened, images = self.readable(list(first.values()), key)
        number = {image_key(e[key]): i for i, e in enumerate(opened)}
        kept = [e for e in examples if image_key(e[key]) in number]
        return kept, images, torch.tensor([number[image_key(e[key])] for e in kept])

    def pixels(self, images: list) -> dict[str, torch.Tensor]:
        pixel_values, pixel_mask = images_to_batch(images, self.mean, self.std)
        return {"pixel_values": pixel_values, "pixel_mask": pixel_mask}

    def tokens(self, texts: list[str]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    def rng(self, texts: list[str]) -> np.random.Generator:
        """Random choices follow from the seed and the batch's texts (a resumed run repeats them)."""
        return np.random.default_rng([self.seed, zlib.crc32(repr(texts).encode())])


class PixelBertPretrainingCollator(ImageTextInputs):
    """{image, text} -> the clean text, its masked copy (`mlm_input_ids`, `mlm_labels`) and an
    ITM pairing: half the texts (rounded down) are read with another example's image
    (`itm_labels` 0), the rest with their own (1)."""

    def __init__(self, *args, mlm_probability: float = 0.15, **kwargs):
        super().__init__(*args, **kwargs)
        self.mlm_probability = mlm_probability

    def mask_tokens(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, rng: np.random.Generator):
        """BERT's masking: `mlm_probability` of the word tokens (at least one per text) become
        targets; of those 80% are replaced by [MASK], 10% by a random token, 10% kept."""
        tok = self.tokenizer
        special = torch.tensor([[t in tok.all_special_ids for t in row] for row in input_ids.tolist()])
        candidates = (attention_mask == 1) & ~special
        chosen = torch.from_numpy(rng.random(input_ids.shape) < self.mlm_probability) & candidates
        for i in range(len(input_ids)):
            if not chosen[i].any() and candidates[i].any():
                options = candidates[i].nonzero().flatten()
                chosen[i, options[rng.integers(len(options))]] = True
        labels = input_ids.masked_fill(~chosen, -100)
        masked = input_ids.clone()
        draw = torch.from_numpy(rng.random(input_ids.shape))
        masked[chosen & (draw < 0.8)] = tok.mask_token_id
        random_tokens = torch.from_numpy(rng.integers(0, len(tok), input_ids.shape))
        swap = chosen & (draw >= 0.8) & (draw < 0.9)
        masked[swap] = random_tokens[swap]
        return masked, labels

    def itm_pairing(self, texts: list[str], rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(image index per text, label): positives and negatives in equal numbers (a negative's
        image belongs to an example with a different text)."""
        n = len(texts)
        index = np.arange(n)
        labels = np.ones(n, dtype=np.int64)
        if n > 1:
            negatives = rng.permutation(n)[: n // 2]
            for i in negatives:
                others = [j for j in range(n) if texts[j] != texts[i]]
                if others:
                    index[i] = others[rng.integers(len(others))]
                    labels[i] = 0
        return torch.from_numpy(index), torch.from_numpy(labels)

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        examples, images = self.readable(examples)
        texts = [e["text"] for e in examples]
        rng = self.rng(texts)
        batch = {**self.tokens(texts), **self.pixels(images)}
        batch["mlm_input_ids"], batch["mlm_labels"] = self.mask_tokens(batch["input_ids"], batch["attention_mask"], rng)
        batch["itm_image_index"], batch["itm_labels"] = self.itm_pairing(texts, rng)
        return batch


def vqa_soft_score(count: int, total: int = 10) -> float:
    """The VQA score of an answer given by `count` of `total` annotators: min(matches / 3, 1)
    averaged over the `total` leave-one-annotator-out subsets."""
    return float(np.mean([min((count - (k < count)) / 3.0, 1.0) for k in range(total)]))


class PixelBertVQACollator(ImageTextInputs):
    """{image, question, answers (the annotators' answers, normalised)} -> soft-score `labels`
    (B, num_answers) over the answer vocabulary; answers outside it score nothing. Each distinct
    image of the batch is encoded once; `image_index` (B,) names each question's image."""

    def __init__(self, *args, answer2id: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.answer2id = answer2id

    def __call__(self, examples):
        examples, images, image_index = self.readable_once(examples)
        batch = {**self.tokens([e["question"] for e in examples]), **self.pixels(images), "image_index": image_index}
        if all(e.get("answers") for e in examples):
            labels = torch.zeros(len(examples), len(self.answer2id))
            for i, e in enumerate(examples):
                for answer in set(e["answers"]):
                    if answer in self.answer2id:
                        labels[i, self.answer2id[answer]] = vqa_soft_score(e["answers"].count(answer), len(e["answers"]))
            batch["labels"] = labels
        return batch


class PixelBertNLVR2Collator(ImageTextInputs):
    """{images: [left, right], sentence, label} -> 2B images (pairs adjacent), B texts."""

    def __call__(self, examples):
        examples, images = self.readable(examples, key="images")
        batch = {**self.tokens([e["sentence"] for e in examples]), **self.pixels(images)}
        if all(e.get("label") is not None for e in examples):
            batch["labels"] = torch.tensor([int(bool(e["label"])) for e in examples])
        return batch


class PixelBertRetrievalCollator(ImageTextInputs):
    """{image, text} -> each image with its caption and `negatives` captions of other images
    drawn from `captions`: `input_ids` (B, 1 + negatives, T), the positive first."""

    def __init__(self, *args, captions: list[str], negatives: int = 20, **kwargs):
        super().__init__(*args, **kwargs)
        self.captions, self.negatives = list(captions), negatives
        if len(set(self.captions)) <= negatives:
            raise ValueError(f"{negatives} negatives need more than {negatives} distinct captions; got {len(set(self.captions))}")

    def __call__(self, examples):
        examples, images = self.readable(examples)
        texts = [e["text"] for e in examples]
        rng = self.rng(texts)
        rows = []
        for t in texts:
            picks = []
            while len(picks) < self.negatives:
                c = self.captions[rng.integers(len(self.captions))]
                if c != t:
                    picks.append(c)
            rows.append([t] + picks)
        enc = self.tokens([c for row in rows for c in row])
        shape = (len(rows), 1 + self.negatives, -1)
        return {"input_ids": enc["input_ids"].reshape(shape), "attention_mask": enc["attention_mask"].reshape(shape),
                **self.pixels(images)}
