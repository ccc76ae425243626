"""`words`: PIXEL's rendering of a word list (its POS, NER and parsing data). The first word is
drawn 2 pixels into the strip; each word but the last is drawn with a space after it, and the
next word starts at the following patch boundary, so every word starts a patch. The end patch
comes 2 pixels past the last word, at the next boundary."""

from __future__ import annotations

from ..output import RenderedText
from .base import Layout, Segment, Text, register_layout


@register_layout
class Words(Layout):
    name = "words"
    word_aligned = True

    def render(self, a: Text, b: Text | None, *, char_spans: bool = False, max_patches_a: int | None = None,
               overflow: bool = False, stride: int = 0, offset_mapping: bool = False) -> RenderedText:
        canvas = self.backend.canvas()
        pad = self.config.pad_left
        limit = self.cap if b is None or max_patches_a is None else min(self.cap, max_patches_a * self.p)
        seg_a, end_a = self.draw_words(canvas, a, pad, 0, limit)
        if b is None:
            return self.finish(canvas, [seg_a], [], end_a // self.p, [a], char_spans)
        sep = end_a
        seg_b, end = self.draw_words(canvas, b, sep + self.p + pad, sep // self.p + 1, self.cap)
        seg_a.num_patches = sep // self.p
        return self.finish(canvas, [seg_a, seg_b], [sep // self.p], end // self.p, [a, b], char_spans)

    def draw_words(self, canvas, t: Text, x: int, first_patch: int, right: int) -> tuple[Segment, int]:
        """Draw the words from pen x; return the segment and where its end patch goes."""
        p, pad, cap = self.p, self.config.pad_left, self.cap
        line_of = self.backend.line
        cut_characters = self.config.truncation == "characters"
        words = t.words if t.words is not None else [t.text[s:e] for s, e in t.spans]
        spans = t.spans
        if not words:  # an empty text is one empty word
            words, spans = [""], [(0, 0)]
        seg = Segment(start=first_patch)
        starts, placements = seg.word_starts, seg.placements
        offset, last_k = x, len(words) - 1
        for k, word in enumerate(words):
            last = k == last_k
            # A word longer than the room left is laid out only as far as it can show.
            line = line_of(word if last else word + " ", limit=max(right - offset, 0))
            starts.append(offset // p)
            seg.missing += line.missing
            start, n = spans[k][0], len(word)
            if offset + line.width > right and cut_characters:
                n = min(line.fit(right - offset), n)
                line.draw(canvas, offset, clip=offset + line.end_of(n), over=True)
                seg.truncated = True
            else:
                line.draw(canvas, offset, over=True)
            placements.append((start, n, line, offset))
            seg.drawn = start + n
            # The next word starts at the patch after this one (and its space); the end patch
            # 2 pixels after the last word.
            offset = min(-(-(offset + (pad if last else 0) + line.width) // p) * p, cap)
            if offset >= right and not last:  # PIXEL stops when a word reaches the last patch
                seg.truncated = True
                break
        offset = min(offset, right)
        seg.truncated = seg.truncated or seg.drawn < len(t.text.rstrip())
        seg.num_patches = -(-offset // p) - first_patch
        return seg, offset
