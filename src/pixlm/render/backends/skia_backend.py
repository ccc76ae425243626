"""Default backend: HarfBuzz shapes, Skia draws.

skia-python's paragraph API lays text out but does not expose where each character went, which
word starts and per-patch character spans need. So this backend does what a paragraph engine
does, in the open: it splits the text into runs of one font and one bidi level (the font
chain's fallback, the Unicode bidi algorithm), orders the runs for display, shapes each with
HarfBuzz (ligatures, Indic and Southeast Asian reordering, Arabic joining, kerning) and draws
the glyphs with Skia (antialiasing, colour emoji). Cluster positions give each character's x.
"""

from __future__ import annotations

import math

import numpy as np

from ..text import bidi_levels, visual_order
from .base import Backend, Run, alpha_to_ink, empty_run, rgba_to_ink


class _ShapedRun:
    __slots__ = ("font", "glyphs", "xs", "ys", "start")

    def __init__(self, font: int, glyphs: list[int], xs: list[float], ys: list[float], start: int):
        self.font, self.glyphs, self.xs, self.ys, self.start = font, glyphs, xs, ys, start


class SkiaBackend(Backend):
    name = "skia"

    def __init__(self, config, fonts):
        super().__init__(config, fonts)
        import skia

        self._skia = skia
        self._hb_fonts: dict[int, tuple[object, float]] = {}
        self._sk_fonts: dict[int, object] = {}
        self._y_shift: dict[int, float] = {}
        self._baseline = self.baseline()
        self._paint = skia.Paint(AntiAlias=True, Color=skia.ColorBLACK)

    # -- fonts ------------------------------------------------------------------------------
    def _hb_font(self, i: int):
        entry = self._hb_fonts.get(i)
        if entry is None:
            import uharfbuzz as hb

            f = self.fonts.files[i]
            face = hb.Face(hb.Blob.from_file_path(f.path), f.index)
            entry = (hb.Font(face), self.config.font_px / face.upem)
            self._hb_fonts[i] = entry
        return entry

    def _sk_font(self, i: int):
        font = self._sk_fonts.get(i)
        if font is None:
            skia = self._skia
            font = skia.Font(self.fonts.typeface(i), self.config.font_px)
            font.setSubpixel(True)
            font.setEdging(skia.Font.Edging.kAntiAlias)
            font.setHinting(skia.FontHinting.kNone)
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

    # -- shaping ----------------------------------------------------------------------------
    def _shape(self, text: str, font: int, start: int, end: int, rtl: bool) -> tuple[_ShapedRun, list, list]:
        import uharfbuzz as hb

        hb_font, scale = self._hb_font(font if font >= 0 else 0)
        buf = hb.Buffer()
        buf.add_codepoints([ord(c) for c in text[start:end]])
        buf.guess_segment_properties()
        buf.direction = "rtl" if rtl else "ltr"
        hb.shape(hb_font, buf)
        glyphs, xs, ys, clusters, advances = [], [], [], [], []
        pen = 0.0
        for info, pos in zip(buf.glyph_infos, buf.glyph_positions):
            glyphs.append(info.codepoint)
            clusters.append(info.cluster)
            xs.append(pen + pos.x_offset * scale)
            ys.append(-pos.y_offset * scale)
            adv = pos.x_advance * scale
            advances.append(adv)
            pen += adv
        return _ShapedRun(font if font >= 0 else 0, glyphs, xs, ys, start), clusters, advances

    def render_run(self, text: str) -> Run:
        n = len(text)
        if n == 0:
            return empty_run(self.config, self.height, self.margin)
        fonts, missing = self.fonts.assign(text)
        levels = bidi_levels(text)
        # Runs of one font and one level, in logical order.
        bounds = [0] + [k for k in range(1, n) if fonts[k] != fonts[k - 1] or levels[k] != levels[k - 1]] + [n]
        spans = list(zip(bounds[:-1], bounds[1:]))
        order = visual_order([levels[s] for s, _ in spans]) if any(levels) else range(len(spans))

        x0 = np.zeros(n, np.float32)
        x1 = np.zeros(n, np.float32)
        shaped: list[_ShapedRun] = []
        pen = 0.0
        for r in order:
            s, e = spans[r]
            run, clusters, advances = self._shape(text, fonts[s], s, e, levels[s] % 2 == 1)
            run.xs = [x + pen for x in run.xs]
            self._char_extents(advances, clusters, s, e, pen, x0, x1)
            pen += sum(advances)
            shaped.append(run)
        ink = self._draw(shaped, pen)
        return Run(ink, self.margin, pen, x0, x1, missing)

    @staticmethod
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

    # -- drawing ----------------------------------------------------------------------------
    def _draw(self, shaped: list[_ShapedRun], advance: float) -> np.ndarray:
        skia = self._skia
        width = int(math.ceil(advance)) + 2 * self.margin
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
                builder.allocRunPosH(font, r.glyphs, r.xs, 0)
            else:
                builder.allocRunPos(font, r.glyphs, [skia.Point(x, y + dy) for x, y in zip(r.xs, r.ys)])
        blob = builder.make()
        if blob is not None:
            with surface as canvas:
                canvas.drawTextBlob(blob, self.margin, self._baseline, self._paint)
        if buf.ndim == 3:
            return rgba_to_ink(buf, self.config.rgb)
        return alpha_to_ink(buf, self.config.rgb)
