"""Extractive QA on pixels: windows over long contexts, patch labels, answers back to text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..render import RenderedText, TextRenderer
from .processor import strips_to_batch


@dataclass
class QAFeature:
    """One window of a question | context pair."""

    example: int  # index of its example
    strip: np.ndarray  # the strip up to the end patch
    num_patches: int
    char_spans: np.ndarray  # (num_patches, 2) characters of each patch
    patch_segment: np.ndarray  # (num_patches,) 0 question, 1 context, -1 separator/end
    start: int  # label: patch index; no answer is max_patches, the CLS position after the patches
    end: int


def _patch_of(char: int, r: RenderedText, n: int) -> int | None:
    """The context patch whose characters hold `char`."""
    for k in range(n):
        s, e = r.char_spans[k]
        if r.patch_segment[k] == 1 and s <= char < e:
            return k
    return None


def qa_features(examples: list[dict], renderer: TextRenderer, stride: int = 16) -> list[QAFeature]:
    """Render each question with its context, in windows when the context is long; label each
    window with the answer's first and last patch, or CLS (position max_patches, as PIXEL's
    `cls_index`) when the answer is not inside it. Windows overlap by `stride` patches (less on
    a small canvas)."""
    stride = min(stride, (renderer.config.max_patches - 2) // 4)
    cls_index = renderer.config.max_patches
    features = []
    for i, e in enumerate(examples):
        first = renderer(e["question"], e["context"], char_spans=True, overflow=True, stride=stride)
        answers = e.get("answers") or []
        for r in [first] + first.overflow:
            n = r.num_patches
            start = end = cls_index
            if answers and not e.get("is_impossible"):
                a = answers[0]
                s_char, e_char = a["answer_start"], a["answer_start"] + len(a["text"]) - 1
                lo, hi = r.segment_chars[1]
                if lo <= s_char and e_char < hi:
                    s_patch, e_patch = _patch_of(s_char, r, n), _patch_of(e_char, r, n)
                    if s_patch is not None and e_patch is not None:
                        start, end = s_patch, e_patch
            features.append(QAFeature(i, r.pixel_values[:, : n * renderer.config.patch_size].copy(), n,
                                      r.char_spans[:n].copy(), r.patch_segment[:n].copy(), start, end))
    return features


class QACollator:
    """QA features as full strips (PIXEL's QA head scores CLS after every patch of the canvas,
    so the batch keeps the canvas's length)."""

    def __init__(self, patch_size: int, num_channels: int, max_patches: int):
        self.patch_size, self.num_channels, self.max_patches = patch_size, num_channels, max_patches

    def __call__(self, features: list[QAFeature]) -> dict[str, Any]:
        length = self.max_patches
        pixel_values, attention_mask = strips_to_batch(
            [f.strip for f in features], [f.num_patches for f in features], self.patch_size, self.num_channels, length
        )
        return {
            "pixel_values": pixel_values,
            "attention_mask": attention_mask,
            "start_positions": torch.tensor([f.start for f in features]),
            "end_positions": torch.tensor([f.end for f in features]),
        }


def best_answers(examples: list[dict], features: list[QAFeature], start_logits, end_logits,
                 max_answer_patches: int = 16, null_threshold: float = 0.0) -> dict[str, str]:
    """Each example's answer: the best start <= end pair of context patches over its windows,
    mapped back to the context's characters; "" when no answer (CLS, the last score of each
    window) scores higher by more than `null_threshold` (SQuAD v2)."""
    best: dict[int, tuple[float, str]] = {}
    null: dict[int, float] = {}
    for f, s_log, e_log in zip(features, start_logits, end_logits):
        n = f.num_patches
        s_log, e_log = np.asarray(s_log, np.float64), np.asarray(e_log, np.float64)
        null[f.example] = max(null.get(f.example, -np.inf), s_log[-1] + e_log[-1])
        context = [k for k in range(n) if f.patch_segment[k] == 1]
        if not context:
            continue
        cs = np.asarray(context)
        scores = s_log[cs][:, None] + e_log[cs][None, :]
        valid = (cs[None, :] >= cs[:, None]) & (cs[None, :] - cs[:, None] < max_answer_patches)
        scores = np.where(valid, scores, -np.inf)
        a, b = np.unravel_index(np.argmax(scores), scores.shape)
        if not np.isfinite(scores[a, b]):
            continue
        lo, hi = int(f.char_spans[cs[a]][0]), int(f.char_spans[cs[b]][1])
        text = examples[f.example]["context"][lo:hi].strip()
        if scores[a, b] > best.get(f.example, (-np.inf, ""))[0]:
            best[f.example] = (float(scores[a, b]), text)
    out = {}
    for i, e in enumerate(examples):
        score, text = best.get(i, (-np.inf, ""))
        out[e["id"]] = "" if null.get(i, -np.inf) > score + null_threshold else text
    return out
