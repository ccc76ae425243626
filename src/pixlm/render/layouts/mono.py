"""`mono`: pixlm's own layout of fixed cells. Each grapheme (a base with its marks, an emoji
sequence) is drawn centred in a cell `mono_cell_width` pixels wide, squeezed if it is wider,
spaces included; so equal characters give equal cells, and a strip reads back cell by cell."""

from __future__ import annotations

import math

import numpy as np

from ..output import RenderedText
from ..text import graphemes
from .base import FixedExtents, Layout, Segment, Text, register_layout


@register_layout
class Mono(Layout):
    name = "mono"
    readable = True
    characters_per_cell = 1

    @classmethod
    def cell_width(cls, config) -> int:
        return config.mono_cell_width

    def render(self, a: Text, b: Text | None, *, char_spans: bool = False, max_patches_a: int | None = None,
               overflow: bool = False, stride: int = 0, offset_mapping: bool = False) -> RenderedText:
        canvas = self.backend.canvas()
        budget_a = self.config.max_patches - (1 if b is None else 2)
        if max_patches_a is not None and b is not None:
            budget_a = min(budget_a, max_patches_a)
        seg_a = self.draw_cells(canvas, a, 0, budget_a)
        if b is None:
            return self.finish(None, [seg_a], [], seg_a.num_patches, [a], char_spans, pixels=canvas)
        sep = seg_a.num_patches
        seg_b = self.draw_cells(canvas, b, sep + 1, self.config.max_patches - sep - 2)
        return self.finish(None, [seg_a, seg_b], [sep], sep + 1 + seg_b.num_patches, [a, b], char_spans, pixels=canvas)

    def draw_cells(self, canvas, t: Text, first_patch: int, budget: int) -> Segment:
        p, cell = self.p, self.config.mono_cell_width
        seg = Segment(start=first_patch)
        x0 = np.full(len(t.text), np.nan, np.float32)
        x1 = np.full(len(t.text), np.nan, np.float32)
        word_start = {s for s, _ in t.spans}
        right = (first_patch + max(budget, 0)) * p
        x, pos = first_patch * p, 0
        for g in graphemes(t.text):
            if x + cell > right:
                seg.truncated = True
                break
            paper, missing = self.renderer.cell_image(g, cell)
            seg.missing += missing
            if pos in word_start:
                seg.word_starts.append(x // p)
            target = canvas[:, x : x + cell]
            np.minimum(target, paper, out=target)
            x0[pos : pos + len(g)], x1[pos : pos + len(g)] = x, x + cell
            pos += len(g)
            x += cell
        seg.drawn = pos
        seg.placements = [(0, len(t.text), FixedExtents(x0, x1), 0)]
        seg.num_patches = math.ceil((x - first_patch * p) / p)
        return seg
