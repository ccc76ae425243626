"""PIXEL's rendering procedure, timed in the same run as pixlm's renderer.

PIXEL's `PangoCairoTextRenderer` (Rust et al. 2022) draws a text onto one 16 x 8464 Cairo A8
surface: a Pango layout of the *whole* text is made and measured, shown at a 2-pixel offset
(Cairo clips what falls past the surface), the surface is read into a NumPy array and a black
end-of-sequence patch is set after the text. Word lists are drawn one Pango layout per word,
each word starting on a new patch. A sentence pair is text a, a black separator patch, text b and
the end patch; its character offsets come from walking each layout character by character and
cluster by cluster. This module follows those steps so that a ratio against PIXEL can be
measured on the machine and in the run that pixlm is measured on, instead of against figures
from another day. It is a benchmark reference only.

Two bindings: PyGObject, which PIXEL itself uses (on Debian/Ubuntu: `apt-get install python3-gi
python3-gi-cairo gir1.2-pango-1.0`; the system's packages are found even from a virtual
environment), and, where that is missing, pangocairocffi (pixlm's `pango` extra), whose calls
cost less than PyGObject's: with it, the pairs procedure (two calls per character for the
offsets) runs faster than PIXEL's own renderer would.
"""

from __future__ import annotations

import math
import sys

import numpy as np

_PANGO_SCALE = 1024


class PixelProcedure:
    """Renders as PIXEL's PangoCairo renderer does, in the first font of a renderer's chain (a
    pango renderer registers its font files with fontconfig in this process) at its size,
    fontconfig falling back for the rest; by default pixlm's first bundled font at 8 pt and
    120 dpi, PIXEL's size. Subclasses provide the calls into Pango and Cairo."""

    bindings = ""

    def __init__(self, patch_size: int = 16, max_patches: int = 529, renderer=None):
        from pixlm.render import TextRenderer

        backend = (renderer or TextRenderer(backend="pango")).backend
        self.family, self.font_px = backend.fonts.family(0), backend.config.font_px
        self.p, self.n = patch_size, max_patches
        self.width = patch_size * max_patches

    # -- the procedure ----------------------------------------------------------------------
    def _pixels(self, surface, end_patch: int) -> np.ndarray:
        alpha = np.frombuffer(self._data(surface), np.uint8).reshape(self.p, -1)[:, : self.width]
        pixels = np.invert(alpha)  # A8 holds ink; PIXEL's images are black on white
        pixels[:, end_patch * self.p : (end_patch + 1) * self.p] = 0
        return pixels

    def render_text(self, text: str) -> np.ndarray:
        """The whole text laid out once, then clipped by the surface."""
        surface, context = self._surface()
        width = self._show(context, self._layout(context, text), 2)
        end = min(math.ceil((2 + width + 2) / self.p), self.n - 1)
        return self._pixels(surface, end)

    def render_words(self, words: list[str]) -> tuple[np.ndarray, list[int]]:
        """One layout per word, each word but the last drawn with a space after it, the first
        at x = 2 and each next one at the start of the patch after the last; returns the word
        starts."""
        surface, context = self._surface()
        x, starts = 2.0, []
        for k, word in enumerate(words):
            starts.append(math.floor(x / self.p))
            width = self._show(context, self._layout(context, word if k == len(words) - 1 else word + " "), x)
            x = min(math.ceil((x + width) / self.p) * self.p, self.width - self.p)
        end = min(math.ceil((x + 2) / self.p), self.n - 1)
        return self._pixels(surface, end), starts

    def render_pair(self, a: str, b: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Text a, separator patch, text b, end patch; with each patch's character span,
        padded or cut to one entry per patch."""
        surface, context = self._surface()
        layout_a = self._layout(context, a)
        width_a = self._show(context, layout_a, 2)
        sep = min(math.ceil((2 + width_a + 2) / self.p), self.n - 2)
        start_b = (sep + 1) * self.p
        layout_b = self._layout(context, b)
        width_b = self._show(context, layout_b, start_b + 2)
        end = min(math.ceil((start_b + 2 + width_b + 2) / self.p), self.n - 1)
        spans = self._offsets(layout_a, 2, width_a) + [(0, 0)] + self._offsets(layout_b, 2, width_b)
        spans = spans[: self.n - 1] + [(0, 0)] if len(spans) >= self.n else spans + [(0, 0)] * (self.n - len(spans))
        pixels = self._pixels(surface, end)
        pixels[:, sep * self.p : (sep + 1) * self.p] = 0
        return pixels, spans

    def _offsets(self, layout, offset: float, width: float) -> list[tuple[int, int]]:
        """[start, end) of the characters of each patch of one text (patches counted from the
        text's own first patch; the text drawn `offset` pixels into it), found as PIXEL finds
        them: every character's and every cluster's logical x (with its byte index) from a walk
        over the layout, a character inside a cluster taking its cluster's x, then one pass over
        the positions closing a patch whenever a position reaches the next patch boundary."""
        chars, clusters = self._walk(layout, clusters=False), self._walk(layout, clusters=True)
        positions = [x + offset for x, _ in chars]
        if len(chars) != len(clusters):
            cluster_x = [x + offset for x, _ in clusters]
            merged, c = [], 0
            for x in positions:
                if c == len(cluster_x) or x != cluster_x[c]:
                    merged.append(cluster_x[c - 1])
                else:
                    merged.append(x)
                    c += 1
            positions = merged
        positions.append(math.ceil((width + offset) / self.p) * self.p)
        spans: list[tuple[int, int]] = []
        first = 0
        for k, x in enumerate(positions):
            if x >= self.p * (len(spans) + 1):  # a patch boundary reached: close the patch
                last = k if x == self.p * (len(spans) + 1) else k - 1
                spans.append((first, last))
                first = last
        if len(spans) < math.ceil((width + offset) / self.p):
            spans.append((first, len(positions)))
        return spans

    # -- Cairo surfaces (pycairo and cairocffi share these names) ---------------------------
    def _surface(self):
        """A blank A8 surface of the strip and a Cairo context on it."""
        surface = self._cairo.ImageSurface(self._cairo.FORMAT_A8, self.width, self.p)
        return surface, self._cairo.Context(surface)

    def _data(self, surface):
        surface.flush()
        return surface.get_data()

    def _show(self, context, layout, x: float) -> float:
        """Draw a layout with its pen at x, centred vertically as PIXEL centres it; return its
        logical width."""
        width, height = self._size(layout)
        context.move_to(x, self.p / 2.0 - height / 2.0 - 2)
        self._draw(context, layout)
        return width

    # -- the calls into Pango, per binding ----------------------------------------------------
    def _layout(self, context, text: str):
        """A layout of `text` in the font, checked for unknown glyphs (PIXEL warns on them)."""
        raise NotImplementedError

    def _size(self, layout) -> tuple[float, float]:
        """The layout's logical width and height in pixels."""
        raise NotImplementedError

    def _draw(self, context, layout) -> None:
        raise NotImplementedError

    def _walk(self, layout, clusters: bool) -> list[tuple[float, int]]:
        """(logical x, byte index) of each character, or each cluster, of a layout."""
        raise NotImplementedError


class GIProcedure(PixelProcedure):
    """Through PyGObject and pycairo, the bindings PIXEL uses."""

    bindings = "PyGObject"

    def __init__(self, *args, **kwargs):
        try:
            import gi
        except ImportError:
            sys.path.append("/usr/lib/python3/dist-packages")  # the system's python3-gi
            import gi
        gi.require_version("Pango", "1.0")
        gi.require_version("PangoCairo", "1.0")
        import cairo
        from gi.repository import Pango, PangoCairo

        super().__init__(*args, **kwargs)
        self._cairo, self._Pango, self._PangoCairo = cairo, Pango, PangoCairo
        self._font = Pango.font_description_from_string(f"{self.family} {self.font_px}px")

    def _layout(self, context, text: str):
        pango_context = self._PangoCairo.create_context(context)
        pango_context.set_font_description(self._font)
        layout = self._Pango.Layout(pango_context)
        layout.set_text(text, -1)
        layout.get_unknown_glyphs_count()
        return layout

    def _size(self, layout) -> tuple[float, float]:
        return layout.get_pixel_size()

    def _draw(self, context, layout) -> None:
        self._PangoCairo.show_layout(context, layout)

    def _walk(self, layout, clusters: bool) -> list[tuple[float, int]]:
        it = layout.get_iter()
        out = []
        while True:
            rect = it.get_cluster_extents()[1] if clusters else it.get_char_extents()
            out.append((rect.x / self._Pango.SCALE, it.get_index()))
            if not (it.next_cluster() if clusters else it.next_char()):
                return out


class CffiProcedure(PixelProcedure):
    """Through pangocairocffi and cairocffi (pixlm's `pango` extra)."""

    bindings = "cffi"

    def __init__(self, *args, **kwargs):
        import cairocffi
        import pangocairocffi
        import pangocffi

        super().__init__(*args, **kwargs)
        self._cairo, self._pc, self._pango = cairocffi, pangocairocffi, pangocffi
        self._desc = pangocffi.FontDescription()
        self._desc.family = self.family
        self._desc.set_absolute_size(self.font_px * _PANGO_SCALE)
        self._rect = pangocffi.ffi.new("PangoRectangle *")

    def _layout(self, context, text: str):
        layout = self._pc.create_layout(context)
        layout.font_description = self._desc
        layout.text = text
        self._pango.pango.pango_layout_get_unknown_glyphs_count(layout.pointer)
        return layout

    def _size(self, layout) -> tuple[float, float]:
        _, logical = layout.get_extents()
        return logical.width / _PANGO_SCALE, logical.height / _PANGO_SCALE

    def _draw(self, context, layout) -> None:
        self._pc.show_layout(context, layout)

    def _walk(self, layout, clusters: bool) -> list[tuple[float, int]]:
        pango, rect = self._pango.pango, self._rect
        it = pango.pango_layout_get_iter(layout.pointer)
        out = []
        while True:
            if clusters:
                pango.pango_layout_iter_get_cluster_extents(it, self._pango.ffi.NULL, rect)
            else:
                pango.pango_layout_iter_get_char_extents(it, rect)
            out.append((rect.x / _PANGO_SCALE, pango.pango_layout_iter_get_index(it)))
            if not (pango.pango_layout_iter_next_cluster(it) if clusters else pango.pango_layout_iter_next_char(it)):
                break
        pango.pango_layout_iter_free(it)
        return out
