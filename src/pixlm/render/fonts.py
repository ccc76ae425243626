"""The font fallback chain: which font draws each character.

The chain is: the user's fonts (files or folders, in the order given), then the OFL Noto fonts
that pip installs with pixlm (`manimgx-fonts`: Noto Sans and the fonts of the major scripts;
`dynamic-font`'s assets: Coptic and ~90 other scripts, Noto Color Emoji, Noto Sans CJK).
A character is drawn by the first font whose character map holds it.
"""

from __future__ import annotations

import importlib.util
import os
import unicodedata
from dataclasses import dataclass

import uharfbuzz as hb

from .sfnt import FaceInfo, read_face

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")

# Fonts of manimgx-fonts in the order they join the chain (Noto Sans first: Latin, Greek,
# Cyrillic, Vietnamese, and the punctuation and digits every script shares).
_MANIMGX_ORDER = (
    "NotoSans[wght].ttf", "NotoSansArabic[wght].ttf", "NotoSansHebrew[wght].ttf",
    "NotoSansDevanagari[wght].ttf", "NotoSansBengali[wght].ttf", "NotoSansTamil[wght].ttf",
    "NotoSansTelugu[wght].ttf", "NotoSansKannada[wght].ttf", "NotoSansMalayalam[wght].ttf",
    "NotoSansGujarati[wght].ttf", "NotoSansGurmukhi[wght].ttf", "NotoSansOriya[wght].ttf",
    "NotoSansSinhala[wght].ttf", "NotoSansThai[wght].ttf", "NotoSansLao[wght].ttf",
    "NotoSansKhmer[wght].ttf", "NotoSansMyanmar[wght].ttf", "NotoSansEthiopic[wght].ttf",
    "NotoSansGeorgian[wght].ttf", "NotoSansArmenian[wght].ttf", "NotoSansSymbols[wght].ttf",
)
_COLOR_EMOJI = "NotoColorEmoji-Regular.ttf"
_MONO_EMOJI = "NotoEmoji[wght].ttf"
_CJK = "NotoSansCJK-Regular.ttc"

# Characters that never need a glyph of their own: joiners, variation selectors, bidi
# controls, tag characters. They are not counted as missing.
_IGNORABLE_CATEGORIES = {"Cf", "Zl", "Zp"}


@dataclass(frozen=True)
class FontFile:
    """One face of the chain: a file, and the face index inside a collection."""

    path: str
    index: int = 0


def _package_dir(name: str) -> str | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def bundled_fonts() -> list[FontFile]:
    """The fonts pip installed with pixlm, in chain order (missing packages are skipped)."""
    fonts: list[FontFile] = []
    manim = _package_dir("manimgx_fonts")
    dyn = _package_dir("dynamic_font")
    dyn_fonts = os.path.join(dyn, "assets", "fonts") if dyn else None
    if manim:
        fonts += [FontFile(os.path.join(manim, n)) for n in _MANIMGX_ORDER if os.path.isfile(os.path.join(manim, n))]
    if dyn_fonts:
        fallback = os.path.join(dyn_fonts, "fallback")
        if os.path.isdir(fallback):
            fonts += [
                FontFile(os.path.join(fallback, n))
                for n in sorted(os.listdir(fallback))
                if n.endswith(FONT_SUFFIXES) and n != _CJK
            ]
        if os.path.isfile(os.path.join(dyn_fonts, _COLOR_EMOJI)):
            fonts.append(FontFile(os.path.join(dyn_fonts, _COLOR_EMOJI)))
    if manim and os.path.isfile(os.path.join(manim, _MONO_EMOJI)):
        fonts.append(FontFile(os.path.join(manim, _MONO_EMOJI)))
    if dyn_fonts and os.path.isfile(os.path.join(dyn_fonts, "fallback", _CJK)):
        fonts.append(FontFile(os.path.join(dyn_fonts, "fallback", _CJK)))
    return fonts


def expand_user_fonts(paths: list[str]) -> list[FontFile]:
    """Files as given; folders become their font files in name order."""
    out: list[FontFile] = []
    for p in paths:
        if os.path.isdir(p):
            names = sorted(n for n in os.listdir(p) if n.lower().endswith(FONT_SUFFIXES))
            if not names:
                raise ValueError(f"font folder {p!r} holds no {'/'.join(FONT_SUFFIXES)} files")
            out += [FontFile(os.path.abspath(os.path.join(p, n))) for n in names]
        elif os.path.isfile(p):
            if not p.lower().endswith(FONT_SUFFIXES):
                raise ValueError(f"font file {p!r} is not one of {', '.join(FONT_SUFFIXES)}")
            out.append(FontFile(os.path.abspath(p)))
        else:
            raise ValueError(f"font path {p!r} does not exist; give a font file or a folder of fonts")
    return out


def is_ignorable(ch: str) -> bool:
    """Default-ignorable characters (ZWJ, variation selectors, bidi controls...)."""
    return unicodedata.category(ch) in _IGNORABLE_CATEGORIES or "\ufe00" <= ch <= "\ufe0f"


def _is_extender(ch: str) -> bool:
    """Characters that belong with the character before them: marks, joiners, emoji modifiers."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or cp in (0x200C, 0x200D, 0x20E3)
        or 0xFE00 <= cp <= 0xFE0F
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
    )


def wants_emoji(cp: int) -> bool:
    """Pictographs, regional indicators and tags: drawn as emoji when a colour font has them."""
    return cp >= 0x1F000 and cp < 0x1FB00


def joins_emoji(ch: str) -> bool:
    """VS16, ZWJ, a skin tone or a keycap after a character asks for its emoji form."""
    cp = ord(ch)
    return cp in (0xFE0F, 0x200D, 0x20E3) or 0x1F3FB <= cp <= 0x1F3FF


def _is_neutral(ch: str) -> bool:
    """Spaces, punctuation and ASCII digits: drawn by the surrounding script's font if it can."""
    return ch.isspace() or unicodedata.category(ch)[0] == "P" or "0" <= ch <= "9"


class FontChain:
    """Ordered fonts and the choice of font for each character of a text.

    `bundled=False` leaves out the fonts pip installed (a published renderer draws with its
    own font only). Each file is checked when the chain is made: a file that is not a font,
    or is cut short, is refused naming it.
    """

    def __init__(self, user_fonts: list[str] | None = None, bundled: bool = True):
        users = expand_user_fonts(list(user_fonts or []))
        self.files: list[FontFile] = users + (bundled_fonts() if bundled else [])
        if not self.files:
            raise RuntimeError(
                "no fonts found: pixlm's font packages (manimgx-fonts, dynamic-font) are not "
                "installed and no font was given; reinstall pixlm or pass fonts=[...]"
            )
        self._info: dict[int, FaceInfo] = {}
        self._hb_fonts: dict[int, object] = {}
        self._font_of: dict[int, int] = {}
        self._color_font_of: dict[int, int] = {}
        self._missing_of: dict[str, bool] = {}
        for i in range(len(users)):
            self.info(i)  # the user's fonts are read now, so that a bad file is named at once

    def __len__(self) -> int:
        return len(self.files)

    def info(self, i: int) -> FaceInfo:
        """Tables, names and metrics of font i (read on first use)."""
        info = self._info.get(i)
        if info is None:
            f = self.files[i]
            info = self._info[i] = read_face(f.path, f.index)
        return info

    def hb_font(self, i: int):
        """HarfBuzz font of font i, at its units per em (callers scale positions)."""
        font = self._hb_fonts.get(i)
        if font is None:
            f = self.files[i]
            self.info(i)  # checked before HarfBuzz reads it
            font = self._hb_fonts[i] = hb.Font(hb.Face(hb.Blob.from_file_path(f.path), f.index))
        return font

    def family(self, i: int) -> str:
        """The family name (without style) that fontconfig and Pango know font i by."""
        return self.info(i).typographic_family

    def is_color(self, i: int) -> bool:
        return self.info(i).is_color

    def covers(self, i: int, cp: int) -> bool:
        return i >= 0 and self.hb_font(i).get_nominal_glyph(cp) is not None

    def font_for_codepoint(self, cp: int) -> int:
        """Index of the first font holding `cp`, or -1 if none does."""
        i = self._font_of.get(cp)
        if i is None:
            i = next((j for j in range(len(self.files)) if self.covers(j, cp)), -1)
            self._font_of[cp] = i
        return i

    def assign(self, text: str) -> tuple[list[int], int]:
        """Font index for each character, and how many characters no font holds.

        Marks and joiners stay in the font of their base; spaces, punctuation and digits stay in
        the running font when it has them (so an Arabic sentence is one run, not one per word);
        pictographs, and characters followed by VS16, ZWJ or a skin tone, go to a colour font
        when one holds them (so ZWJ sequences and modifiers become single emoji glyphs).
        """
        fonts: list[int] = []
        missing = 0
        n = len(text)
        for k, ch in enumerate(text):
            cp = ord(ch)
            prev = fonts[-1] if fonts else -1
            if prev >= 0 and _is_extender(ch) and (self.covers(prev, cp) or is_ignorable(ch)):
                fonts.append(prev)
                continue
            if wants_emoji(cp) or (k + 1 < n and joins_emoji(text[k + 1])):
                color = self._color_font_for(cp)
                if color >= 0:
                    fonts.append(color)
                    continue
            if prev >= 0 and _is_neutral(ch) and self.covers(prev, cp):
                fonts.append(prev)
                continue
            i = self.font_for_codepoint(cp)
            if i < 0:
                if is_ignorable(ch) or _is_control(ch):
                    i = prev if prev >= 0 else 0
                else:
                    missing += 1
            fonts.append(i)
        return fonts, missing

    def count_missing(self, text: str) -> int:
        """How many characters of `text` no font of the chain holds (controls and default
        ignorables never count)."""
        missing = 0
        known = self._missing_of
        for ch in set(text):
            gone = known.get(ch)
            if gone is None:
                gone = known[ch] = not (is_ignorable(ch) or _is_control(ch)) and self.font_for_codepoint(ord(ch)) < 0
            if gone:
                missing += text.count(ch)
        return missing

    def _color_font_for(self, cp: int) -> int:
        i = self._color_font_of.get(cp)
        if i is None:
            i = next((j for j in range(len(self.files)) if self.is_color(j) and self.covers(j, cp)), -1)
            self._color_font_of[cp] = i
        return i


def _is_control(ch: str) -> bool:
    """C0 and C1 controls: shaped as the text around them (tabs, line breaks), never counted missing."""
    return unicodedata.category(ch) == "Cc"
