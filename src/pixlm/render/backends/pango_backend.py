"""`pango` backend: the system's Pango and Cairo, as PIXEL's own renderer uses them.

Install with `pip install pixlm[pango]` on a system with Pango >= 1.44 and Cairo (Debian/Ubuntu:
`apt-get install libpango-1.0-0 libpangocairo-1.0-0`). Each line is one Pango layout drawn with
`pango_cairo_show_layout` onto a Cairo surface of the whole strip, exactly as PIXEL's
`PangoCairoTextRenderer` draws: the font description is parsed from "<family> <size>px", the
font options are Cairo's image-surface defaults with fontconfig's usual slight hinting
(given explicitly, so that another system's fontconfig rules do not change the pixels), and
PIXEL's right-to-left pairs lay their texts out in a right-to-left paragraph.

Left-to-right text whose characters are all in the first font is drawn word by word from a
cache of pieces, each piece one Pango layout drawn on its own (`pieces.PieceCache`, as in the
skia backend): Pango rounds every glyph's advance to a whole pixel, so a word drawn alone and
pasted at its pen has the pixels it has in a layout of the whole line, and a repeated word
costs a copy. Everything else (right-to-left and mixed text, fallback fonts, tabs and line
breaks, RGB strips) is one layout of the whole line. `cache_size=0` lays out every line whole.

The calls go through cffi straight to the C libraries (pangocffi, pangocairocffi, cairocffi),
which costs less per call than PyGObject.
"""

from __future__ import annotations

import unicodedata
import warnings
from bisect import bisect_left

import cairocffi
import numpy as np
import pangocairocffi
import pangocffi
from cffi import FFI

from ..fonts import FontChain, joins_emoji, wants_emoji
from ..text import end_of_word, is_one_piece, needs_bidi, piece_keys
from .base import Backend, Line, Run, composite, line_top
from .pieces import _HUGE_PIECE, PieceCache, WholeLineOnly

_PANGO_SCALE = 1024
_REGISTERED: set[str] = set()
_FONTCONFIG = None

# Texts longer than this many characters are laid out in part when nothing but their start can
# be seen (see PangoBackend.line).
_LONG = 600
# Past about 2**31 Pango units (2,097,151 pixels) a layout's coordinates overflow and it reports
# a wrong width (0, or a few hundred thousand pixels). Texts this long are measured in parts
# before they are laid out whole (see PangoBackend.line).
_HUGE_LINE = 50_000
_PANGO_MAX_PX = (2**31 - 1) // 1024
_PARAGRAPH_BREAKS = ("\r", "\n", "\u2028", "\u2029", "\x00", "\t")


def _fontconfig():
    """cffi handle on libfontconfig, for registering font files with this process."""
    global _FONTCONFIG
    if _FONTCONFIG is None:
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


def cairo_draws_colrv1() -> bool:
    """Whether the system's Cairo draws COLRv1 colour fonts (such as Noto Color Emoji): 1.18 on."""
    major, minor = (int(x) for x in cairocffi.cairo_version_string().split(".")[:2])
    return (major, minor) >= (1, 18)


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


class _Scratch:
    """A Cairo surface the size of the strip that whole-line layouts are drawn on before their
    ink joins the strip's array; kept blank between uses (clearing costs less than a new surface)."""

    __slots__ = ("surface", "context", "data", "rgb", "stride")

    def __init__(self, cairo, width: int, height: int, rgb: bool):
        self.surface = cairo.ImageSurface(cairo.FORMAT_RGB24 if rgb else cairo.FORMAT_A8, width, height)
        self.context = cairo.Context(self.surface)
        self.stride = self.surface.get_stride()
        self.data = np.frombuffer(self.surface.get_data(), np.uint8).reshape(height, self.stride)
        self.rgb = rgb
        if rgb:
            self.context.set_source_rgb(0.0, 0.0, 0.0)  # black text
            self.data.fill(255)  # as PIXEL: a white page
        self.surface.mark_dirty()

    def move_to(self, canvas: np.ndarray, a: int, b: int, over: bool) -> None:
        """Composite what was drawn in columns [a, b) onto `canvas` (ink on white; with `over`,
        as Cairo draws over ink that is there, else where there is none) and blank those
        columns again."""
        self.surface.flush()
        if self.rgb:
            bgrx = self.data.reshape(self.data.shape[0], self.stride // 4, 4)[:, a:b]
            composite(canvas[:, a:b], bgrx[..., 2::-1], over=False)
            bgrx.fill(255)
        else:
            ink = self.data[:, a:b]
            composite(canvas[:, a:b], np.invert(ink), over=over)
            ink.fill(0)
        self.surface.mark_dirty()


class PangoLine(Line):
    """One Pango layout."""

    def __init__(self, backend: "PangoBackend", text: str, direction: str = "auto", complete: bool = True):
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
        self.missing = backend.count_missing(text) if not text.isascii() or not text.isprintable() else 0
        self._extents = None

    def draw(self, canvas: np.ndarray, x: int, clip: float | None = None, over: bool = False) -> None:
        scratch = self.backend.scratch()
        cr = scratch.context
        if clip is not None:
            cr.save()
            cr.rectangle(0, 0, clip, self.backend.height)
            cr.clip()
        cr.move_to(x, line_top(self.backend.height, self.height))
        self.backend.pangocairo.pango_cairo_show_layout(cr._pointer, self.layout)
        if clip is not None:
            cr.restore()
        # Ink reaches past a layout's logical extent only by a glyph's overhang.
        reach = 4 * self.backend.config.patch_size
        scratch.move_to(canvas, max(x - reach, 0), min(x + self.width + reach, canvas.shape[1]), over)

    def ink(self, margin: int) -> np.ndarray:
        """Coverage of the layout drawn alone, its pen `margin` pixels into a surface as high
        as the strip and as wide as the layout plus a margin each side."""
        backend = self.backend
        width = self.width + 2 * margin
        surface = backend.cairo.ImageSurface(backend.cairo.FORMAT_A8, width, backend.height)
        cr = backend.cairo.Context(surface)
        cr.move_to(margin, line_top(backend.height, self.height))
        backend.pangocairo.pango_cairo_show_layout(cr._pointer, self.layout)
        surface.flush()
        stride = surface.get_stride()
        return np.frombuffer(surface.get_data(), np.uint8).reshape(backend.height, stride)[:, :width].copy()

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
            pango, ffi = self.backend.pango, self.backend.ffi
            walked = self._walk(pango.pango_layout_iter_next_cluster,
                                lambda it, rect: pango.pango_layout_iter_get_cluster_extents(it, ffi.NULL, rect))
            # The iterator visits clusters by byte index; each character takes its cluster's extent.
            starts = _byte_starts(self.text)
            x0 = np.full(len(self.text), np.nan, np.float32)
            x1 = np.full(len(self.text), np.nan, np.float32)
            firsts = sorted((starts[index], x, w) for index, x, w in walked if index in starts)
            for k, (first, x, w) in enumerate(firsts):
                end = firsts[k + 1][0] if k + 1 < len(firsts) else len(self.text.split("\x00", 1)[0])
                x0[first:end], x1[first:end] = min(x, x + w), max(x, x + w)
            self._extents = (x0, x1)
        return self._extents


def _script_of(ch: str) -> str | None:
    """The script of a letter, by the first word of its Unicode name (LATIN, CYRILLIC, ...);
    None for what belongs to no script of its own (spaces, punctuation, digits, marks)."""
    if unicodedata.category(ch)[0] != "L":
        return None
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "?"


def _char_at(offsets, byte_index: int) -> int:
    """The character at (or first after) a byte index, given each character's byte offset."""
    if isinstance(offsets, range):
        return min(byte_index, len(offsets) - 1)

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
        # A surface for contexts that only lay out.
        self._page = cairocffi.Context(cairocffi.ImageSurface(cairocffi.FORMAT_A8, 1, 1))
        self._scratch: _Scratch | None = None
        self.margin = config.patch_size // 2
        self.line_height = PangoLine(self, "x").height
        self.composite_over = not config.rgb
        if config.cache_size and not config.rgb:
            self.pieces = PieceCache(self, config)
        self._first_font: dict[str, bool] = {}
        self._scripts: dict[str, str | None] = {}
        self._colour_drawn = cairo_draws_colrv1()
        self._warned_colour = False
        self._sighted: set[str] = set()  # pieces seen once in lines drawn whole
        self._drawn_by_pieces: set[str] = set()  # texts seen with (nearly) all their pieces cached

    def _description_string(self) -> str:
        """"<family> <size>px" as PIXEL writes it for its font; with pixlm's own chain, the
        families that head it, so that Pango falls back along the same fonts as Skia."""
        size = (self.config.dpi / 72) * self.config.font_size  # PIXEL's expression, to the last bit
        if len(self.fonts.files) == 1 or not self.config.fallback_fonts:
            return f"{self.fonts.info(0).family} {size}px"
        # A colour font Cairo cannot draw (COLRv1 before Cairo 1.18) would still be chosen for
        # what it maps, digits and # and * included, and leave them blank.
        color = cairo_draws_colrv1()
        families: list[str] = []
        for i in range(len(self.fonts)):
            fam = self.fonts.family(i)
            if self.fonts.is_color(i) and not color:
                continue
            if fam not in families and (i < 24 or self.fonts.is_color(i) or "CJK" in fam):
                families.append(fam)
        return f"{','.join(families)} {size}px"

    def context(self, rtl: bool):
        """The Pango context lines are laid out in (one for right-to-left paragraphs)."""
        ctx = self._contexts.get(rtl)
        if ctx is None:
            pango = self.pango
            ctx = self.ffi.gc(self.pangocairo.pango_cairo_create_context(self._page._pointer),
                              self.gobject.g_object_unref)
            self.pangocairo.pango_cairo_context_set_font_options(ctx, self.ffi.cast("void *", self._options._pointer))
            pango.pango_context_set_font_description(ctx, self.description)
            if rtl:
                pango.pango_context_set_base_dir(ctx, pango.PANGO_DIRECTION_RTL)
            self._contexts[rtl] = ctx
        return ctx

    def line(self, text: str, direction: str = "auto", limit: float | None = None) -> Line:
        if direction == "auto" and self.pieces is not None and (text.isascii() or self._one_script(text)):
            try:
                line = self.piece_line(text, limit) if self._pieces_pay(text, limit) else None
            except WholeLineOnly:
                line = None
            if line is not None:
                return line
        if limit is not None and len(text) > _LONG and direction == "auto" and not needs_bidi(text) \
                and not any(b in text for b in _PARAGRAPH_BREAKS):
            # Left to right, and nothing past `limit` shows: a start that ends at a space draws
            # the same glyphs at the same places as the whole text (Pango rounds each glyph's
            # advance on its own), for a fraction of the work on a long text.
            end = min(len(text), self.chars_within(limit))
            while end < len(text):
                cut = text.find(" ", end)
                if cut < 0:
                    # One long word to the end: cut inside it, far past what shows (only the
                    # glyph cluster at the cut, out of sight, can differ). The whole of a few
                    # hundred thousand characters would overflow Pango's coordinates.
                    cut = end
                start = PangoLine(self, text[:cut], direction, complete=False)
                if start.width > limit:
                    return start
                end = 2 * cut
        if len(text) > _HUGE_LINE:
            if limit is not None:
                return self._start_past(text, direction, limit)
            self._check_measurable(text)
        return PangoLine(self, text, direction)

    def _start_past(self, text: str, direction: str, limit: float) -> "PangoLine":
        """A start of a huge text (any direction) that reaches past `limit`: Pango cannot lay
        the whole out, and a layout cuts a text that does not fit to a start anyway
        (`Continuous.place`), or draws the whole text clipped (PIXEL's rule), of which only
        such a start shows for left-to-right text."""
        end = self.chars_within(limit)
        while True:
            space = text.find(" ", end, 2 * end)
            cut = space if space >= 0 else end
            start = PangoLine(self, text[:cut], direction, complete=False)
            if start.width > limit or cut >= _HUGE_LINE:
                return start
            end = 2 * cut

    def _check_measurable(self, text: str) -> None:
        """Refuse a text too wide for one Pango layout, measured in parts."""
        width = sum(PangoLine(self, text[k : k + _HUGE_LINE], complete=False).width for k in range(0, len(text), _HUGE_LINE))
        if width > _PANGO_MAX_PX:
            raise ValueError(
                f"a text of {len(text):,} characters would be about {width:,} pixels wide laid out as one "
                f"line, past the {_PANGO_MAX_PX:,} pixels Pango can measure; split the text, or render it "
                "with backend='skia' (PIXEL's question-answering windows, window_starts='characters', lay out "
                "the whole context; window_starts='words' lays out only what each window shows)")

    def run(self, text: str, direction: str = "auto"):
        """One piece of a left-to-right line drawn alone (see `pieces.PieceCache`). Raises
        `WholeLineOnly` when the piece holds a character that is not the first font's (Pango
        may draw it from another font, whose height or script moves the whole line)."""
        if not self._in_first_font(text):
            raise WholeLineOnly(text)
        line = PangoLine(self, text, direction)
        if line.height != self.line_height:
            raise WholeLineOnly(text)
        x0, x1 = line.char_extents()
        return Run(line.ink(self.margin), self.margin, line.width, x0, x1, line.missing)

    def _pieces_pay(self, text: str, limit: float | None) -> bool:
        """Whether to draw `text` from pieces: when nearly all the pieces that would show are
        cached. Otherwise the line is one layout (drawing each new word alone costs more), and
        its new pieces are counted: a piece seen a second time is drawn into the cache. So a
        corpus's frequent words are cached during its first pass, and a rare word never costs
        a layout of its own."""
        if text in self._drawn_by_pieces:
            return True
        pieces = self.pieces
        if is_one_piece(text):
            keys = [text]
        else:
            head = text if limit is None else text[: end_of_word(text, int(1.25 * limit / pieces.px_per_char) + 16)]
            if pieces.atlas_slots(head) is not None:
                return self._remember_drawn_by_pieces(text)
            keys = piece_keys(head)
        cache = pieces.cache
        new = [k for k in keys if k not in cache]
        if 4 * len(new) <= len(keys):
            return self._remember_drawn_by_pieces(text)
        sighted = self._sighted
        if len(sighted) > 4 * self.config.cache_size:
            sighted.clear()
        for k in new:
            if len(k) > _HUGE_PIECE:
                continue  # a huge word is drawn only as far as it shows, never cached whole
            if k in sighted:
                pieces.piece(k)
            else:
                sighted.add(k)
        return False

    def _remember_drawn_by_pieces(self, text: str) -> bool:
        if len(self._drawn_by_pieces) >= self.config.cache_size:
            self._drawn_by_pieces.clear()
        self._drawn_by_pieces.add(text)
        return True

    def count_missing(self, text: str) -> int:
        """Characters drawn without a glyph: those no font of the chain holds, and, where Cairo
        cannot draw colour fonts (before 1.18), those only a colour font holds (emoji), with a
        warning once saying why."""
        missing = self.fonts.count_missing(text)
        if self._colour_drawn:
            return missing
        fonts, _ = self.fonts.assign(text)
        colour = sum(1 for i in fonts if i >= 0 and self.fonts.is_color(i))
        if colour and not self._warned_colour:
            self._warned_colour = True
            warnings.warn("the system's Cairo is older than 1.18 and cannot draw colour fonts: emoji come out blank "
                          "with the pango backend (counted in missing_glyphs); use the skia backend for emoji",
                          stacklevel=6)
        return missing + colour

    def _one_script(self, text: str) -> bool:
        """Whether the letters of `text` are all of one script. Pango shapes a line in runs of
        one script, and the spaces and punctuation between two scripts join the run before
        them; a piece starting at such a boundary would be shaped (kerned) across it."""
        seen = None
        scripts = self._scripts
        for ch in set(text):
            script = scripts.get(ch, "?")
            if script == "?":
                script = scripts[ch] = _script_of(ch)
            if script is not None:
                if seen is not None and script != seen:
                    return False
                seen = script
        return True

    def _in_first_font(self, text: str) -> bool:
        known = self._first_font
        for ch in text:
            ok = known.get(ch)
            if ok is None:
                cp = ord(ch)
                ok = known[ch] = self.fonts.covers(0, cp) and not wants_emoji(cp) and not joins_emoji(ch) \
                    and ch.isprintable()
            if not ok:
                return False
        return True

    def scratch(self) -> _Scratch:
        if self._scratch is None:
            self._scratch = _Scratch(self.cairo, self.config.width, self.height, self.config.rgb)
        return self._scratch
