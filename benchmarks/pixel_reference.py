"""PIXEL's rendering procedure, timed in the same run as pixlm's renderer.

PIXEL's `PangoCairoTextRenderer` (Rust et al. 2022) draws a text onto one 16 x 8464 Cairo A8
surface: a Pango layout of the *whole* text is made and measured, shown at a 2-pixel offset
(Cairo clips what falls past the surface), the surface is read into a NumPy array and a black
end-of-sequence patch is set after the text. Word lists are drawn one Pango layout per word,
each word starting on a new patch. A sentence pair is text a, a black separator patch, text b and
the end patch; its character offsets come from walking each layout character by character and
cluster by cluster. This module follows those steps through pangocairocffi (PIXEL
goes through PyGObject, which cannot be pip-installed without a compiler and system headers),
so that a ratio against PIXEL can be measured on the machine and in the run that pixlm is
measured on, instead of against figures from another day. It is a benchmark reference only.
"""

from __future__ import annotations

import math

import numpy as np

_PANGO_SCALE = 1024


class PixelStyleRenderer:
    """Renders as PIXEL's PangoCairo renderer does, with the first font of pixlm's chain at
    pixlm's font size (8 pt at 120 dpi), fontconfig falling back for the rest."""

    def __init__(self, patch_size: int = 16, max_patches: int = 529):
        import cairocffi
        import pangocairocffi
        import pangocffi

        from pixlm.render import TextRenderer

        backend = TextRenderer(backend="pango").backend  # registers the chain's fonts with fontconfig
        self._cairo, self._pc, self._pango = cairocffi, pangocairocffi, pangocffi
        self.p, self.n = patch_size, max_patches
        self.width = patch_size * max_patches
        self._desc = pangocffi.FontDescription()
        self._desc.family = backend.fonts.family(0)
        self._desc.set_absolute_size(backend.config.font_px * _PANGO_SCALE)
        self._rect = pangocffi.ffi.new("PangoRectangle *")

    def _surface(self):
        surface = self._cairo.ImageSurface(self._cairo.FORMAT_A8, self.width, self.p)
        return surface, self._cairo.Context(surface)

    def _layout(self, context, text: str):
        layout = self._pc.create_layout(context)
        layout.font_description = self._desc
        layout.text = text
        self._pango.pango.pango_layout_get_unknown_glyphs_count(layout.pointer)  # PIXEL warns on these
        return layout

    def _show(self, context, layout, x: float) -> float:
        """Draw a layout with its pen at x, centred vertically; return its logical width."""
        _, logical = layout.get_extents()
        width, height = logical.width / _PANGO_SCALE, logical.height / _PANGO_SCALE
        context.move_to(x, self.p / 2.0 - height / 2.0 - 2)
        self._pc.show_layout(context, layout)
        return width

    def _pixels(self, surface, end_patch: int) -> np.ndarray:
        surface.flush()
        alpha = np.frombuffer(surface.get_data(), np.uint8).reshape(self.p, surface.get_stride())[:, : self.width]
        pixels = 255 - alpha  # A8 holds ink; PIXEL's images are black on white
        pixels[:, end_patch * self.p : (end_patch + 1) * self.p] = 0
        return pixels

    def render_text(self, text: str) -> np.ndarray:
        """The whole text laid out once, then clipped by the surface."""
        surface, context = self._surface()
        width = self._show(context, self._layout(context, text), 2)
        end = min(math.ceil((2 + width + 2) / self.p), self.n - 1)
        return self._pixels(surface, end)

    def render_words(self, words: list[str]) -> tuple[np.ndarray, list[int]]:
        """One layout per word, each word starting on a new patch; returns the word starts."""
        surface, context = self._surface()
        x, starts = 2.0, []
        for word in words:
            starts.append(math.ceil(x / self.p))
            width = self._show(context, self._layout(context, word), x)
            x = min(math.ceil((x + width) / self.p) * self.p, self.width - self.p)
        end = min(math.ceil((x + 2) / self.p), self.n - 1)
        return self._pixels(surface, end), starts

    def render_pair(self, a: str, b: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Text a, separator patch, text b, end patch; with each patch's character span."""
        surface, context = self._surface()
        layout_a = self._layout(context, a)
        width_a = self._show(context, layout_a, 2)
        sep = min(math.ceil((2 + width_a + 2) / self.p), self.n - 2)
        start_b = (sep + 1) * self.p
        layout_b = self._layout(context, b)
        width_b = self._show(context, layout_b, start_b + 2)
        end = min(math.ceil((start_b + 2 + width_b + 2) / self.p), self.n - 1)
        spans = self._offsets(layout_a, 2) + [(-1, -1)] + self._offsets(layout_b, start_b + 2)
        pixels = self._pixels(surface, end)
        pixels[:, sep * self.p : (sep + 1) * self.p] = 0
        return pixels, spans

    def _offsets(self, layout, x: float) -> list[tuple[int, int]]:
        """[start, end) of the characters starting in each patch, from the layout's character
        and cluster positions (a character inside a cluster takes the cluster's position)."""
        pango, rect = self._pango.pango, self._rect
        chars = self._walk(layout, lambda it: pango.pango_layout_iter_get_char_extents(it, rect), pango.pango_layout_iter_next_char)
        clusters = self._walk(layout, lambda it: pango.pango_layout_iter_get_cluster_extents(it, self._pango.ffi.NULL, rect),
                              pango.pango_layout_iter_next_cluster)
        known = set(clusters)
        positions, last = [], x
        for pos in chars:
            last = pos if pos in known else last
            positions.append(last + x)
        spans: list[tuple[int, int]] = []
        for k, pos in enumerate(positions):
            patch = int(pos // self.p) - int(x // self.p)
            while len(spans) <= patch:
                spans.append((k, k))
            spans[patch] = (spans[patch][0], k + 1)
        return spans

    def _walk(self, layout, extents, advance) -> list[float]:
        pango, rect = self._pango.pango, self._rect
        it = pango.pango_layout_get_iter(layout.pointer)
        out = []
        while True:
            extents(it)
            out.append(rect.x / _PANGO_SCALE)
            if not advance(it):
                break
        pango.pango_layout_iter_free(it)
        return out
