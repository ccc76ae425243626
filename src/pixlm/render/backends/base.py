"""What a rendering backend provides: lines of text laid out, measured and drawn.

A `Line` is one paragraph of text as a backend lays it out, the counterpart of a Pango layout
in PIXEL's renderer: its logical width and height in whole pixels, where each character went,
and a way to draw it at a pen position. The layouts (`pixlm.render.layouts`) place lines on a
strip by PIXEL's rules; the backends only lay out and draw.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod

import numpy as np

from ..config import RendererConfig
from ..fonts import FontChain
from ..text import bidi_levels, is_one_piece, needs_bidi

# Characters that a piece cache cannot handle: a tab's width depends on where it falls, a line
# break starts a new line, and a NUL ends the text as Pango sees it.
WHOLE_LINE = re.compile("[\t\r\n\x00\u2028\u2029]")


class Line(ABC):
    """A laid-out line. Coordinates are pixels from the line's pen origin, left to right.

    `complete` is False when a backend laid out only the start of a long text (see
    `Backend.line`'s `limit`); its `width` is then at least the limit asked for.
    """

    text: str
    width: int
    height: int
    missing: int = 0
    complete: bool = True
    direction: str = "auto"

    @abstractmethod
    def draw(self, canvas: np.ndarray, x: int, clip: float | None = None, over: bool = False) -> None:
        """Draw at pen position x, its top where PIXEL puts a layout (p/2 - height/2 - 2);
        nothing at or right of column `clip`. `over`: the canvas may hold ink where this line
        goes (lines side by side), so its ink must be composited, not placed."""

    @abstractmethod
    def char_extents(self) -> tuple[np.ndarray, np.ndarray]:
        """Each laid-out character's logical [x0, x1), float32 arrays; the characters of one
        cluster (a ligature, a base and its marks) share its extent."""

    def char_centres(self) -> np.ndarray:
        """The centre of each laid-out character (of its cluster), in text order; NaN for
        characters not laid out. May stop before the text's end where the line does."""
        x0, x1 = self.char_extents()
        return (x0 + x1) / 2

    def offset_positions(self) -> tuple[list[float], list[float]]:
        """The x where each character and each cluster starts, in the order Pango's layout
        iterator visits them: clusters from left to right (visual order), a cluster's
        characters in text order, each given an equal share of it (PIXEL's offset mapping is
        built from these)."""
        x0, x1 = self.char_extents()
        clusters: list[tuple[float, float, int]] = []  # (x0, x1, characters), text order
        k, n = 0, len(x0)
        while k < n:
            if np.isnan(x0[k]):
                break  # characters past a NUL are not laid out
            j = k + 1
            while j < n and x0[j] == x0[k] and x1[j] == x1[k]:
                j += 1
            clusters.append((float(x0[k]), float(x1[k]), j - k))
            k = j
        clusters.sort(key=lambda c: c[0])  # left to right; a no-op for left-to-right text
        # Pango gives the characters of a cluster equal shares of it, in its units (1/1024 px),
        # dividing as C does.
        chars = [a + int((b - a) * 1024 * i / count) / 1024 for a, b, count in clusters for i in range(count)]
        return chars, [a for a, _, _ in clusters]

    def start_positions(self, indices: list[int]) -> np.ndarray:
        """Where each of the given characters starts as it reads: its left edge, or its right
        edge (less a hair, so the pixel is its own) if it reads right to left."""
        x0, x1 = self.char_extents()
        idx = np.asarray(indices, np.int64)
        if not len(idx):
            return np.zeros(0, np.float32)
        starts = x0[idx].copy()
        if self.direction != "auto" or needs_bidi(self.text):
            rtl = np.asarray(bidi_levels(self.text, self.direction))[idx] % 2 == 1
            starts[rtl] = x1[idx][rtl] - 1e-3
        return starts

    def end_of(self, k: int) -> float:
        """Where the first k characters end (the trailing edge of character k - 1)."""
        return float(self.char_extents()[1][k - 1]) if k else 0.0

    def fit_end(self, room: float) -> tuple[int, float]:
        """`fit(room)`, and where those characters end (`end_of`)."""
        k = self.fit(room)
        return k, self.end_of(k)

    def fit(self, room: float) -> int:
        """How many leading characters end within `room` pixels, whole clusters only."""
        x0, x1 = self.char_extents()
        fit = int(np.searchsorted(x1, room + 1e-6, side="right")) if len(x1) and (np.diff(x1) >= 0).all() else \
            int((x1 <= room + 1e-6).cumprod().sum())
        while 0 < fit < len(x0) and x0[fit] < x1[fit - 1] - 1e-3:
            fit -= 1  # the next character shares a cluster (a ligature, a mark) with the last
        return fit


class Run:
    """A drawn piece of text: coverage `ink` (height, width) in grayscale or premultiplied RGBA
    (height, width, 4) in RGB mode, with the pen starting at column `origin` (the columns before
    it hold overhangs) and moving `advance` whole pixels; `char_x0`/`char_x1` are each
    character's extent along the pen."""

    __slots__ = ("ink", "origin", "advance", "char_x0", "char_x1", "missing")

    def __init__(self, ink, origin, advance, char_x0, char_x1, missing=0):
        self.ink, self.origin, self.advance = ink, origin, advance
        self.char_x0, self.char_x1, self.missing = char_x0, char_x1, missing


class Backend(ABC):
    """Lays out and draws lines of text; layouts, pairs, padding and patches are the layouts'."""

    name: str = ""

    def __init__(self, config: RendererConfig, fonts: FontChain):
        self.config = config
        self.fonts = fonts
        self.height = config.patch_size
        self.pieces = None  # a PieceCache, in backends that draw left-to-right text word by word
        self.composite_over = False  # how ink meets ink: see `composite`
        self._one_piece_lines: dict[str, Line] = {}

    @abstractmethod
    def line(self, text: str, direction: str = "auto", limit: float | None = None) -> Line:
        """Lay out `text` as one line, a paragraph whose direction is `auto` (from its first
        strong character, left to right without one), `rtl` (right to left whatever it holds:
        PIXEL's layouts for pairs of right-to-left texts) or `auto-rtl` (from its first strong
        character, right to left without one: a layout PIXEL makes in a right-to-left context
        without setting its direction). With `limit`, a backend may lay out only a start wider
        than `limit` pixels."""

    def canvas(self) -> np.ndarray:
        """A blank strip to draw lines on: white paper, (p, W) or (p, W, 3) uint8."""
        cfg = self.config
        strip = np.empty((cfg.patch_size, cfg.width) + ((3,) if cfg.rgb else ()), np.uint8)
        strip.fill(255)  # np.full does the same in Python around it
        return strip

    def pixels(self, canvas: np.ndarray) -> np.ndarray:
        """The canvas as the strip's pixels: uint8 (p, W) or (p, W, 3), white paper, black ink."""
        return canvas

    def piece_line(self, text: str, limit: float | None = None) -> Line | None:
        """`text` drawn from the backend's cache of drawn words (`pieces.PieceCache`), or None
        where it must be laid out whole: right-to-left or mixed-direction text, tabs, line
        breaks, NULs."""
        line = self._one_piece_lines.get(text)  # a word of a word list, or a bigram's character, seen before
        if line is not None:
            return line
        if not (text.isascii() and text.isprintable()) and (needs_bidi(text) or WHOLE_LINE.search(text)):
            return None
        line = self.pieces.line(text, limit)
        # Only a line of the whole text answers for it later: a long word drawn as far as a
        # limit reaches is one piece too, and must not stand for the word when it is asked whole.
        if len(line.pieces) == 1 and line.complete and is_one_piece(text) and self.config.cache_size:
            if len(self._one_piece_lines) >= self.config.cache_size:
                self._one_piece_lines.clear()
            self._one_piece_lines[text] = line
        return line

    def chars_within(self, width: float) -> int:
        """A generous count of the characters that fill `width` pixels (0.45 em each, narrower
        than most text): how much of a long text to lay out to draw as far as `width`."""
        return max(64, int(width / (0.45 * self.config.font_px)))

    def line_metrics(self) -> tuple[int, int]:
        """Ascent and descent in whole pixels of the first font of the chain, rounded up as
        FreeType does with hinted metrics (so the line height is what Pango reports)."""
        info = self.fonts.info(0)
        scale = pango_size(self.config.font_px) / 1024 / info.units_per_em
        return math.ceil(info.ascender * scale - 1e-9), math.ceil(-info.descender * scale - 1e-9)


def composite(target: np.ndarray, paper: np.ndarray, over: bool) -> None:
    """Put `paper` (ink on white) onto `target` (the same, a view of a strip) in place: as Cairo
    draws black text OVER what is there, to the rounding (`over`), or keeping the darker of the
    two at each pixel."""
    if not over:
        np.minimum(target, paper, out=target)
        return
    # Coverage m = 255 - paper joins coverage d = 255 - target as m + d (255 - m) / 255, the
    # product rounded as pixman rounds it; on paper: paper - round(d * paper / 255).
    t = (255 - target.astype(np.int32)) * paper + 128
    target[...] = paper - ((t + (t >> 8)) >> 8)


def pango_size(font_px: float) -> int:
    """A pixel size as Pango stores it after parsing "<family> <size>px": 1/1024 px units."""
    return int(font_px * 1024 + 0.5)


def line_top(patch_size: int, height: int) -> float:
    """Where PIXEL puts the top of a layout `height` pixels high: centred, 2 pixels up."""
    return patch_size / 2.0 - height / 2.0 - 2


def rgba_to_ink(rgba: np.ndarray, rgb: bool) -> np.ndarray:
    """Premultiplied RGBA to the strip's ink: RGBA kept in RGB mode, darkness over white otherwise."""
    if rgb:
        return rgba
    c = rgba.astype(np.int32)
    # Over white a premultiplied pixel shows c + 255 - a; its darkness is a - luminance(c).
    lum_premul = (c[..., 0] * 77 + c[..., 1] * 150 + c[..., 2] * 29) >> 8
    return (c[..., 3] - lum_premul).clip(0, 255).astype(np.uint8)


def alpha_to_ink(alpha: np.ndarray, rgb: bool) -> np.ndarray:
    """Coverage of black text as the strip's ink (black premultiplied RGBA in RGB mode)."""
    if not rgb:
        return alpha
    out = np.zeros(alpha.shape + (4,), np.uint8)
    out[..., 3] = alpha
    return out
