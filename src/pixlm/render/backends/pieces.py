"""Left-to-right text from a cache of drawn words.

A text without right-to-left characters, tabs or line breaks is cut into pieces, each word
with the whitespace before it (`text.piece_keys`). A piece is shaped and drawn once and kept
(`PieceCache`); a line is its pieces side by side, each at the pen where the one before it
ended. With whole-pixel advances (Pango's rounding) that is where shaping the whole line puts
every glyph, so a repeated word costs a copy.

Long texts are laid out only as far as they can be seen, and pasted with one gather from a
`PieceAtlas` of the cached pieces.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import abc
from itertools import repeat
from operator import attrgetter

import numpy as np

from ..atlas import ADVANCE, AT, CHARS, FIRST_VISIBLE, INK_START, LEFT, MISSING, WIDTH, PieceAtlas
from ..text import end_of_word, is_one_piece, piece_keys, spaced_words
from .base import Line, composite

# First guess of the mean advance of a character, in em, when laying out only the part of a
# long text that can be seen: about right for Latin, half of CJK's (which then shrinks once).
_GUESS_ADVANCE_EM = 0.45
# The piece count from which pasting checks overlaps for all pieces at once.
_BULK_MIN = 24
# Texts of this many characters or more words than this take the path for long texts.
_LONG_CHARS, _LONG_WORDS = 512, 48
# A piece longer than this (a "word" of thousands of characters) is drawn only as far as it
# can be seen, and not cached.
_HUGE_PIECE = 400
_SLOT = attrgetter("slot")


class WholeLineOnly(Exception):
    """Raised by a backend's `run` for a piece that cannot be drawn on its own: the line it
    belongs to must be laid out whole."""


class Piece:
    """A drawn piece of text as it is pasted: over white, cut to its inked columns."""

    __slots__ = ("image", "left", "advance", "char_x0", "char_x1", "centre", "missing", "first_visible", "slot", "width",
                 "chars", "ink_start", "geometry")

    def __init__(self, image: np.ndarray, left: int, advance: int, char_x0: np.ndarray, char_x1: np.ndarray,
                 missing: int = 0, first_visible: int = 0):
        self.image = image  # (p, w) or (p, w, 3) uint8; w may be 0 (a space)
        self.left = left  # column of image[:, 0], relative to the pen position where the piece starts
        self.advance = advance
        self.char_x0, self.char_x1 = char_x0, char_x1  # each character's extent from the piece's start
        self.missing = missing
        # Index of the first character that is not whitespace (a piece starts with the
        # whitespace before its word), and where it starts: the word's start.
        self.first_visible = first_visible
        self.slot = -1  # its row in the PieceAtlas; -1 while it is not there
        self.width = image.shape[1]
        n = self.chars = len(char_x0)
        self.ink_start = max(int(char_x0[first_visible]), 0) if first_visible < n else 0
        self.geometry = (advance, missing, self.ink_start, self.width, left, n, first_visible)
        self.centre = (char_x0 + char_x1) / 2

    def paste(self, canvas: np.ndarray, x: int, clip: float | None = None, rows: int = 0, over: bool = False) -> None:
        """Composite this piece onto the canvas (see `base.composite`), its pen at column x;
        nothing at or past `clip`; moved down `rows` rows (up if negative)."""
        width = self.width
        if not width:
            return
        lo = x + self.left
        end = canvas.shape[1] if clip is None else min(canvas.shape[1], int(math.ceil(clip)))
        a, b = max(lo, 0), min(lo + width, end)
        if b <= a:
            return
        image = self.image[:, a - lo : b - lo]
        if rows:
            h = canvas.shape[0]
            if abs(rows) >= h:
                return
            if rows > 0:
                target, image = canvas[rows:, a:b], image[: h - rows]
            else:
                target, image = canvas[: h + rows, a:b], image[-rows:]
        else:
            target = canvas[:, a:b]
        if over:
            composite(target, image, over)
        else:
            np.minimum(target, image, out=target)  # `composite` without over, without its call


def piece_from_run(run, rgb: bool, text: str = "") -> Piece:
    """A backend's drawn run as a piece: cut to its inked columns, over white."""
    ink = run.ink
    coverage = ink if ink.ndim == 2 else ink[..., 3]
    cols = np.flatnonzero(coverage.any(axis=0))
    if len(cols):
        a, b = int(cols[0]), int(cols[-1]) + 1
        ink, left = ink[:, a:b], a - run.origin
    else:
        ink, left = ink[:, :0], 0
    if rgb:
        image = (ink[..., :3].astype(np.int16) + 255 - ink[..., 3:].astype(np.int16)).clip(0, 255).astype(np.uint8)
    else:
        image = 255 - ink
    first_visible = len(text) - len(text.lstrip())
    return Piece(np.ascontiguousarray(image), left, int(run.advance), run.char_x0, run.char_x1, run.missing, first_visible)


class AtlasPieces(abc.Sequence):
    """Pieces named by their atlas slots, each looked up when it is used."""

    __slots__ = ("slots", "table")

    def __init__(self, slots: np.ndarray, table: list[Piece]):
        self.slots, self.table = slots, table

    def __len__(self) -> int:
        return len(self.slots)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return AtlasPieces(self.slots[index], self.table)
        return self.table[self.slots[index]]

    def __iter__(self):
        return map(self.table.__getitem__, self.slots.tolist())


class PieceLine(Line):
    """A left-to-right line of pieces, each at the pen where the last one ended."""

    def __init__(self, text: str, pieces, xs, height: int, complete: bool, cache: "PieceCache",
                 geometry: np.ndarray | None = None, width: int | None = None, missing: int = 0):
        self.text = text
        self.pieces = pieces
        self.xs = xs  # pen of each piece (ints, from 0)
        self.height = height
        self.complete = complete
        self._cache = cache
        self._geometry = geometry  # their atlas rows (advance, missing, ink_start, width, left, chars, first_visible, at)
        if geometry is not None:
            self.width = int(xs[-1] + geometry[-1, ADVANCE]) if len(pieces) else 0
            self.missing = int(geometry[:, MISSING].sum()) if len(pieces) else 0
        else:  # measured by the caller
            self.width, self.missing = width, missing
        self._extents = None

    @property
    def geometry(self) -> np.ndarray:
        if self._geometry is None:
            self._geometry = self._cache.geometry_of(self.pieces)
        return self._geometry

    def draw(self, canvas: np.ndarray, x: int, clip: float | None = None, over: bool = False) -> None:
        n = len(self.pieces)
        if not n:
            return
        end = canvas.shape[1] if clip is None else min(canvas.shape[1], int(math.ceil(clip)))
        composited = self._cache.over
        if over:  # ink may be there already: every piece is composited
            if n == 1:
                self.pieces[0].paste(canvas, x + self.xs[0], clip, over=composited)
                return
            for piece, pen in zip(self.pieces, self.xs):
                piece.paste(canvas, x + pen, clip, over=composited)
            return
        if n < _BULK_MIN:
            inked_to = 0  # columns before this may hold ink already
            for piece, pen in zip(self.pieces, self.xs):
                width = piece.width
                if not width:
                    continue
                a = x + pen + piece.left
                if a >= inked_to and a >= 0 and a + width <= end:
                    canvas[:, a : a + width] = piece.image  # white there, so placing is darkening
                    inked_to = a + width
                else:
                    piece.paste(canvas, x + pen, clip, over=composited)
                    inked_to = max(inked_to, a + width)
            return
        self._draw_many(canvas, x, end, clip)

    def _draw_many(self, canvas: np.ndarray, x: int, end: int, clip: float | None) -> None:
        """One gather from the atlas where the pieces do not overlap (the canvas is white there,
        so placing equals darkening), else darkening piece by piece."""
        xs = np.asarray(self.xs, np.int64) + x
        geometry = self.geometry
        widths, lefts, at = geometry[:, WIDTH].astype(np.int64), geometry[:, LEFT].astype(np.int64), geometry[:, AT]
        lo = xs + lefts
        # Pieces wholly before the end, and the columns of the one the end cuts.
        keep = int(np.searchsorted(lo, end, side="left"))
        if keep:
            widths = widths[:keep].copy()
            widths[-1] = max(0, min(widths[-1], end - lo[keep - 1]))
            lo, at = lo[:keep], at[:keep]
            atlas = self._cache.atlas
            if lo[0] >= 0 and atlas is not None and at.min() >= 0:
                if atlas.paste(canvas, lo, at.astype(np.int64), widths):
                    return
        for k, piece in enumerate(self.pieces[:keep] if keep else []):
            piece.paste(canvas, int(xs[k]), clip if clip is not None else end, over=self._cache.over)

    def char_extents(self) -> tuple[np.ndarray, np.ndarray]:
        if self._extents is None:
            n = len(self.text)
            x0 = np.full(n, np.nan, np.float32)
            x1 = np.full(n, np.nan, np.float32)
            if len(self.pieces):
                counts = self.geometry[:, CHARS].astype(np.int64)
                total = int(counts.sum())
                shift = np.repeat(np.asarray(self.xs, np.float32), counts)
                pieces = list(self.pieces)
                x0[:total] = np.concatenate([p.char_x0 for p in pieces]) + shift
                x1[:total] = np.concatenate([p.char_x1 for p in pieces]) + shift
            self._extents = (x0, x1)
        return self._extents

    def char_centres(self) -> np.ndarray:
        if self._extents is not None or not len(self.pieces):
            return super().char_centres()
        counts = self.geometry[:, CHARS].astype(np.int64)
        return np.concatenate([p.centre for p in self.pieces]) + np.repeat(np.asarray(self.xs, np.float32), counts)

    def fit(self, room: float) -> int:
        # The pieces that end within room count whole; the next one is cut by its characters.
        geometry = self.geometry
        if not len(geometry):
            return 0
        ends = np.asarray(self.xs, np.float64) + geometry[:, ADVANCE]
        whole = int(np.searchsorted(ends, room + 1e-6, side="right"))
        chars = geometry[:, CHARS]
        before = int(chars[:whole].sum())
        if whole == len(geometry):
            return before
        cut = self.pieces[whole]
        local = room - float(self.xs[whole])
        fit = bisect_right(cut.char_x1, local + 1e-6)
        while 0 < fit < cut.chars and cut.char_x0[fit] < cut.char_x1[fit - 1] - 1e-3:
            fit -= 1  # the next character shares a cluster (a ligature, a mark) with the last
        return before + fit

    def fit_end(self, room: float) -> tuple[int, float]:
        geometry = self.geometry
        if not len(geometry):
            return 0, 0.0
        xs = self.xs
        ends = xs + geometry[:, ADVANCE]
        whole = int(ends.searchsorted(room + 1e-6, side="right"))
        before = int(geometry[:whole, CHARS].sum())
        if whole < len(geometry):
            cut = self.pieces[whole]
            fit = bisect_right(cut.char_x1, room - float(xs[whole]) + 1e-6)
            while 0 < fit < cut.chars and cut.char_x0[fit] < cut.char_x1[fit - 1] - 1e-3:
                fit -= 1
            if fit:
                return before + fit, float(xs[whole]) + float(cut.char_x1[fit - 1])
        if not before:
            return 0, 0.0
        j = whole - 1
        while not geometry[j, CHARS]:  # the last piece holding a character
            j -= 1
        last = self.pieces[j]
        return before, float(xs[j]) + float(last.char_x1[last.chars - 1])

    def end_of(self, k: int) -> float:
        if not k:
            return 0.0
        counts = np.cumsum(self.geometry[:, CHARS])
        j = int(np.searchsorted(counts, k, side="left"))  # the piece holding character k - 1
        first = int(counts[j - 1]) if j else 0
        return float(self.xs[j]) + float(self.pieces[j].char_x1[k - 1 - first])

    def word_starts(self) -> tuple[np.ndarray, np.ndarray]:
        """Each word's first character and the x where it starts (a piece of only whitespace,
        the end of a text, holds no word)."""
        if not len(self.pieces):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        geometry = self.geometry
        chars, first = geometry[:, CHARS].astype(np.int64), geometry[:, FIRST_VISIBLE].astype(np.int64)
        words = first < chars
        starts = np.cumsum(chars) - chars + first
        xs = np.asarray(self.xs, np.int64) + geometry[:, INK_START].astype(np.int64)
        return starts[words], xs[words]


class PieceCache:
    """Drawn pieces by their text, oldest first out, mirrored in a `PieceAtlas`."""

    # Atlas slots of evicted pieces tolerated (beyond 3x the live ones) before it is packed again.
    atlas_slack = 1 << 16
    # The pixels the cache may hold, whatever `cache_size` (its entries) says: words are small,
    # but a corpus of long pieces must not grow a process without bound.
    max_bytes = 256 << 20

    def __init__(self, backend, config):
        self.backend = backend
        self.over = backend.composite_over
        self.size = config.cache_size
        self.rgb = config.rgb
        self.height = config.patch_size
        self.white = config.width
        self.cache: dict = {}
        self.bytes = 0  # pixels of the cached pieces
        self.atlas: PieceAtlas | None = None
        self.atlas_live = 0  # atlas slots of pieces still in the cache
        self.slots: dict[str, int] = {}  # text -> atlas slot, for cached text pieces
        self.spaced: dict[str, int] = {}  # the same for texts " " + word, by the word
        self.slot_pieces: list[Piece] = []  # atlas slot -> piece
        # Mean advance per character of the last long text: how much of the next one to search.
        self.px_per_char = _GUESS_ADVANCE_EM * config.font_px

    # -- the cache ----------------------------------------------------------------------------
    def piece(self, text: str) -> Piece:
        """The drawn piece for `text`, from the cache when it was drawn before."""
        piece = self.cache.get(text)
        if piece is None:
            piece = piece_from_run(self.backend.run(text), self.rgb, text)
            self.remember(text, piece)
        return piece

    def remember(self, key, piece: Piece) -> None:
        if not self.size or piece.image.nbytes > self.max_bytes:
            return
        while self.cache and (len(self.cache) >= self.size or self.bytes + piece.image.nbytes > self.max_bytes):
            self._forget_oldest()
        self.cache[key] = piece
        self.bytes += piece.image.nbytes
        self._add_to_atlas(piece)
        if isinstance(key, str):
            self.slots[key] = piece.slot
            if key.startswith(" "):
                self.spaced[key[1:]] = piece.slot

    def _forget_oldest(self) -> None:
        gone_key = next(iter(self.cache))  # oldest first
        gone = self.cache.pop(gone_key)
        self.bytes -= gone.image.nbytes
        self.slots.pop(gone_key, None)
        if isinstance(gone_key, str) and gone_key.startswith(" "):
            self.spaced.pop(gone_key[1:], None)
        if gone.slot >= 0:
            self.atlas_live -= 1
            gone.slot = -1  # its slot may be reused; a text holding it takes the slow path

    def _add_to_atlas(self, piece: Piece) -> None:
        atlas = self.atlas
        if atlas is None:
            atlas = self.atlas = PieceAtlas(self.height, self.rgb, white=self.white)
        elif (atlas.count > 4 * self.atlas_live + self.atlas_slack  # mostly slots of evicted pieces
              or (atlas.used - atlas.white) * atlas.columns.strides[0] > 2 * self.bytes + self.max_bytes // 4):  # ... or pixels
            live = [(key, pc) for key, pc in self.cache.items() if pc.slot >= 0]
            for (_, pc), slot in zip(live, atlas.compact([(pc.image, pc.geometry) for _, pc in live])):
                pc.slot = slot
            self.slot_pieces = [pc for _, pc in live]
            self.slots = {key: pc.slot for key, pc in live if isinstance(key, str)}
            self.spaced = {key[1:]: slot for key, slot in self.slots.items() if key.startswith(" ")}
        piece.slot = atlas.add(piece.image, piece.geometry)
        self.slot_pieces.append(piece)
        self.atlas_live += 1

    # -- lines --------------------------------------------------------------------------------
    def line(self, text: str, limit: float | None = None) -> PieceLine:
        """`text` as pieces side by side; with `limit`, only as many as reach past it."""
        height = self.backend.line_height
        if is_one_piece(text):
            # At most one word (a word list's "word "): one piece, shaped whole.
            piece = self.cache.get(text) or self.piece(text)
            return PieceLine(text, [piece], [0], height, True, self, None, piece.advance, piece.missing)
        keys = piece_keys(text) if len(text) < _LONG_CHARS else None
        if keys is not None and len(keys) <= _LONG_WORDS:
            pieces = [self.cache.get(k) or self.piece(k) for k in keys]
            drawn_to = len(text.rstrip()) if keys else 0
            if drawn_to < len(text):  # whitespace after the last word moves the pen
                pieces.append(self.piece(text[drawn_to:]))
            xs, pen, missing = [], 0, 0
            for pc in pieces:
                xs.append(pen)
                pen += pc.advance
                missing += pc.missing
            return PieceLine(text, pieces, xs, height, True, self, None, pen, missing)
        pieces, drawn_to = self._pieces_filling(text, limit)
        complete = drawn_to >= len(text.rstrip())
        if complete and drawn_to < len(text):
            pieces = list(pieces)  # named before drawing, which may re-pack the atlas
            pieces.append(self.piece(text[drawn_to:]))
        geometry = self.geometry_of(pieces)
        adv = geometry[:, ADVANCE]
        xs = (np.cumsum(adv) - adv).astype(np.int64)
        return PieceLine(text, pieces, xs, height, complete, self, geometry)

    def _pieces_filling(self, text: str, limit: float | None):
        """The leading pieces of a text (each word with the whitespace before it) until their
        advances pass `limit` or the text ends, and where the last one ends. The text is
        searched in windows of about the characters that fit; while every piece is in the
        atlas, pieces are named by their slots alone."""
        room = math.inf if limit is None else limit
        slot_blocks: list[np.ndarray] = []
        pieces: list[Piece] | None = None  # once some piece had to be drawn
        pos, used = 0, 0.0
        while pos < len(text) and used <= room:
            window = int((room - used) / self.px_per_char) + 16 if room < math.inf else len(text)
            chunk = text[pos : end_of_word(text, pos + window)]
            slots = None if pieces is not None else self.atlas_slots(chunk)
            if slots is not None:
                if not len(slots):
                    break
                slot_blocks.append(slots)
                used += float(self.atlas.geometry[slots, ADVANCE].sum())
            else:
                if pieces is None:  # name the pieces so far while their slots still hold (drawing may move them)
                    pieces = [self.slot_pieces[s] for block in slot_blocks for s in block.tolist()]
                keys = piece_keys(chunk)
                if not keys:
                    break
                block, cut = [], False
                for k in keys:
                    if len(k) > _HUGE_PIECE and room < math.inf:
                        piece = self._visible_start(k, room - used)
                        cut = piece.chars < len(k)
                    else:
                        piece = self.cache.get(k) or self.piece(k)
                    block.append(piece)
                    used += piece.advance
                    if cut:
                        break
                pieces += block
                if cut:  # a huge word drawn only as far as it shows: the text ends there
                    pos += sum(pc.chars for pc in block)
                    break
            pos += len(chunk.rstrip())  # to the end of its last word (`str.isspace` is what `\s` matches)
        if pos and used:
            self.px_per_char = used / pos
        if pieces is None:
            slots = np.concatenate(slot_blocks) if len(slot_blocks) > 1 else slot_blocks[0] if slot_blocks else np.zeros(0, np.intp)
            pieces = AtlasPieces(slots, self.slot_pieces)
        return pieces, pos

    def _visible_start(self, key: str, room: float) -> Piece:
        """A piece of a huge word drawn only until it passes `room` pixels (not cached)."""
        k = max(16, int(room / (0.2 * self.backend.config.font_px)))
        while True:
            piece = piece_from_run(self.backend.run(key[:k]), self.rgb, key[:k])
            if piece.advance > room or k >= len(key):
                return piece
            k *= 2

    def atlas_slots(self, chunk: str) -> np.ndarray | None:
        """The atlas slots of the pieces of `chunk` (as `piece_keys` cuts it), or None if some
        piece is not in the atlas."""
        if self.atlas is None:
            return None
        words = spaced_words(chunk)
        if words is not None:  # pieces " " + word found by the word; the text's first word is its own key
            slots = np.fromiter(map(self.spaced.get, words, repeat(-1)), np.intp, len(words))
            if words and words[0]:
                slots[0] = self.slots.get(words[0], -1)
            else:
                slots = slots[1:]
        else:
            keys = piece_keys(chunk)
            slots = np.fromiter(map(self.slots.get, keys, repeat(-1)), np.intp, len(keys))
        return slots if not len(slots) or slots.min() >= 0 else None

    def geometry_of(self, pieces) -> np.ndarray:
        """The pieces' rows of the atlas table (advance, missing, lead, width, left, characters,
        at)."""
        if isinstance(pieces, AtlasPieces):
            return self.atlas.geometry.take(pieces.slots, axis=0)  # several times faster than [slots]
        slots = np.fromiter(map(_SLOT, pieces), np.int64, len(pieces))
        if len(slots) and slots.min() >= 0:
            return self.atlas.geometry.take(slots, axis=0)
        # Some piece is not in the atlas (no cache, a huge word, or it was evicted meanwhile).
        rows = np.empty((len(pieces), AT + 1), np.float64)
        for k, pc in enumerate(pieces):
            rows[k] = self.atlas.geometry[pc.slot] if pc.slot >= 0 else pc.geometry + (-1,)
        return rows
