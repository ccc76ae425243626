"""`continuous`: PIXEL's layout. A text is one line from 2 pixels into the strip, and its end
patch comes at the first patch boundary 2 pixels past it, so patch boundaries fall anywhere
in the text. A pair is text a, a black separator patch, text b 2 pixels into the next patch,
and the end patch; a pair of right-to-left texts is laid out in right-to-left paragraphs.

Rules follow PIXEL's `PangoCairoTextRenderer` (Rust et al. 2022), including its question-
answering windows and character offsets; `RendererConfig`'s named options switch between
pixlm's choices and PIXEL's where the two differ.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from functools import partial

import numpy as np

from ..backends.pieces import PieceLine
from ..output import RenderedText
from ..text import needs_bidi
from .base import HUGE_TEXT, Layout, Segment, Text, is_rtl, register_layout


@register_layout
class Continuous(Layout):
    name = "continuous"

    def render(self, a: Text, b: Text | None, *, char_spans: bool = False, max_patches_a: int | None = None,
               overflow: bool = False, stride: int = 0, offset_mapping: bool = False) -> RenderedText:
        if b is None:
            result, seg = self._single(a, char_spans or overflow, windowed=overflow)
            if overflow:
                result.overflow = self._word_windows(None, a, seg, stride, char_spans)
            if not char_spans:
                result.char_spans = result.patch_segment = None
            return result
        if overflow and self.config.window_starts == "characters":
            return self._pixel_qa(a, b, stride, char_spans, max_patches_a)
        result, segs, _ = self._pair(a, b, max_patches_a, char_spans or overflow, offset_mapping, windowed=overflow)
        if overflow:
            result.overflow = self._word_windows(a, b, segs[1], stride, char_spans, max_patches_a)
        if not char_spans:
            result.char_spans = result.patch_segment = None
        return result

    # -- one text ----------------------------------------------------------------------------
    def _single(self, t: Text, want_spans: bool, windowed: bool = False, base: int = 0):
        canvas = self.backend.canvas()
        pad = self.config.pad_left
        line = self.backend.line(t.text, limit=self.cap - pad)
        seg = Segment(start=0, base=base)
        self.place(canvas, seg, t, line, pad, self.cap)
        end = self.next_patch(pad + line.width + pad) // self.p
        seg.num_patches = end
        return self.finish(canvas, [seg], [], end, [t], want_spans, windowed), seg

    def place(self, canvas, seg: Segment, t: Text, line, x: int, right: int, rtl: bool = False):
        # `rtl`: the text belongs to a pair of right-to-left texts (PIXEL's right-to-left layouts)
        """Draw a line at pen x; past column `right` only what the truncation option allows.
        Fills in what the segment drew; returns the line drawn (a shorter one if cut)."""
        text = line.text
        seg.missing = line.missing
        if x + line.width <= right:
            line.draw(canvas, x)
            seg.drawn = len(text)
        elif self.config.truncation == "clip":  # PIXEL: drawn as is, the end patch covers the rest
            line.draw(canvas, x)
            seg.drawn, seg.truncated = line.fit(right - x), True
        elif rtl or needs_bidi(text):
            # Right-to-left text shows its start at the right: the longest start that fits, laid out anew.
            line = self.longest_start(text, x, right, rtl)
            line.draw(canvas, x)
            seg.drawn, seg.truncated = len(line.text), True
        else:
            k, end = line.fit_end(right - x)
            line.draw(canvas, x, clip=x + end)
            seg.drawn, seg.truncated = k, True
        seg.placements = [(0, seg.drawn, line, x)]
        seg.word_starts = partial(self._word_starts, t, line, x)  # called with the segment: no reference cycle
        return line

    def longest_start(self, text: str, x: int, right: int, rtl: bool):
        """The line of the longest start of `text` whose width ends by `right`."""
        direction = "rtl" if rtl else "auto"
        lo, hi, best = 0, len(text), self.backend.line("", direction)
        if len(text) > HUGE_TEXT:  # a start that does not fit bounds the search, not the whole text
            hi = self.backend.chars_within(right - x)
        while hi < len(text):
            line = self.backend.line(text[:hi], direction)
            if x + line.width > right:
                break
            best, lo, hi = line, hi + 1, min(len(text), 2 * hi)
        while lo <= hi:
            mid = (lo + hi) // 2
            line = self.backend.line(text[:mid], direction)
            if x + line.width <= right:
                best, lo = line, mid + 1
            else:
                hi = mid - 1
        return best

    def _word_starts(self, t: Text, line, x: int, seg: Segment) -> list[int]:
        """The patch where each drawn word starts: where its first character starts (its right
        edge if it reads right to left)."""
        p = self.p
        if isinstance(line, PieceLine) and t.words is None:
            first, xs = line.word_starts()
            return ((xs[first < seg.drawn] + x) // p).tolist()
        firsts = [s for s, _ in t.spans if s < seg.drawn]
        starts = line.start_positions(firsts) + x
        return [int(max(v, 0) // p) for v in starts.tolist()]

    # -- pairs -------------------------------------------------------------------------------
    def _pair(self, a: Text, b: Text, max_patches_a: int | None, want_spans: bool, offset_mapping: bool,
              windowed: bool = False, base_b: int = 0):
        p, pad = self.p, self.config.pad_left
        rtl = is_rtl(a.text) and is_rtl(b.text)
        canvas = self.backend.canvas()
        seg_a = Segment(start=0)
        direction = "rtl" if rtl else "auto"
        line_a = self.backend.line(a.text, direction, limit=self.cap - pad)
        if max_patches_a is not None and math.ceil((pad + line_a.width) / p) > max_patches_a:
            line_a = self.pixel_truncation(a.text, pad, max_patches_a, rtl)
            seg_a.truncated = True
        line_a = self.place(canvas, seg_a, a, line_a, pad, self.cap, rtl)
        if seg_a.truncated and max_patches_a is not None:
            seg_a.drawn = len(line_a.text)
        sep = self.next_patch(pad + line_a.width + pad)
        xb = sep + p + pad
        seg_b = Segment(start=sep // p + 1, base=base_b)
        line_b = self.backend.line(b.text, direction, limit=self.cap - xb)
        full_b = line_b.width
        if rtl:  # PIXEL lays out the longest start of b that ends by the last patch
            line_b = self.pixel_truncation(b.text, xb, self.config.max_patches - 1, rtl, line_b)
            seg_b.truncated = len(line_b.text) < len(b.text)
        line_b = self.place(canvas, seg_b, b, line_b, xb, self.cap, rtl)
        if rtl:
            seg_b.drawn = len(line_b.text)
        end = self.next_patch(xb + full_b + pad) // p
        seg_a.num_patches = sep // p
        seg_b.num_patches = max(end - seg_b.start, 0)
        result = self.finish(canvas, [seg_a, seg_b], [sep // p], end, [a, b], want_spans, windowed)
        if offset_mapping:
            result.offset_mapping = self.pair_offset_mapping(line_a, pad, line_b, xb, rtl)
        return result, (seg_a, seg_b), (line_a, line_b, rtl)

    def pixel_truncation(self, text: str, x: int, max_patches: int, rtl: bool, line=None):
        """PIXEL's cut of a text to at most `max_patches` patches from pen x: a binary search
        over its characters for a start that ends in the last allowed patch (or the last start
        tried). PIXEL lays these starts out in a new layout of the same context whose direction
        it does not set: in a right-to-left context, `auto-rtl`."""
        p = self.p
        line = line or self.backend.line(text, "rtl" if rtl else "auto")
        if math.ceil((x + line.width) / p) <= max_patches:
            return line
        lo, hi = 0, len(text)
        while lo <= hi:
            mid = (lo + hi) // 2
            line = self.backend.line(text[:mid], "auto-rtl" if rtl else "auto")
            patches = math.ceil((x + line.width) / p)
            if patches < max_patches:
                lo = mid + 1
            elif patches > max_patches:
                hi = mid - 1
            else:
                break
        return line

    # -- PIXEL's character offsets -----------------------------------------------------------
    def text_offset_mapping(self, line, offset: int, text_width: int, text_shift: int = 0,
                            rtl: bool = False) -> list[tuple[int, int]]:
        """PIXEL's `get_text_offset_mapping`: a (first, last) character per patch of a text
        drawn at pen `offset`, from where each character and cluster starts."""
        p = self.p
        chars, clusters = line.offset_positions()
        chars = [c + offset for c in chars]
        clusters = [c + offset for c in clusters]
        if len(chars) != len(clusters):
            buffered, k = [], 0
            for pos in chars:
                if k == len(clusters) or pos != clusters[k]:
                    buffered.append(clusters[k - 1])
                else:
                    buffered.append(pos)
                    k += 1
        else:
            buffered = chars
        n = len(line.text.split("\x00", 1)[0])
        blank_patch = self.next_patch(text_width) - text_width < offset - math.floor(offset / p) * p
        buffered = buffered + [self.next_patch(text_width + offset)]
        mapping: list[tuple[int, int]] = []
        start = cleared = 0
        for k, v in enumerate(buffered):
            if v - text_shift >= p * (len(mapping) + 1):
                end = k if v - text_shift == p * (len(mapping) + 1) else k - 1
                mapping.append((n - start, n - end) if rtl else (start, end))
                start = end
                cleared += 1
        if cleared < math.ceil((text_width + offset - text_shift) / p):
            mapping.append((n - start, 0) if rtl else (start, len(buffered)))
        if blank_patch:
            mapping[-2] = (mapping[-2][0], mapping[-1][1])
            mapping[-1] = (-1, -1)
        return mapping

    def pad_mapping(self, mapping: list[tuple[int, int]]) -> np.ndarray:
        """Cut to max_patches - 1 entries and a (0, 0), or pad with (0, 0), as PIXEL does."""
        n = self.config.max_patches
        if len(mapping) >= n:
            mapping = mapping[: n - 1] + [(0, 0)]
        mapping = mapping + [(0, 0)] * (n - len(mapping))
        return np.asarray(mapping, np.int32).reshape(n, 2)

    def pair_offset_mapping(self, line_a, xa: int, line_b, xb: int, rtl: bool) -> np.ndarray:
        a = self.text_offset_mapping(line_a, xa, line_a.width + 2, 0, rtl)
        b = self.text_offset_mapping(line_b, xb, line_b.width + 2, xb - 2, rtl)
        return self.pad_mapping(a + [(0, 0)] + b)

    # -- windows over a long text ------------------------------------------------------------
    def _word_windows(self, a: Text | None, b: Text, first: Segment, stride: int, want_spans: bool,
                      max_patches_a: int | None = None) -> list[RenderedText]:
        """pixlm's windows: each restarts at the word holding the first character drawn in the
        last `stride` patches of the window before it (or at the first character not drawn)."""
        p = self.p
        windows: list[RenderedText] = []
        word_starts = [s for s, _ in b.spans]
        start, seg, shown = 0, first, len(b.text)
        while seg.truncated and start + seg.drawn < len(b.text):
            x0 = seg.char_extents(shown)[0][: seg.drawn]
            drawn = np.flatnonzero(~np.isnan(x0))
            later = drawn[x0[drawn] >= (seg.start + seg.num_patches - stride) * p] if stride else drawn[:0]
            nxt = start + (int(later[0]) if len(later) else seg.drawn)
            nxt = _word_start_at_or_before(b, word_starts, nxt, start)
            if nxt <= start:
                nxt = start + max(seg.drawn, 1)
            start = nxt
            # The window of a huge text is laid out from a start of the rest (longer if all of it
            # fits), not the whole rest, which made a text of a million characters take
            # quadratic time; the start holds what the backend lays out of the rest to fill the canvas.
            reach = 2 * seg.drawn + 4 * self.backend.chars_within(self.cap) if len(b.text) - start > HUGE_TEXT else len(b.text)
            while True:
                sub = _start_of(b, start, reach)
                if a is None:
                    window, seg = self._single(sub, want_spans, windowed=True, base=start)
                else:
                    window, segs, _ = self._pair(a, sub, max_patches_a, want_spans, False, windowed=True, base_b=start)
                    seg = segs[1]
                if seg.truncated or start + len(sub.text) >= len(b.text):
                    break
                reach *= 2
            shown = len(sub.text)
            if not want_spans:
                window.char_spans = window.patch_segment = None
            windows.append(window)
        return windows

    def _pixel_qa(self, q: Text, c: Text, stride: int, want_spans: bool, max_patches_a: int | None) -> RenderedText:
        """PIXEL's question-answering windows (`return_overflowing_patches=True`): every window
        repeats the question and its separator, and each next context window restarts at the
        character where a patch starts, `stride` patches before the previous one ended."""
        p, pad, width = self.p, self.config.pad_left, self.config.width
        result, segs, (line_q, line_c, rtl) = self._pair(q, c, max_patches_a, True, True, windowed=True)
        if not want_spans:
            result.char_spans = result.patch_segment = None
        sep = result.sep_patches[0] * p
        xb = sep + p + pad
        full_c = self.backend.line(c.text, "rtl" if rtl else "auto")
        c_mapping = self.text_offset_mapping(full_c, xb, full_c.width + 2, xb - 2, rtl)
        q_mapping = self.text_offset_mapping(line_q, pad, line_q.width + 2, 0, rtl)
        overflow_px = (xb + full_c.width) - (width - p)
        overflow = math.ceil(overflow_px / p)
        if overflow_px <= 0:
            return result
        filled = (self.next_patch(pad + line_q.width + pad) // p + 1 + stride) * p
        windows = math.ceil(overflow_px / (width - p - (self.next_patch(pad + line_q.width + pad) + p + stride * p)))
        start_x = self.next_patch(pad + line_q.width + pad) + p + pad
        previous = result.pixel_values
        for _ in range(windows):
            if overflow_px <= 0:
                break
            if rtl:
                rest = c.text[c_mapping[overflow + stride][1]:]
            else:
                rest = c.text[c_mapping[-overflow - stride][0]:]
            canvas = self.backend.canvas()
            if rtl:  # PIXEL cuts a right-to-left continuation to the canvas; a left-to-right one is clipped
                full = self.backend.line(rest, "rtl")
                line = self.pixel_truncation(rest, start_x, self.config.max_patches - 1, True, full)
            else:
                full = line = self.backend.line(rest)
            rest_width = full.width
            line.draw(canvas, start_x)
            end = self.next_patch(start_x + rest_width + 2) // p
            real = min(2 + rest_width, width - p - start_x)
            if rtl:
                last = overflow + stride
                first = max(0, last - real // p)
                window_mapping = c_mapping[first : last + 1]
                overflow = first
                overflow_px = overflow * p
            else:
                first, last = -overflow - stride, -overflow + real // p
                window_mapping = c_mapping[first : (None if last > -1 else last)]
                overflow_px = (start_x + rest_width) - (width - p)
                overflow = math.ceil(overflow_px / p)
            pixels = self.backend.pixels(canvas)
            for patch in (sep // p, end):
                pixels[:, patch * p : (patch + 1) * p] = 0
            pixels[:, : filled - stride * p] = previous[:, : filled - stride * p]
            previous = pixels
            seg = Segment(start=sep // p + 1, num_patches=max(end - sep // p - 1, 0), drawn=len(line.text),
                          truncated=len(line.text) < len(rest), missing=line.missing)
            mask = np.zeros(self.config.max_patches, np.int8)
            mask[: end + 1] = 1
            window = RenderedText(pixel_values=pixels, num_text_patches=end, attention_mask=mask, end_patch=end,
                                  word_starts=np.zeros(0, np.int32), sep_patches=[sep // p], truncated=seg.truncated,
                                  missing_glyphs=segs[0].missing + seg.missing, replaced_chars=q.replaced + c.replaced,
                                  segment_chars=[(0, segs[0].drawn), (len(c.text) - len(rest), len(c.text) - len(rest) + seg.drawn)])
            window.offset_mapping = self.pad_mapping(q_mapping + [(0, 0)] + list(window_mapping))
            result.overflow.append(window)
        return result


def _start_of(t: Text, start: int, reach: int) -> Text:
    """The text from character `start`, `reach` characters of it and on to the next space (or
    cut at `reach` inside a longer word), as a text of its own."""
    end = start + reach
    if end < len(t.text):
        space = t.text.find(" ", end, end + reach)
        end = space if space >= 0 else end
    return Text(t.text[start:end], None, 0)


def _word_start_at_or_before(t: Text, word_starts: list[int], index: int, floor: int) -> int:
    """Move `index` back to the start of the word holding it, but not to `floor` or before."""
    k = bisect_right(word_starts, index) - 1
    if k >= 0 and index < t.spans[k][1]:
        s = word_starts[k]
        return s if s > floor else index
    return index
