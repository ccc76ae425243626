"""`pango` backend: the system's Pango and Cairo, as PIXEL's own renderer uses them.

Install with `pip install pixlm[pango]` on a system with Pango >= 1.44 and Cairo (Debian/Ubuntu:
`apt-get install libpango-1.0-0 libpangocairo-1.0-0`). Each line is one Pango layout drawn with
`pango_cairo_show_layout` onto a Cairo surface of the whole strip, exactly as PIXEL's
`PangoCairoTextRenderer` draws: the font description is parsed from "<family> <size>px", the
font options are Cairo's image-surface defaults with fontconfig's usual slight hinting
(given explicitly, so that another system's fontconfig rules do not change the pixels), and
PIXEL's right-to-left pairs lay their texts out in a right-to-left paragraph.

The calls go through cffi straight to the C libraries (pangocffi, pangocairocffi, cairocffi),
which costs less per call than PyGObject.
"""

from __future__ import annotations

import numpy as np

from ..fonts import FontChain
from ..text import needs_bidi
from .base import Backend, Line, line_top

_PANGO_SCALE = 1024
_REGISTERED: set[str] = set()
_FONTCONFIG = None

# Texts longer than this many characters are laid out in part when nothing but their start can
# be seen (see PangoBackend.line).
_LONG = 600
_PARAGRAPH_BREAKS = ("\r", "\n", "\u2028", "\u2029", "\x00", "\t")


def _fontconfig():
    """cffi handle on libfontconfig, for registering font files with this process."""
    global _FONTCONFIG
    if _FONTCONFIG is None:
        from cffi import FFI

        ffi = FFI()
        ffi.cdef(
            "typedef struct _FcConfig FcConfig;"
            "FcConfig *FcConfigGetCurrent(void);"
            "int FcConfigAppFontAddFile(FcConfig *config, const unsigned char *file);"
        )
        lib = None
        for name in ("fontconfig", "libfontconfig.so.1", "libfontconfig.1.dylib"):
            try:
                lib = ffi.dlopen(name)
                break
            except OSError:
                continue
        if lib is None:
            raise OSError("libfontconfig not found; the pango backend needs fontconfig")
        _FONTCONFIG = (ffi, lib)
    return _FONTCONFIG


def register_font_files(paths: list[str]) -> None:
    """Make font files known to fontconfig in this process (as ManimPango's register_font
    does), and make Pango's font map read fontconfig's fonts again if any was new."""
    new = [p for p in paths if p not in _REGISTERED]
    if not new:
        return
    ffi, lib = _fontconfig()
    for path in new:
        lib.FcConfigAppFontAddFile(lib.FcConfigGetCurrent(), path.encode())
        _REGISTERED.add(path)
    _pango_fontmap_changed()


def _pango_fontmap_changed() -> None:
    """Pango lists fontconfig's fonts once; fonts added later are unknown to it until told."""
    from cffi import FFI

    ffi = FFI()
    ffi.cdef("void *pango_cairo_font_map_get_default(void); void pango_fc_font_map_config_changed(void *fcfontmap);")
    for name in ("pangoft2-1.0", "libpangoft2-1.0.so.0", "libpangoft2-1.0.0.dylib"):
        try:
            ft2 = ffi.dlopen(name)
            cairo = ffi.dlopen(name.replace("ft2", "cairo"))
            break
        except OSError:
            continue
    else:
        return  # not a fontconfig font map (or not found): nothing is cached that could go stale
    ft2.pango_fc_font_map_config_changed(cairo.pango_cairo_font_map_get_default())


class _Canvas:
    """A Cairo surface the size of the strip, and a context drawing on it. Canvases are reused
    (`clear` makes one blank again): making a surface costs more than clearing one."""

    __slots__ = ("surface", "context", "data", "rgb")

    def __init__(self, cairo, width: int, height: int, rgb: bool):
        self.surface = cairo.ImageSurface(cairo.FORMAT_RGB24 if rgb else cairo.FORMAT_A8, width, height)
        self.context = cairo.Context(self.surface)
        self.data = np.frombuffer(self.surface.get_data(), np.uint8)
        self.rgb = rgb
        if rgb:
            self.context.set_source_rgb(0.0, 0.0, 0.0)  # black text
        self.clear()

    def clear(self) -> None:
        self.surface.flush()
        self.data.fill(255 if self.rgb else 0)  # as PIXEL: a white page, or no ink
        self.surface.mark_dirty()


class PangoLine(Line):
    """One Pango layout."""

    def __init__(self, backend: "PangoBackend", text: str, direction: str, complete: bool = True):
        self.backend = backend
        self.text = text
        self.direction = direction
        self.complete = complete
        pango, ffi = backend.pango, backend.ffi
        self.layout = ffi.gc(pango.pango_layout_new(backend.context(direction != "auto")),
                             backend.gobject.g_object_unref)
        if direction == "rtl":  # as PIXEL's right-to-left layouts
            pango.pango_layout_set_auto_dir(self.layout, False)
            pango.pango_layout_set_alignment(self.layout, pango.PANGO_ALIGN_RIGHT)
        # Passed as a C string, as PyGObject passes it to PIXEL's layouts: a NUL ends the text.
        pango.pango_layout_set_text(self.layout, ffi.new("char[]", text.encode("utf-8")), -1)
        size = backend.int_pair
        pango.pango_layout_get_pixel_size(self.layout, size, size + 1)
        self.width, self.height = int(size[0]), int(size[1])
        # Characters outside the renderer's fonts (Pango may still draw them from a system font,
        # so its own count of unknown glyphs would miss them).
        self.missing = backend.fonts.count_missing(text) if not text.isascii() or not text.isprintable() else 0
        self._extents = None

    def draw(self, canvas: _Canvas, x: int, clip: float | None = None) -> None:
        cr = canvas.context
        if clip is not None:
            cr.save()
            cr.rectangle(0, 0, clip, self.backend.height)
            cr.clip()
        cr.move_to(x, line_top(self.backend.height, self.height))
        self.backend.pangocairo.pango_cairo_show_layout(cr._pointer, self.layout)
        if clip is not None:
            cr.restore()

    def _walk(self, step, extents) -> list[tuple[int, float, float]]:
        """(byte index, logical x, logical width) at each stop of a layout iterator."""
        pango, ffi = self.backend.pango, self.backend.ffi
        it = pango.pango_layout_get_iter(self.layout)
        rect = ffi.new("PangoRectangle *")
        out = []
        try:
            while True:
                extents(it, rect)
                out.append((pango.pango_layout_iter_get_index(it), rect.x / _PANGO_SCALE, rect.width / _PANGO_SCALE))
                if not step(it):
                    break
        finally:
            pango.pango_layout_iter_free(it)
        return out

    def _position(self, byte_index: int) -> tuple[float, float]:
        """The leading and trailing edge of the grapheme at a byte index."""
        rect = self.backend.rect
        self.backend.pango.pango_layout_index_to_pos(self.layout, byte_index, rect)
        return rect.x / _PANGO_SCALE, (rect.x + rect.width) / _PANGO_SCALE

    def start_positions(self, indices: list[int]) -> np.ndarray:
        starts = _byte_offsets(self.text)
        out = np.empty(len(indices), np.float32)
        for k, i in enumerate(indices):
            lead, trail = self._position(starts[i])
            out[k] = lead - 1e-3 if trail < lead else lead
        return out

    def end_of(self, k: int) -> float:
        if not k or self.direction != "auto" or needs_bidi(self.text):
            return super().end_of(k)
        return self._position(_byte_offsets(self.text)[k - 1])[1]

    def fit(self, room: float) -> int:
        if self.direction != "auto" or needs_bidi(self.text) or self._extents is not None:
            return super().fit(room)
        # Left to right: the grapheme under x = room, and whether it ends within room.
        text = self.text.split("\x00", 1)[0]
        if room >= self.width:
            return len(text)
        index, trailing = self.backend.int_pair, self.backend.int_pair + 1
        self.backend.pango.pango_layout_xy_to_index(self.layout, int(room * _PANGO_SCALE), 0, index, trailing)
        offsets = _byte_offsets(text)
        k = _char_at(offsets, int(index[0]))  # the grapheme's first character
        if k < len(text) and self._position(offsets[k])[1] <= room + 1e-6:
            k = _char_at(offsets, int(index[0]) + 1) if k + 1 < len(text) else len(text)  # it fits: past it
            while k < len(text) and self._position(offsets[k])[0] < self._position(offsets[k - 1])[1] - 1e-3:
                k += 1  # the rest of its cluster
        return k

    def offset_positions(self) -> tuple[list[float], list[float]]:
        pango, ffi = self.backend.pango, self.backend.ffi
        chars = self._walk(pango.pango_layout_iter_next_char, pango.pango_layout_iter_get_char_extents)
        clusters = self._walk(pango.pango_layout_iter_next_cluster,
                              lambda it, rect: pango.pango_layout_iter_get_cluster_extents(it, ffi.NULL, rect))
        return [x for _, x, _ in chars], [x for _, x, _ in clusters]

    def char_extents(self) -> tuple[np.ndarray, np.ndarray]:
        if self._extents is None:
            pango = self.backend.pango
            walked = self._walk(pango.pango_layout_iter_next_char, pango.pango_layout_iter_get_char_extents)
            # The iterator visits characters by byte index; map them to str indices.
            starts = _byte_starts(self.text)
            x0 = np.full(len(self.text), np.nan, np.float32)
            x1 = np.full(len(self.text), np.nan, np.float32)
            for index, x, w in walked:
                k = starts.get(index)
                if k is not None:
                    x0[k], x1[k] = min(x, x + w), max(x, x + w)
            self._extents = (x0, x1)
        return self._extents


def _char_at(offsets, byte_index: int) -> int:
    """The character at (or first after) a byte index, given each character's byte offset."""
    if isinstance(offsets, range):
        return min(byte_index, len(offsets) - 1)
    from bisect import bisect_left

    return bisect_left(offsets, byte_index)


def _byte_offsets(text: str):
    """The UTF-8 byte offset of each character (and of the end)."""
    if text.isascii():
        return range(len(text) + 1)
    out, pos = [], 0
    for ch in text:
        out.append(pos)
        pos += len(ch.encode("utf-8", "surrogatepass"))
    out.append(pos)
    return out


def _byte_starts(text: str) -> dict[int, int]:
    out, pos = {}, 0
    for k, ch in enumerate(text):
        out[pos] = k
        pos += len(ch.encode("utf-8", "surrogatepass"))
    return out


class PangoBackend(Backend):
    name = "pango"

    def __init__(self, config, fonts: FontChain):
        super().__init__(config, fonts)
        import cairocffi
        import pangocairocffi
        import pangocffi

        self.cairo = cairocffi
        self.pango, self.ffi, self.gobject = pangocffi.pango, pangocffi.ffi, pangocffi.gobject
        self.pangocairo = pangocairocffi.pangocairo
        register_font_files([f.path for f in fonts.files])
        self.description = self.ffi.gc(
            self.pango.pango_font_description_from_string(self._description_string().encode("utf-8")),
            self.pango.pango_font_description_free,
        )
        self._options = cairocffi.FontOptions()
        self._options.set_antialias(cairocffi.ANTIALIAS_GRAY)
        self._options.set_hint_style(cairocffi.HINT_STYLE_SLIGHT)
        self._options.set_hint_metrics(cairocffi.HINT_METRICS_ON)
        self._contexts: dict[bool, object] = {}
        self.int_pair = self.ffi.new("int[2]")
        self.rect = self.ffi.new("PangoRectangle *")
        self._page = _Canvas(cairocffi, 1, 1, False)  # a surface for contexts that only lay out
        self._free: list[_Canvas] = []

    def _description_string(self) -> str:
        """"<family> <size>px" as PIXEL writes it for its font; with pixlm's own chain, the
        families that head it, so that Pango falls back along the same fonts as Skia."""
        size = (self.config.dpi / 72) * self.config.font_size  # PIXEL's expression, to the last bit
        if len(self.fonts.files) == 1 or not self.config.fallback_fonts:
            return f"{self.fonts.info(0).family} {size}px"
        families: list[str] = []
        for i in range(len(self.fonts)):
            fam = self.fonts.family(i)
            if fam not in families and (i < 24 or self.fonts.is_color(i) or "CJK" in fam):
                families.append(fam)
        return f"{','.join(families)} {size}px"

    def context(self, rtl: bool):
        """The Pango context lines are laid out in (one for right-to-left paragraphs)."""
        ctx = self._contexts.get(rtl)
        if ctx is None:
            pango = self.pango
            ctx = self.ffi.gc(self.pangocairo.pango_cairo_create_context(self._page.context._pointer),
                              self.gobject.g_object_unref)
            self.pangocairo.pango_cairo_context_set_font_options(ctx, self.ffi.cast("void *", self._options._pointer))
            pango.pango_context_set_font_description(ctx, self.description)
            if rtl:
                pango.pango_context_set_base_dir(ctx, pango.PANGO_DIRECTION_RTL)
            self._contexts[rtl] = ctx
        return ctx

    def line(self, text: str, direction: str = "auto", limit: float | None = None) -> PangoLine:
        if limit is not None and len(text) > _LONG and direction == "auto" and not needs_bidi(text) \
                and not any(b in text for b in _PARAGRAPH_BREAKS):
            # Left to right, and nothing past `limit` shows: a start that ends at a space draws
            # the same glyphs at the same places as the whole text (Pango rounds each glyph's
            # advance on its own), for a fraction of the work on a long text.
            end = min(len(text), max(64, int(limit / (0.45 * self.config.font_px))))
            while end < len(text):
                cut = text.find(" ", end)
                if cut < 0:
                    break
                start = PangoLine(self, text[:cut], direction, complete=False)
                if start.width > limit:
                    return start
                end = 2 * cut
        return PangoLine(self, text, direction)

    def canvas(self) -> _Canvas:
        if self._free:
            canvas = self._free.pop()
            canvas.clear()
            return canvas
        return _Canvas(self.cairo, self.config.width, self.height, self.config.rgb)

    def pixels(self, canvas: _Canvas) -> np.ndarray:
        """The strip's pixels; the canvas goes back to be reused."""
        surface = canvas.surface
        surface.flush()
        stride, width = surface.get_stride(), self.config.width
        if self.config.rgb:
            bgrx = canvas.data.reshape(self.height, stride // 4, 4)[:, :width]
            out = bgrx[..., 2::-1].copy()
        else:
            out = np.invert(canvas.data.reshape(self.height, stride)[:, :width])
        self._free.append(canvas)
        return out
