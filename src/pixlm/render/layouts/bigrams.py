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

from ..backends.base import composite
from ..output import RenderedText
from .base import FixedExtents, Layout, Segment, Text, is_rtl, register_layout


@register_layout
class Bigrams(Layout):
    name = "bigrams"
    word_aligned = True
    readable = True
    characters_per_cell = 2
    draws_spaces = False  # each word starts a new patch; the space between is not drawn

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

    def __init__(self, renderer):
        super().__init__(renderer)
        self._cells: dict[str, _Cell] = {}  # by bigram
        self._words_drawn: dict[tuple[str, bool], _Cell] = {}  # by word and direction

    def _cell(self, bigram: str) -> "_Cell":
        """A bigram drawn once, its first character's pen at a patch's left edge (where every
        bigram starts): its glyphs composited in drawing order, cut to their ink."""
        cell = self._cells.get(bigram)
        if cell is None:
            lines = [self.backend.line(c) for c in bigram]
            margin = 2 * self.p  # room for overhangs on either side
            cfg = self.config
            image = np.full((cfg.patch_size, sum(line.width for line in lines) + 2 * margin) + ((3,) if cfg.rgb else ()), 255, np.uint8)
            pen = margin
            for line in lines:
                line.draw(image, pen, over=True)
                pen += line.width
            cell = _Cell.cut(image, margin, [line.width for line in lines], sum(line.missing for line in lines))
            if len(self._cells) >= max(cfg.cache_size, 1):
                self._cells.clear()
            self._cells[bigram] = cell
        return cell

    def _word(self, word: str, rtl: bool, room: float = math.inf) -> "_Cell":
        """A word drawn once from a patch's left edge, bigram by bigram, each starting at the
        patch boundary after the last: its advance (whole patches), missing characters, glyphs,
        and each of its characters' extent from the word's start (in the word's order; NaN for
        a character not drawn). Drawing stops once the pen has passed `room` pixels: a word
        longer than the canvas is drawn only as far as it can show (and not kept)."""
        key = (word, rtl)
        cell = self._words_drawn.get(key)
        if cell is None:
            p, margin = self.p, 2 * self.p
            parts, pen, whole = [], 0, True
            x0 = np.full(len(word), np.nan, np.float32)
            x1 = np.full(len(word), np.nan, np.float32)
            for indices, bg in _bigram_starts(word, rtl):
                if pen > room:
                    whole = False
                    break
                bigram = self._cell(bg)
                parts.append((bigram, pen))
                for j, width in zip(indices, bigram.widths):
                    x0[j], x1[j] = pen, pen + width
                    pen += width
                pen = math.ceil(pen / p) * p
            cfg = self.config
            image = np.full((cfg.patch_size, pen + 2 * margin) + ((3,) if cfg.rgb else ()), 255, np.uint8)
            for bigram, at in parts:
                bigram.paste(image, margin + at, self.backend.composite_over)
            cell = _Cell.cut(image, margin, [pen], sum(b.missing for b, _ in parts))
            cell.x0, cell.x1 = x0, x1
            if whole:
                if len(self._words_drawn) >= max(cfg.cache_size, 1):
                    self._words_drawn.clear()
                self._words_drawn[key] = cell
        return cell

    def draw_words(self, canvas, t: Text, words: list[str], x: int, rtl: bool, reverse: bool,
                   max_patches: int | None = None) -> tuple[Segment, int]:
        """Measure the words from pen x, drop words from the end while they pass the canvas, draw
        the rest; return the segment and the pen after the last bigram."""
        p = self.p
        if rtl and reverse:
            words = words[::-1]
        limit = self.config.max_patches if max_patches is None else max_patches
        starts, cells, offset = [], [], x
        for word in words:
            starts.append(offset // p)  # words start on patch boundaries
            cells.append(self._word(word, rtl, room=limit * p - offset))
            offset += cells[-1].width
            if offset > limit * p:  # the words after this one cannot show
                if len(cells) < len(words):
                    starts.append(offset // p)  # where the next would start: dropping goes as over all of them
                break
        seg = Segment(start=x // p)
        if not words:
            return seg, x
        index = len(starts) - 1
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
        over = self.backend.composite_over
        for k, cell in enumerate(cells[: index + 1]):
            cell.paste(canvas, offset, over)
            seg.missing += cell.missing
            if positions[k] is not None:
                x0[positions[k]], x1[positions[k]] = cell.x0 + offset, cell.x1 + offset
            offset += cell.width
            if offset == self.cap and k < index:  # as PIXEL-M4: a word that ends on the last patch ends the text
                seg.truncated = True
                break
        seg.word_starts = starts[: index + 1]
        seg.drawn = int((~np.isnan(x0)).sum()) if seg.truncated else len(t.text)
        seg.placements = [(0, len(t.text), FixedExtents(x0, x1), 0)]
        # A first word longer than the canvas is cut at its last patch (the end patch follows).
        seg.num_patches = math.ceil(min(offset, self.cap) / p) - seg.start
        return seg, offset

    @staticmethod
    def _positions(t: Text, words: list[str], reversed_order: bool) -> list[list[int] | None]:
        """For each word in drawing order, the index in t.text of each of its characters."""
        spans = t.spans if t.words is not None else [(s, e) for s, e in t.spans]
        if len(spans) != len(words):
            return [None] * len(words)
        ordered = spans[::-1] if reversed_order else spans
        return [list(range(s, e)) for s, e in ordered]


class _Cell:
    """A drawn bigram or word: its advances (each character's, or the word's in whole patches),
    the characters no font holds, and its glyphs on white, starting `left` pixels from its pen."""

    __slots__ = ("widths", "width", "missing", "image", "left", "x0", "x1")

    def __init__(self, widths: list[int], missing: int, image: np.ndarray, left: int):
        self.widths, self.width, self.missing = widths, sum(widths), missing
        self.image, self.left = image, left
        self.x0 = self.x1 = None

    @classmethod
    def cut(cls, image: np.ndarray, pen: int, widths: list[int], missing: int) -> "_Cell":
        """From a drawing with the pen at column `pen`, cut to its inked columns."""
        ink = (image < 255).reshape(image.shape[0], image.shape[1], -1).any(axis=(0, 2))
        cols = np.flatnonzero(ink)
        if not len(cols):
            return cls(widths, missing, image[:, :0], 0)
        return cls(widths, missing, image[:, cols[0] : cols[-1] + 1].copy(), int(cols[0]) - pen)

    def paste(self, canvas: np.ndarray, pen: int, over: bool) -> None:
        a = pen + self.left
        lo, hi = max(a, 0), min(a + self.image.shape[1], canvas.shape[1])
        if hi > lo:
            composite(canvas[:, lo:hi], self.image[:, lo - a : hi - a], over)


def _bigram_starts(word: str, rtl: bool) -> list[tuple[list[int], str]]:
    """Each bigram with the index in the word of each of its characters, in drawing order."""
    out = []
    for i in range(0, len(word), 2):
        idx = list(range(i, min(i + 2, len(word))))
        out.append((idx[::-1], word[i : i + 2][::-1]) if rtl else (idx, word[i : i + 2]))
    return out[::-1] if rtl else out
