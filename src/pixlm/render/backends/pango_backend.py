"""`pango` backend: the system's Pango and Cairo, as PIXEL's own renderer uses them.

Install with `pip install pixlm[pango]` on a system with Pango >= 1.44 and Cairo (Debian/Ubuntu:
`apt-get install libpango-1.0-0 libpangocairo-1.0-0`). The chain's font files are registered
with fontconfig for this process, so both backends draw from the same fonts; Pango itemises,
shapes (HarfBuzz inside) and falls back by itself.
"""

from __future__ import annotations

import math

import numpy as np

from .base import Backend, Run, empty_run, rgba_to_ink

_PANGO_SCALE = 1024
_FONTCONFIG = None
_REGISTERED: set[str] = set()


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


class PangoBackend(Backend):
    name = "pango"
    caches_words = False

    def __init__(self, config, fonts):
        super().__init__(config, fonts)
        import cairocffi
        import pangocairocffi
        import pangocffi

        self._cairo, self._pc, self._pango = cairocffi, pangocairocffi, pangocffi
        ffi, lib = _fontconfig()
        for f in fonts.files:
            if f.path not in _REGISTERED:
                lib.FcConfigAppFontAddFile(lib.FcConfigGetCurrent(), f.path.encode())
                _REGISTERED.add(f.path)
        # Named families head the description; fontconfig's fallback covers the rest of the chain.
        families: list[str] = []
        for i in range(len(fonts)):
            fam = fonts.family(i)
            if fam not in families and (i < 24 or fonts.is_color(i) or "CJK" in fam):
                families.append(fam)
        self._desc = pangocffi.FontDescription()
        self._desc.family = ",".join(families)
        self._desc.set_absolute_size(config.font_px * _PANGO_SCALE)
        self._options = cairocffi.FontOptions()
        self._options.set_antialias(cairocffi.ANTIALIAS_GRAY)
        self._options.set_hint_style(cairocffi.HINT_STYLE_NONE)
        self._options.set_hint_metrics(cairocffi.HINT_METRICS_OFF)
        self._baseline = self.baseline()
        self._rect = pangocffi.ffi.new("PangoRectangle *")

    def _layout(self, context, text: str):
        pc = self._pc
        layout = pc.create_layout(context)
        pc.set_font_options(layout.context, self._pc.ffi.cast("void *", self._options._pointer))
        layout.font_description = self._desc
        layout.text = text
        return layout

    def render_run(self, text: str) -> Run:
        if not text:
            return empty_run(self.config, self.height, self.margin)
        cairo = self._cairo
        _, missing = self.fonts.assign(text)
        probe = cairo.Context(cairo.ImageSurface(cairo.FORMAT_ARGB32, 1, 1))
        layout = self._layout(probe, text)
        ink_rect, logical = layout.get_extents()
        advance = logical.width / _PANGO_SCALE
        width = int(math.ceil(advance)) + 2 * self.margin
        surface = cairo.ImageSurface(cairo.FORMAT_ARGB32, width, self.height)
        context = cairo.Context(surface)
        layout = self._layout(context, text)
        context.move_to(self.margin, self._baseline - layout.get_baseline() / _PANGO_SCALE)
        self._pc.show_layout(context, layout)
        surface.flush()
        stride = surface.get_stride()
        bgra = np.frombuffer(surface.get_data(), np.uint8).reshape(self.height, stride // 4, 4)[:, :width]
        rgba = bgra[..., [2, 1, 0, 3]].copy()
        x0, x1 = self._char_extents(layout, text)
        return Run(rgba_to_ink(rgba, self.config.rgb), self.margin, advance, x0, x1, missing)

    def _char_extents(self, layout, text: str) -> tuple[np.ndarray, np.ndarray]:
        pango = self._pango.pango
        n = len(text)
        x0 = np.zeros(n, np.float32)
        x1 = np.zeros(n, np.float32)
        offset = 0
        for k, ch in enumerate(text):
            pango.pango_layout_index_to_pos(layout.pointer, offset, self._rect)
            a = self._rect.x / _PANGO_SCALE
            b = (self._rect.x + self._rect.width) / _PANGO_SCALE
            x0[k], x1[k] = min(a, b), max(a, b)
            offset += len(ch.encode("utf-8"))
        return x0, x1
