"""`bigrams`: PIXEL-M4's layout (Kesen et al. 2025, after Lotz et al. 2023). A text is split
into words at whitespace and each word into character bigrams; every bigram starts a patch,
its first character at the patch's left edge and its second right after it (each character
laid out on its own: no kerning, no joining), so equal bigrams give equal patches. Words need
no space between them: a new word starts at the next patch. Right-to-left texts are laid out
from their last word, each bigram's characters reversed.

Rules follow PIXEL-M4's `pangocairo_renderer_bigrams_iso_char` renderer; as there, words that
would pass the canvas are dropped from the end, one more than needed.
"""

from __future__ import annotations

import math

import numpy as np

from ..output import RenderedText
from .base import FixedExtents, Layout, Segment, Text, is_rtl, register_layout


def bigrams(word: str, rtl: bool) -> list[str]:
    """A word's character bigrams in drawing order (the last may be one character)."""
    if rtl:
        return [word[i : i + 2][::-1] for i in range(0, len(word), 2)][::-1]
    return [word[i : i + 2] for i in range(0, len(word), 2)]


@register_layout
class Bigrams(Layout):
    name = "bigrams"
    word_aligned = True
    readable = True

    def render(self, a: Text, b: Text | None, *, char_spans: bool = False, max_patches_a: int | None = None,
               overflow: bool = False, stride: int = 0, offset_mapping: bool = False) -> RenderedText:
        canvas = self.backend.canvas()
        words_a = self._words(a)
        if b is None:
            rtl = is_rtl(" ".join(words_a))
            seg, offset = self.draw_words(canvas, a, words_a, 0, rtl, reverse=a.words is None)
            end = self.next_patch(offset) // self.p
            return self.finish(canvas, [seg], [], end, [a], char_spans)
        words_b = self._words(b)
        rtl = is_rtl(" ".join(words_a)) and is_rtl(" ".join(words_b))
        seg_a, offset = self.draw_words(canvas, a, words_a, 0, rtl, reverse=True, max_patches=max_patches_a)
        sep = self.next_patch(offset)
        seg_a.num_patches = sep // self.p
        seg_b, offset = self.draw_words(canvas, b, words_b, sep + self.p, rtl, reverse=True)
        end = self.next_patch(offset)
        seg_b.num_patches = max(end // self.p - seg_b.start, 0)
        return self.finish(canvas, [seg_a, seg_b], [sep // self.p], end // self.p, [a, b], char_spans)

    @staticmethod
    def _words(t: Text) -> list[str]:
        return list(t.words) if t.words is not None else t.text.split()

    def _char(self, ch: str):
        """A character's own line (cached by the backend where it caches)."""
        return self.backend.line(ch)

    def _advance(self, bigram: str, offset: int) -> int:
        """Where the next bigram starts: the patch boundary after this one's two characters."""
        width = sum(self._char(c).width for c in bigram[:2])
        return math.ceil((offset + width) / self.p) * self.p

    def draw_words(self, canvas, t: Text, words: list[str], x: int, rtl: bool, reverse: bool,
                   max_patches: int | None = None) -> tuple[Segment, int]:
        """Measure the words from pen x, drop words from the end while they pass the canvas, draw
        the rest; return the segment and the pen after the last bigram."""
        p = self.p
        if rtl and reverse:
            words = words[::-1]
        limit = self.config.max_patches if max_patches is None else max_patches
        starts, offset = [], x
        for word in words:
            starts.append(math.ceil(offset / p))
            for bg in bigrams(word, rtl):
                offset = self._advance(bg, offset)
        seg = Segment(start=x // p)
        if not words:
            return seg, x
        index = len(words) - 1
        if math.ceil(offset / p) > limit:  # PIXEL-M4 drops words from the end, and one more
            patches = math.ceil(offset / p)
            while patches > limit:
                index -= 1
                patches = limit if index < 0 else starts[index]
            index = max(index - 1, 0)
            seg.truncated = True
        positions = self._positions(t, words, rtl and reverse)
        x0 = np.full(len(t.text), np.nan, np.float32)
        x1 = np.full(len(t.text), np.nan, np.float32)
        offset = x
        for k, word in enumerate(words[: index + 1]):
            chars = positions[k]
            for bg_start, bg in _bigram_starts(word, rtl):
                pen = offset
                for j, ch in enumerate(bg):
                    line = self._char(ch)
                    line.draw(canvas, pen, over=True)
                    seg.missing += line.missing
                    source = chars[bg_start[j]] if chars is not None else None
                    if source is not None:
                        x0[source], x1[source] = pen, pen + line.width
                    pen += line.width
                offset = math.ceil(pen / p) * p
            if offset == self.cap and k < index:  # as PIXEL-M4: a word that ends on the last patch ends the text
                seg.truncated = True
                break
        seg.word_starts = starts[: index + 1]
        seg.drawn = int((~np.isnan(x0)).sum()) if seg.truncated else len(t.text)
        seg.placements = [(0, len(t.text), FixedExtents(x0, x1), 0)]
        seg.num_patches = math.ceil(offset / p) - seg.start
        return seg, offset

    @staticmethod
    def _positions(t: Text, words: list[str], reversed_order: bool) -> list[list[int] | None]:
        """For each word in drawing order, the index in t.text of each of its characters."""
        spans = t.spans if t.words is not None else [(s, e) for s, e in t.spans]
        if len(spans) != len(words):
            return [None] * len(words)
        ordered = spans[::-1] if reversed_order else spans
        return [list(range(s, e)) for s, e in ordered]


def _bigram_starts(word: str, rtl: bool) -> list[tuple[list[int], str]]:
    """Each bigram with the index in the word of each of its characters, in drawing order."""
    out = []
    for i in range(0, len(word), 2):
        idx = list(range(i, min(i + 2, len(word))))
        out.append((idx[::-1], word[i : i + 2][::-1]) if rtl else (idx, word[i : i + 2]))
    return out[::-1] if rtl else out
