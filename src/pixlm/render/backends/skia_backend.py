"""Default backend: HarfBuzz shapes, Skia draws, with Pango's geometry.

skia-python's paragraph API lays text out but does not expose where each character went, which
word starts and per-patch character spans need. So this backend does what a paragraph engine
does, in the open: it splits the text into runs of one font and one bidi level (the font
chain's fallback, the Unicode bidi algorithm), orders the runs for display, shapes each with
HarfBuzz (ligatures, Indic and Southeast Asian reordering, Arabic joining, kerning) and draws
the glyphs with Skia (antialiasing, colour emoji).

Positions follow Pango with hinted metrics, as PIXEL's renderer lays text out: HarfBuzz shapes
at Pango's size (1/1024 px units), each glyph's advance and offset is rounded to a whole pixel,
a tab jumps to the next stop of eight spaces, a line break starts a new line, and the line
height is the font's ascent plus descent, each rounded up. So widths, and with them patch
counts, word starts and separators, are Pango's; the glyphs are Skia's rasterisation of the
same outlines with slight hinting, close to Cairo's but not always the same pixel for pixel.

Left-to-right text is drawn word by word from a cache of drawn pieces (`pieces.PieceCache`), so
a repeated word costs a copy; a long text is laid out only as far as it can be seen.
"""

from __future__ import annotations

import math
import re

import numpy as np
import skia
import uharfbuzz as hb

from ..text import bidi_levels, visual_order
from .base import Backend, Line, Run, alpha_to_ink, line_top, pango_size, rgba_to_ink
from .pieces import Piece, PieceCache, piece_from_run

_PARAGRAPH = re.compile("\r\n|[\r\n\u2029\u2028]")


class _Shaped:
    __slots__ = ("font", "glyphs", "xs", "ys")

    def __init__(self, font: int, glyphs: list[int], xs: list[float], ys: list[float]):
        self.font, self.glyphs, self.xs, self.ys = font, glyphs, xs, ys


class ShapedLine(Line):
    """A text shaped as a whole: bidirectional text, right-to-left paragraphs, and text with
    tabs or line breaks. Each line of it is one drawn `Piece`."""

    def __init__(self, backend: "SkiaBackend", text: str, direction: str):
        self.text = text
        self.direction = direction
        shown = text.split("\x00", 1)[0]  # a NUL ends the text, as the C string Pango gets
        lines = [m for m in _split_lines(shown)]
        self._pieces: list[tuple[Piece, int, int]] = []  # (piece, first character, row offset)
        x0 = np.full(len(text), np.nan, np.float32)
        x1 = np.full(len(text), np.nan, np.float32)
        width = 0
        for row, (start, end) in enumerate(lines):
            run = backend.run(shown[start:end], direction)
            piece = piece_from_run(run, backend.config.rgb)
            self._pieces.append((piece, start, row))
            x0[start:end], x1[start:end] = run.char_x0, run.char_x1
            width = max(width, int(run.advance))
        self._x0, self._x1 = x0, x1
        self.width = width
        self.line_height = backend.line_height
        self.height = self.line_height * len(lines)
        self.missing = sum(p.missing for p, _, _ in self._pieces)
        self._rows = backend.rows
        self._patch = backend.height

    def draw(self, canvas: np.ndarray, x: int, clip: float | None = None, over: bool = False) -> None:
        # The pieces were drawn for a one-line layout; further lines sit a line lower each, and
        # the whole block is centred as PIXEL centres a layout.
        shift = math.floor(line_top(self._patch, self.height) - line_top(self._patch, self.line_height) + 0.5)
        for piece, _, row in self._pieces:
            piece.paste(canvas, x, clip, rows=shift + row * self.line_height)

    def char_extents(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x0, self._x1


def _split_lines(text: str) -> list[tuple[int, int]]:
    """[start, end) of each line, as Pango breaks paragraphs and lines."""
    out, pos = [], 0
    for m in _PARAGRAPH.finditer(text):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(text)))
    return out


class SkiaBackend(Backend):
    name = "skia"

    def __init__(self, config, fonts):
        super().__init__(config, fonts)

        self._skia = skia
        self._manager = skia.FontMgr.New_Custom_Empty()  # opens files without the system's fontconfig
        self._sk_fonts: dict[int, object] = {}
        self._y_shift: dict[int, float] = {}
        self._scale = pango_size(config.font_px)  # HarfBuzz positions in Pango units (1/1024 px)
        ascent, descent = self.line_metrics()
        self.line_height = ascent + descent
        # The baseline of a one-line layout: its top (PIXEL's placement) plus the ascent, the
        # half pixel rounded down the page as Cairo draws it.
        self._baseline = math.floor(line_top(self.height, self.line_height) + ascent + 0.5)
        self.margin = config.patch_size // 2
        self.rows = self.height
        self._paint = skia.Paint(AntiAlias=True, Color=skia.ColorBLACK)
        self._tab_width: int | None = None
        self.pieces = PieceCache(self, config)

    # -- fonts ------------------------------------------------------------------------------
    def _sk_font(self, i: int):
        font = self._sk_fonts.get(i)
        if font is None:
            skia = self._skia
            f = self.fonts.files[i]
            typeface = self._manager.makeFromFile(f.path, f.index)
            if typeface is None:
                raise ValueError(f"font file {f.path!r} could not be read as a font")
            font = skia.Font(typeface, self.config.font_px)
            font.setSubpixel(False)
            font.setEdging(skia.Font.Edging.kAntiAlias)
            font.setHinting(skia.FontHinting.kSlight)
            font.setEmbeddedBitmaps(True)
            self._sk_fonts[i] = font
            # Colour emoji are taller than a text line: centre them in the strip instead.
            shift = 0.0
            if self.fonts.is_color(i):
                m = font.getMetrics()
                top = (self.height - (m.fDescent - m.fAscent)) / 2 - m.fAscent
                shift = top - self._baseline
            self._y_shift[i] = shift
        return font

    def tab_width(self) -> int:
        """Pango's default tab stops: every eight spaces of the first font."""
        if self._tab_width is None:
            self._tab_width = 8 * int(self._shape(" ", 0, False)[3][0])
        return self._tab_width

    # -- shaping ----------------------------------------------------------------------------
    def _shape(self, text: str, font: int, rtl: bool):
        """Glyphs, pen offsets (x, y), clusters and whole-pixel advances of one run."""
        hb_font = self.fonts.hb_font(font if font >= 0 else 0)
        hb_font.scale = (self._scale, self._scale)
        buf = hb.Buffer()
        buf.add_codepoints([ord(c) for c in text])  # clusters count characters, not bytes
        buf.guess_segment_properties()
        buf.direction = "rtl" if rtl else "ltr"
        hb.shape(hb_font, buf)
        unit = 1024
        glyphs, offsets, clusters, advances = [], [], [], []
        for info, pos in zip(buf.glyph_infos, buf.glyph_positions):
            glyphs.append(info.codepoint)
            clusters.append(info.cluster)
            # Pango rounds each glyph's advance and offset to whole pixels (hinted metrics).
            offsets.append(((pos.x_offset + 512) // unit, (-pos.y_offset + 512) // unit))
            advances.append((pos.x_advance + 512) // unit)
        return glyphs, offsets, clusters, advances

    def run(self, text: str, direction: str = "auto") -> Run:
        """Shape and draw one line (any scripts and directions; see `Backend.line`)."""
        n = len(text)
        if n == 0:
            shape = (self.height, 2 * self.margin, 4) if self.config.rgb else (self.height, 2 * self.margin)
            z = np.zeros(0, np.float32)
            return Run(np.zeros(shape, np.uint8), self.margin, 0, z, z.copy())
        fonts, missing = self.fonts.assign(text)
        levels = bidi_levels(text, direction)
        # Runs of one font and one level, in logical order, tabs on their own.
        bounds = [0] + [k for k in range(1, n) if fonts[k] != fonts[k - 1] or levels[k] != levels[k - 1]
                        or text[k] == "\t" or text[k - 1] == "\t"] + [n]
        spans = list(zip(bounds[:-1], bounds[1:]))
        order = visual_order([levels[s] for s, _ in spans]) if any(levels) else range(len(spans))

        x0 = np.zeros(n, np.float32)
        x1 = np.zeros(n, np.float32)
        shaped: list[_Shaped] = []
        pen = 0
        for r in order:
            s, e = spans[r]
            if text[s] == "\t":  # to the next tab stop, as Pango does
                stop = self.tab_width()
                advance = (pen // stop + 1) * stop - pen
                x0[s:e], x1[s:e] = pen, pen + advance
                pen += advance
                continue
            font = fonts[s] if fonts[s] >= 0 else 0
            glyphs, offsets, clusters, advances = self._shape(text[s:e], font, levels[s] % 2 == 1)
            xs, ys, p = [], [], pen
            for (dx, dy), adv in zip(offsets, advances):
                xs.append(p + dx)
                ys.append(dy)
                p += adv
            _char_extents(advances, clusters, s, e, pen, x0, x1)
            pen = p
            shaped.append(_Shaped(font, glyphs, xs, ys))
        return Run(self._draw(shaped, pen), self.margin, pen, x0, x1, missing)

    # -- drawing ----------------------------------------------------------------------------
    def _draw(self, shaped: list[_Shaped], advance: int) -> np.ndarray:
        skia = self._skia
        width = advance + 2 * self.margin
        color = any(self.fonts.is_color(r.font) for r in shaped)
        if color or self.config.rgb:
            buf = np.zeros((self.height, width, 4), np.uint8)
            surface = skia.Surface(buf, colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
        else:
            buf = np.zeros((self.height, width), np.uint8)
            surface = skia.Surface(buf, colorType=skia.kAlpha_8_ColorType, alphaType=skia.kPremul_AlphaType)
        builder = skia.TextBlobBuilder()
        for r in shaped:
            if not r.glyphs:
                continue
            font = self._sk_font(r.font)
            dy = self._y_shift[r.font]
            if dy == 0 and not any(r.ys):
                builder.allocRunPosH(font, r.glyphs, [float(x) for x in r.xs], 0)
            else:
                builder.allocRunPos(font, r.glyphs, [skia.Point(x, y + dy) for x, y in zip(r.xs, r.ys)])
        blob = builder.make()
        if blob is not None:
            with surface as canvas:
                canvas.drawTextBlob(blob, self.margin, self._baseline, self._paint)
        if buf.ndim == 3:
            return rgba_to_ink(buf, self.config.rgb)
        return alpha_to_ink(buf, self.config.rgb)

    # -- lines ------------------------------------------------------------------------------
    def line(self, text: str, direction: str = "auto", limit: float | None = None) -> Line:
        if direction == "auto":
            line = self.piece_line(text, limit)
            if line is not None:
                return line
        return ShapedLine(self, text, direction)


def _char_extents(advances, clusters, s, e, pen, x0, x1) -> None:
    """Each character's extent: that of its cluster (a ligature or a base with its marks)."""
    if not clusters:
        x0[s:e] = x1[s:e] = pen
        return
    cl = np.asarray(clusters, np.int64)
    # Pen positions, not ink: a mark's x offset must not widen its cluster.
    pens = np.concatenate([[pen], pen + np.cumsum(advances)])
    gl0, gl1 = pens[:-1], pens[1:]
    starts = np.unique(cl)
    lo = np.full(len(starts), np.inf)
    hi = np.full(len(starts), -np.inf)
    idx = np.searchsorted(starts, cl)
    np.minimum.at(lo, idx, gl0)
    np.maximum.at(hi, idx, gl1)
    owner = np.searchsorted(starts, np.arange(e - s), side="right") - 1
    owner = owner.clip(0, len(starts) - 1)
    x0[s:e] = lo[owner]
    x1[s:e] = hi[owner]
